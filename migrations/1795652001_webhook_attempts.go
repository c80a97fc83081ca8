package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// webhookAttempts is the history of each delivery's attempts
// (internal/webhooks): when, the HTTP status, the error, how long it took
// and the start of the receiver's answer. Admins read it, the worker writes
// it with each outcome. It stays bounded: at most the last 20 attempts of a
// delivery, removed with the delivery (its cascade, and the retention job's
// cleanup).
func init() {
	m.Register(func(app core.App) error {
		hooks, err := app.FindCollectionByNameOrId("webhooks")
		if err != nil {
			return err
		}
		deliveries, err := app.FindCollectionByNameOrId("webhookDeliveries")
		if err != nil {
			return err
		}
		c := core.NewBaseCollection("webhookAttempts")
		c.ListRule = types.Pointer(ruleAdmin)
		c.ViewRule = types.Pointer(ruleAdmin)
		c.Fields.Add(
			&core.RelationField{Name: "delivery", CollectionId: deliveries.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "webhook", CollectionId: hooks.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.NumberField{Name: "attempt", OnlyInt: true, Help: "1 for the first attempt of the delivery."},
			&core.NumberField{Name: "status", OnlyInt: true, Help: "The HTTP status answered; 0 when there was no answer."},
			&core.TextField{Name: "error", Max: 1000, Presentable: true},
			&core.NumberField{Name: "durationMs", OnlyInt: true},
			&core.TextField{Name: "response", Max: 1024, Help: "The start of the receiver's answer (at most 1 KiB)."},
			&core.AutodateField{Name: "created", OnCreate: true},
		)
		// a delivery's attempts in order (the dashboard, the cap on their number)
		c.AddIndex("idx_webhookAttempts_delivery", false, "delivery, attempt", "")
		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "webhookAttempts")
	})
}
