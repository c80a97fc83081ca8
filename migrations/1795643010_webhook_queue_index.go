package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The delivery worker's scans (internal/jobs) skip the rows of webhooks
// with a delivery in flight and the rows it holds: with the webhook and the
// id in the index beside status and nextAttemptAt, a scan past a slow
// receiver's backlog reads the index alone, not one table row per entry.
//
// The (webhook, created) index goes: a write with N webhooks inserts at N
// places of it, N more pages for the writer's commit, on every write; the
// reads it served (a webhook's deliveries in the dashboard, retry-failed)
// are an admin's occasional ones, and retry-failed reads the queue index.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("webhookDeliveries")
		if err != nil {
			return err
		}
		c.RemoveIndex("idx_webhookDeliveries_due")
		c.RemoveIndex("idx_webhookDeliveries_webhook")
		c.AddIndex("idx_webhookDeliveries_queue", false, "status, nextAttemptAt, webhook, id", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("webhookDeliveries")
		if err != nil {
			return err
		}
		c.RemoveIndex("idx_webhookDeliveries_queue")
		c.AddIndex("idx_webhookDeliveries_due", false, "status, nextAttemptAt", "")
		c.AddIndex("idx_webhookDeliveries_webhook", false, "webhook, created", "")
		return app.Save(c)
	})
}
