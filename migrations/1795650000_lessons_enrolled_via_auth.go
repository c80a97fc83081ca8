package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The lessons read rule found the caller's enrollment with
// `@collection.enrollments…`, which PocketBase joins with no condition: every
// lesson row of a query met every enrollment of the site before the WHERE,
// then SELECT DISTINCT sorted them back (a course's lessons cost tens of
// milliseconds at 8,000 enrollments, for guests too, whose branch of the rule
// never matches but whose query carries the join). The same condition
// written from the caller's side — their enrollments, a back-relation of
// @request.auth — joins only the caller's own enrollments (index
// idx_enrollments_user), and nothing at all for a guest (PocketBase resolves
// @request.auth.* to NULL without a join when nobody is signed in). Same
// meaning: an enrollment by the caller, of the lesson's course, not
// cancelled, one joined row meeting all three conditions.
//
// A rule a superuser has changed in the dashboard since is left as it is.

const (
	lessonsReadBefore = `(freePreview = true && course.status = "published") || (@request.auth.id != "" && (course.instructor = @request.auth.id || ` + ruleAdmin + ` || ` +
		`(@collection.enrollments.course ?= course && @collection.enrollments.user ?= @request.auth.id && @collection.enrollments.status ?!= "cancelled")))`
	lessonsReadAfter = `(freePreview = true && course.status = "published") || (@request.auth.id != "" && (course.instructor = @request.auth.id || ` + ruleAdmin + ` || ` +
		`(@request.auth.enrollments_via_user.course ?= course && @request.auth.enrollments_via_user.status ?!= "cancelled")))`
)

func init() {
	m.Register(func(app core.App) error {
		return swapLessonsRead(app, lessonsReadBefore, lessonsReadAfter)
	}, func(app core.App) error {
		return swapLessonsRead(app, lessonsReadAfter, lessonsReadBefore)
	})
}

func swapLessonsRead(app core.App, from, to string) error {
	c, err := app.FindCollectionByNameOrId("lessons")
	if err != nil {
		return err
	}
	changed := false
	for _, rule := range []**string{&c.ListRule, &c.ViewRule} {
		if *rule != nil && **rule == from {
			v := to
			*rule = &v
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return app.Save(c)
}
