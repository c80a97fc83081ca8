package hooks

import (
	"fmt"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/text"
)

func registerReviews(app core.App, parents *announcer) {
	rate := func(e *core.RecordEvent, tx core.App) error {
		id := e.Record.GetString("course")
		course, err := refreshCourseRating(tx, id)
		if err != nil {
			return err
		}
		return parents.afterCommit(e.Context, tx, "courses", id, course)
	}
	app.OnRecordCreate("reviews").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			e.Record.Set("body", text.PlainText(e.Record.GetString("body")))
			if err := checkReviewable(tx, e.Record); err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			return rate(e, tx)
		})
	})
	app.OnRecordUpdate("reviews").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if changed(e.Record, "body") {
				e.Record.Set("body", text.PlainText(e.Record.GetString("body")))
			}
			stored, err := storedString(tx, "reviews", e.Record.Id, "rating")
			if err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			if stored == e.Record.GetString("rating") {
				return nil
			}
			return rate(e, tx)
		})
	})
	app.OnRecordDelete("reviews").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			return rate(e, tx)
		})
	})
}

// checkReviewable enforces, at create: one review per (course, user), by a
// user with an active or completed enrollment in the course. One statement
// answers both (the unique index idx_reviews_course_user would refuse a
// second review at insert, but only after validation, with another error).
func checkReviewable(app core.App, r *core.Record) error {
	var found struct {
		Reviewed bool `db:"reviewed"`
		Enrolled bool `db:"enrolled"`
	}
	err := app.DB().NewQuery(`SELECT
		EXISTS (SELECT 1 FROM {{reviews}} WHERE [[course]] = {:c} AND [[user]] = {:u}) AS [[reviewed]],
		EXISTS (SELECT 1 FROM {{enrollments}} WHERE [[course]] = {:c} AND [[user]] = {:u}
			AND [[status]] IN ('active', 'completed')) AS [[enrolled]]`).
		Bind(dbx.Params{"c": r.GetString("course"), "u": r.GetString("user")}).One(&found)
	if err != nil {
		return fmt.Errorf("check review of course %q: %w", r.GetString("course"), err)
	}
	if found.Reviewed {
		return validation.Errors{"course": validation.NewError("validation_already_reviewed",
			"You have already reviewed this course.")}
	}
	if !found.Enrolled {
		return validation.Errors{"course": validation.NewError("validation_not_enrolled",
			"Only students enrolled in the course may review it.")}
	}
	return nil
}
