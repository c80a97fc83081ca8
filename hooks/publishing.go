package hooks

import (
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// publishable lists the collections with the draft → scheduled → published →
// archived workflow.
var publishable = []string{"posts", "courses"}

// registerPublishingGuards makes publishedAt server-owned except when the
// client schedules: then its value is the schedule.
func registerPublishingGuards(app core.App) {
	app.OnRecordCreateRequest(publishable...).BindFunc(func(e *core.RecordRequestEvent) error {
		if e.Record.GetString("status") != "scheduled" {
			e.Record.Set("publishedAt", "")
		}
		return e.Next()
	})
	app.OnRecordUpdateRequest(publishable...).BindFunc(func(e *core.RecordRequestEvent) error {
		if e.Record.GetString("status") != "scheduled" {
			e.Record.Set("publishedAt", e.Record.Original().Get("publishedAt"))
		}
		return e.Next()
	})
}

// applyPublishing enforces the status/publishedAt workflow on every save: the
// first publish stamps publishedAt (a re-publish keeps it, so does a due
// schedule), a schedule needs a future publishedAt. The future check runs only
// when the schedule changes, so touching a due item (a new review on a
// course) never fails.
func applyPublishing(r *core.Record, now time.Time) error {
	status := r.GetString("status")
	if status == "" {
		status = "draft"
		r.Set("status", status)
	}
	at := r.GetDateTime("publishedAt")
	switch status {
	case "published":
		// A future date is a schedule that never ran (published early, or
		// unscheduled and published later), not a first publish to keep.
		if at.IsZero() || at.Time().After(now) {
			r.Set("publishedAt", types.NowDateTime())
		}
	case "scheduled":
		if at.IsZero() {
			return validation.Errors{"publishedAt": validation.NewError("validation_required",
				"A scheduled item needs a publishedAt date.")}
		}
		if (changed(r, "status") || changed(r, "publishedAt")) && !at.Time().After(now) {
			return validation.Errors{"publishedAt": validation.NewError("validation_date_not_future",
				"The scheduled publishedAt must be in the future.")}
		}
	}
	return nil
}
