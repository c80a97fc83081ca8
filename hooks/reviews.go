package hooks

import (
	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/text"
)

func registerReviews(app core.App) {
	app.OnRecordCreate("reviews").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			e.Record.Set("body", text.PlainText(e.Record.GetString("body")))
			if err := checkReviewable(tx, e.Record); err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			return touch(tx, "courses", e.Record.GetString("course"))
		})
	})
	app.OnRecordUpdate("reviews").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if changed(e.Record, "body") {
				e.Record.Set("body", text.PlainText(e.Record.GetString("body")))
			}
			recount, err := changesStored(tx, e.Record, "rating")
			if err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			if !recount {
				return nil
			}
			return touch(tx, "courses", e.Record.GetString("course"))
		})
	})
	app.OnRecordDelete("reviews").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			return touch(tx, "courses", e.Record.GetString("course"))
		})
	})
}

// checkReviewable enforces, at create: one review per (course, user), by a
// user with an active or completed enrollment in the course.
func checkReviewable(app core.App, r *core.Record) error {
	params := dbx.Params{"c": r.GetString("course"), "u": r.GetString("user")}
	if dup, _ := app.FindFirstRecordByFilter("reviews", "course = {:c} && user = {:u}", params); dup != nil {
		return validation.Errors{"course": validation.NewError("validation_already_reviewed",
			"You have already reviewed this course.")}
	}
	enrolled, _ := app.FindFirstRecordByFilter("enrollments",
		`course = {:c} && user = {:u} && (status = "active" || status = "completed")`, params)
	if enrolled == nil {
		return validation.Errors{"course": validation.NewError("validation_not_enrolled",
			"Only students enrolled in the course may review it.")}
	}
	return nil
}
