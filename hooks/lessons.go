package hooks

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/text"
)

func registerLessons(app core.App) {
	app.OnRecordCreate("lessons").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			e.Record.Set("body", text.SanitizeHTML(e.Record.GetString("body")))
			if err := e.Next(); err != nil {
				return err
			}
			return refreshProgress(tx, e.Record.GetString("course"))
		})
	})
	app.OnRecordUpdate("lessons").BindFunc(func(e *core.RecordEvent) error {
		if changed(e.Record, "body") {
			e.Record.Set("body", text.SanitizeHTML(e.Record.GetString("body")))
		}
		return e.Next()
	})
	app.OnRecordDelete("lessons").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			return refreshProgress(tx, e.Record.GetString("course"))
		})
	})
}

// refreshProgress re-saves every enrollment of a course so each recomputes its
// progress against the course's new lesson count.
func refreshProgress(app core.App, courseID string) error {
	if courseID == "" {
		return nil
	}
	enrollments, err := app.FindAllRecords("enrollments", dbx.HashExp{"course": courseID})
	if err != nil {
		return err
	}
	for _, en := range enrollments {
		if err := app.Save(en); err != nil {
			return err
		}
	}
	return nil
}
