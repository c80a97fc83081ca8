package apidocs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHintsMatchTheMigratedRules keeps the plain-English table honest: a
// migration that changes a rule must update its hint here (until then the
// docs show the bare rule, flagged as changed).
func TestHintsMatchTheMigratedRules(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()
	actions := []string{actionList, actionView, actionCreate, actionUpdate, actionDelete}
	for _, name := range lecternCollections {
		c, err := app.FindCollectionByNameOrId(name)
		require.NoError(t, err)
		rules := []*string{c.ListRule, c.ViewRule, c.CreateRule, c.UpdateRule, c.DeleteRule}
		for i, a := range actions {
			h, ok := hints[name+":"+a]
			if !assert.True(t, ok, "no hint for %s:%s", name, a) {
				continue
			}
			if assert.NotNil(t, rules[i], "%s:%s", name, a) {
				assert.Equal(t, *rules[i], h.rule, "%s:%s: the hint was written for another rule", name, a)
			}
		}
	}
	assert.Len(t, hints, len(lecternCollections)*len(actions))
}

func TestWhoMayCall(t *testing.T) {
	assert.Contains(t, whoMayCall("posts", actionDelete, nil), "superusers only")
	assert.Contains(t, whoMayCall("glossary", actionList, ptr("")), "anyone")
	assert.Contains(t, whoMayCall("users", actionView, ptr("")), "public profile")

	d := whoMayCall("posts", actionUpdate, ptr(postOwner))
	assert.Contains(t, d, "The post's author or an admin.")
	assert.Contains(t, d, "Rule: `"+postOwner+"`")
	assert.Contains(t, d, "404")

	changed := whoMayCall("posts", actionUpdate, ptr(`@request.auth.id != ""`))
	assert.NotContains(t, changed, "The post's author", "a hint for another rule is not shown")
	assert.Contains(t, changed, "changed from Lectern's default")
	assert.Contains(t, whoMayCall("posts", actionCreate, ptr(`@request.auth.id != ""`)), "Failed to create record.")
}
