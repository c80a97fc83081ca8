package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Newsletter issues (each one a job of the shared worker, internal/jobs),
// their per-subscriber delivery ledger and the one
// settings record admins edit in the dashboard (schedule and sending rate).
//
// The ledger is the queue: one row per (issue, subscriber), unique, moving
// pending → sending → sent (or skipped/failed), written in the transaction
// that creates the issue. Everything here is server-written; admins read.
func init() {
	m.Register(func(app core.App) error {
		subscribers, err := app.FindCollectionByNameOrId("subscribers")
		if err != nil {
			return err
		}

		issues := core.NewBaseCollection("newsletterIssues")
		issues.ListRule = types.Pointer(ruleAdmin)
		issues.ViewRule = types.Pointer(ruleAdmin)
		issues.Fields.Add(
			&core.NumberField{Name: "number", Required: true, OnlyInt: true, Min: types.Pointer(1.0), Presentable: true},
			&core.TextField{Name: "subject", Required: true, Max: 300},
			&core.DateField{Name: "since", Required: true, Help: "Posts published after this instant..."},
			&core.DateField{Name: "until", Required: true, Help: "...and up to this one are in the issue."},
			// ids as JSON, not a relation: a relation would add a back-relation
			// (expand) to posts, the site's most public collection
			&core.JSONField{Name: "posts", MaxSize: 64 << 10, Help: "Ids of the posts in the issue, newest first."},
			// the issue is the background job that sends its ledger (internal/jobs)
			&core.SelectField{Name: "status", Required: true, MaxSelect: 1, Values: []string{"pending", "failed", "dead", "sent"}, Help: "pending/failed: being sent (failed = some copies wait for a retry); sent: every copy is done."},
			&core.NumberField{Name: "attempts", OnlyInt: true},
			&core.DateField{Name: "nextAttemptAt"},
			&core.NumberField{Name: "recipients", OnlyInt: true, Help: "Ledger rows written when the issue was built."},
			&core.DateField{Name: "sentAt"},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		issues.AddIndex("idx_newsletterIssues_number", true, "number", "")
		issues.AddIndex("idx_newsletterIssues_due", false, "status, nextAttemptAt", "")
		if err := app.Save(issues); err != nil {
			return err
		}

		d := core.NewBaseCollection("newsletterDeliveries")
		d.ListRule = types.Pointer(ruleAdmin)
		d.ViewRule = types.Pointer(ruleAdmin)
		d.Fields.Add(
			&core.RelationField{Name: "issue", CollectionId: issues.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "subscriber", CollectionId: subscribers.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.SelectField{Name: "status", Required: true, MaxSelect: 1, Values: []string{"pending", "sending", "sent", "skipped", "failed"}},
			&core.NumberField{Name: "attempts", OnlyInt: true},
			&core.TextField{Name: "messageId", Max: 300, Help: "The Message-ID header: the same on every attempt."},
			&core.DateField{Name: "leaseUntil", Help: "While sending: no other worker touches the row before this."},
			&core.TextField{Name: "lastError", Max: 1000},
			&core.DateField{Name: "sentAt"},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		d.AddIndex("idx_newsletterDeliveries_issue_subscriber", true, "issue, subscriber", "")
		d.AddIndex("idx_newsletterDeliveries_status", false, "status, issue", "")
		if err := app.Save(d); err != nil {
			return err
		}

		st := core.NewBaseCollection("newsletterSettings")
		st.ListRule = types.Pointer(ruleAdmin)
		st.ViewRule = types.Pointer(ruleAdmin)
		st.UpdateRule = types.Pointer(ruleAdmin)
		st.Fields.Add(
			&core.TextField{Name: "schedule", Max: 100, Help: "Cron expression (UTC) for sending an issue, e.g. \"0 8 * * 1\" (Mondays 08:00); empty = only by hand."},
			&core.NumberField{Name: "ratePerMinute", Required: true, OnlyInt: true, Min: types.Pointer(1.0), Max: types.Pointer(100000.0), Help: "At most this many newsletter mails a minute."},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		if err := app.Save(st); err != nil {
			return err
		}
		rec := core.NewRecord(st)
		rec.Set("ratePerMinute", 120)
		return app.Save(rec)
	}, func(app core.App) error {
		for _, name := range []string{"newsletterSettings", "newsletterDeliveries", "newsletterIssues"} {
			if err := deleteCollection(app, name); err != nil {
				return err
			}
		}
		return nil
	})
}
