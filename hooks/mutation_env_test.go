package hooks_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// LECTERN_RULE_MUTATION=collection:action:rule replaces one access rule of the
// fixture with rule ("null" for superusers only) before any test runs: an
// extra migration, sorted after every real one, that testkit.Build applies
// like the others. reliability.TestRuleMutations sets it to loosen each rule
// in turn and expects TestAuthzMatrix to fail. Unset, this file does nothing.
func init() {
	spec := os.Getenv("LECTERN_RULE_MUTATION")
	if spec == "" {
		return
	}
	collection, rest, ok := strings.Cut(spec, ":")
	action, rule, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		panic(fmt.Sprintf("LECTERN_RULE_MUTATION=%q: want collection:action:rule", spec))
	}
	var newRule *string
	if rule != "null" {
		newRule = &rule
	}
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId(collection)
		if err != nil {
			return err
		}
		switch action {
		case "list":
			c.ListRule = newRule
		case "view":
			c.ViewRule = newRule
		case "create":
			c.CreateRule = newRule
		case "update":
			c.UpdateRule = newRule
		case "delete":
			c.DeleteRule = newRule
		default:
			return fmt.Errorf("LECTERN_RULE_MUTATION: unknown action %q", action)
		}
		return app.Save(c)
	}, nil, "1999999999_lectern_rule_mutation.go")
}
