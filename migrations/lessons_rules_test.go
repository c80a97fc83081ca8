package migrations_test

import (
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/require"
)

// The lessons read rule reaches the caller's enrollment from the caller's
// side (a join of their own enrollments only); down puts the
// @collection form back; a rule edited in the dashboard is left alone.
func TestLessonsEnrolledViaCourse(t *testing.T) {
	app, err := tests.NewTestApp()
	require.NoError(t, err)
	defer app.Cleanup()
	require.NoError(t, app.RunAllMigrations())

	var down func(core.App) error
	for _, m := range core.AppMigrations.Items() {
		if m.File == "1795650000_lessons_enrolled_via_auth.go" {
			down = m.Down
		}
	}
	require.NotNil(t, down)

	rules := func() (string, string) {
		c, err := app.FindCollectionByNameOrId("lessons")
		require.NoError(t, err)
		return *c.ListRule, *c.ViewRule
	}
	list, view := rules()
	require.Equal(t, list, view)
	require.Contains(t, list, `@request.auth.enrollments_via_user.course ?= course && @request.auth.enrollments_via_user.status ?!= "cancelled"`)
	require.NotContains(t, list, "@collection")

	require.NoError(t, down(app))
	list, view = rules()
	require.Equal(t, list, view)
	require.Contains(t, list, `@collection.enrollments.course ?= course && @collection.enrollments.user ?= @request.auth.id`)

	// an operator's own rule survives the migration
	c, err := app.FindCollectionByNameOrId("lessons")
	require.NoError(t, err)
	own := strings.Replace(*c.ListRule, `freePreview = true`, `freePreview = true && title != ""`, 1)
	c.ListRule = &own
	require.NoError(t, app.Save(c))
	var up func(core.App) error
	for _, m := range core.AppMigrations.Items() {
		if m.File == "1795650000_lessons_enrolled_via_auth.go" {
			up = m.Up
		}
	}
	require.NoError(t, up(app))
	list, view = rules()
	require.Equal(t, own, list)
	require.Contains(t, view, "@request.auth.enrollments_via_user.course")
}
