package mail

import (
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/cron"
)

// cronJobID names the newsletter's job in PocketBase's cron (dashboard →
// Settings → Crons lists it and can run it at once).
const cronJobID = "lecternNewsletter"

// registerSending binds the schedule an admin sets in the dashboard
// (newsletterSettings.schedule, a cron expression) to issue creation, and
// the delivery of the ledger to the background worker.
func registerSending(app core.App) {
	app.OnRecordValidate("newsletterSettings").BindFunc(func(e *core.RecordEvent) error {
		if s := e.Record.GetString("schedule"); s != "" {
			if _, err := cron.NewSchedule(s); err != nil {
				return validation.Errors{"schedule": validation.NewError("validation_invalid_cron",
					"Not a cron expression (minute hour day month weekday, e.g. \"0 8 * * 1\").")}
			}
		}
		return e.Next()
	})
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		schedule(se.App)
		return se.Next()
	})
	registerWorker(app)
	app.OnRecordAfterUpdateSuccess("newsletterSettings").BindFunc(func(e *core.RecordEvent) error {
		schedule(e.App)
		return e.Next()
	})
}

// schedule (re)registers the cron job from the settings record.
func schedule(app core.App) {
	app.Cron().Remove(cronJobID)
	r, err := app.FindFirstRecordByFilter("newsletterSettings", "")
	if err != nil || r.GetString("schedule") == "" {
		return
	}
	if err := app.Cron().Add(cronJobID, r.GetString("schedule"), func() { RunScheduled(app) }); err != nil {
		app.Logger().Error("newsletter: bad schedule", "schedule", r.GetString("schedule"), "error", err)
	}
}

// RunScheduled builds the next issue (when there is anything new) and hands
// its ledger to the worker.
func RunScheduled(app core.App) {
	issue, err := CreateIssue(app, time.Now())
	if err != nil {
		app.Logger().Error("newsletter: create issue", "error", err)
		return
	}
	if issue != nil {
		app.Logger().Info("newsletter: issue created", "number", issue.GetInt("number"), "recipients", issue.GetInt("recipients"))
	}
}
