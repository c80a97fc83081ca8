// Invalidation: which writes bump the generation, and the rule check that
// turns caching off while a rule depends on something outside the key.
// (Other processes' writes: external.go.)

package cache

import (
	"regexp"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// privateTables hold nothing a guest can read, directly or through a rule.
var privateTables = map[string]bool{
	core.CollectionNameSuperusers:    true,
	core.CollectionNameMFAs:          true,
	core.CollectionNameOTPs:          true,
	core.CollectionNameAuthOrigins:   true,
	core.CollectionNameExternalAuths: true,
	core.LogsTableName:               true,
}

func (c *Cache) affectsPublic(m core.Model) bool {
	return !privateTables[m.TableName()]
}

// Bump invalidates every stored response.
func (c *Cache) Bump() {
	c.gen.Add(1)
	c.bumps.Add(1)
	c.mu.Lock()
	clear(c.items)
	c.lru.Init()
	c.bytes = 0
	c.mu.Unlock()
}

// ruleMacro finds the @-identifiers of a rule or filter.
var ruleMacro = regexp.MustCompile(`@[A-Za-z_][A-Za-z0-9_.]*`)

// guestConstant reports whether an @-identifier in a rule evaluates the same
// for every guest request of the same path and query.
func guestConstant(ident string) bool {
	for _, p := range []string{"@request.auth.", "@collection.", "@request.query."} {
		if strings.HasPrefix(ident, p) {
			return true
		}
	}
	return ident == "@request.method" || ident == "@request.context"
}

// checkRules turns caching off while any collection's list or view rule
// depends on something outside the key: request headers or body, the clock
// (@now, @todayStart…), randomness. Expand and rule joins can reach any
// collection, so all of them are checked.
func (c *Cache) checkRules(app core.App) {
	why := ""
	cols, err := app.FindAllCollections()
	if err != nil {
		why = "cannot read the collections' rules: " + err.Error()
	}
	for _, col := range cols {
		for _, rule := range []*string{col.ListRule, col.ViewRule} {
			if rule == nil {
				continue
			}
			for _, ident := range ruleMacro.FindAllString(*rule, -1) {
				if !guestConstant(ident) && why == "" {
					why = "the rules of " + col.Name + " use " + ident
				}
			}
		}
	}
	c.unsafe.Store(&why)
}
