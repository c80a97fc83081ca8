package migrations_test

import (
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "lectern/migrations"
)

func presentable(f core.Field) bool {
	switch f := f.(type) {
	case *core.TextField:
		return f.Presentable
	case *core.EmailField:
		return f.Presentable
	case *core.SelectField:
		return f.Presentable
	}
	return false
}

// The dashboard's forms and relation pickers read these settings: an owner
// field's help must be true for the superuser filling it in there, and a user
// in a picker must be recognisable by more than a name.
func TestDashboardOwnerFields(t *testing.T) {
	app, err := tests.NewTestApp()
	require.NoError(t, err)
	defer app.Cleanup()
	require.NoError(t, app.RunAllMigrations())

	check := func(up bool) {
		t.Helper()
		for collection, field := range map[string]string{"posts": "author", "comments": "author", "courses": "instructor", "enrollments": "user", "reviews": "user"} {
			c, err := app.FindCollectionByNameOrId(collection)
			require.NoError(t, err)
			f := c.Fields.GetByName(field).(*core.RelationField)
			assert.True(t, f.Required, "%s.%s stays required: a superuser must pick one", collection, field)
			if up {
				assert.True(t, strings.HasPrefix(f.Help, "API: set by the server"), f.Help)
				assert.Contains(t, f.Help, "Dashboard: pick")
			} else {
				assert.True(t, strings.HasPrefix(f.Help, "Set by the server"), f.Help)
			}
		}
		users, err := app.FindCollectionByNameOrId("users")
		require.NoError(t, err)
		for _, name := range []string{"name", "email", "role"} {
			assert.Equal(t, up || name == "name", presentable(users.Fields.GetByName(name)), name)
		}
	}
	check(true)

	// down restores what was there (called directly: later migrations may follow it)
	var down func(core.App) error
	for _, m := range core.AppMigrations.Items() {
		if m.File == "1795648000_dashboard_owner_fields.go" {
			down = m.Down
		}
	}
	require.NotNil(t, down)
	require.NoError(t, down(app))
	check(false)
}
