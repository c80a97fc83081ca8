package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// webhookEvents is the webhooks' outbox (internal/webhooks): a write to a
// subscribed collection inserts one row in its own transaction — the
// payload once, and the ids of the webhooks it goes to — instead of one
// webhookDeliveries row per webhook. The delivery worker turns each
// committed event into its deliveries and deletes it in one short
// transaction of its own, so the table holds only the events of the last
// moments (or of a crash). Superusers only: rows carry whole records.
func init() {
	m.Register(func(app core.App) error {
		hooks, err := app.FindCollectionByNameOrId("webhooks")
		if err != nil {
			return err
		}
		c := core.NewBaseCollection("webhookEvents")
		c.Fields.Add(
			&core.TextField{Name: "type", Required: true, Max: 200, Presentable: true},
			&core.RelationField{Name: "webhooks", CollectionId: hooks.Id, MaxSelect: 1000, Help: "The active webhooks subscribed to the event when it was written."},
			&core.JSONField{Name: "payload", MaxSize: 8 << 20},
			&core.AutodateField{Name: "created", OnCreate: true},
		)
		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "webhookEvents")
	})
}
