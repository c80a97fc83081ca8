package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The queue of Lectern's single mails (internal/mail): newsletter
// confirmations, contact messages to each admin, reply notifications. A row
// is written in the transaction that causes the mail and sent by the shared
// worker (internal/jobs). Superusers only: rows name addresses.
func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection("mailOutbox")
		c.Fields.Add(
			&core.SelectField{Name: "kind", Required: true, MaxSelect: 1, Values: []string{"confirm", "contact", "reply"}},
			&core.TextField{Name: "ref", Required: true, Max: 50, Help: "The record the mail is about: a subscriber, a message or a comment."},
			&core.TextField{Name: "to", Max: 50, Help: "contact: the admin (users id) it goes to."},
			&core.SelectField{Name: "status", Required: true, MaxSelect: 1, Values: []string{"pending", "failed", "dead", "sent"}},
			&core.NumberField{Name: "attempts", OnlyInt: true},
			&core.DateField{Name: "nextAttemptAt"},
			&core.TextField{Name: "lastError", Max: 1000},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_mailOutbox_due", false, "status, nextAttemptAt", "")
		c.AddIndex("idx_mailOutbox_ref", false, "kind, ref, created", "")
		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "mailOutbox")
	})
}
