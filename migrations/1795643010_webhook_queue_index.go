package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The delivery worker's scans (internal/jobs) skip the rows of webhooks
// with a delivery in flight and the rows it holds: with the webhook and the
// id in the index beside status and nextAttemptAt, a scan past a slow
// receiver's backlog reads the index alone, not one table row per entry.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("webhookDeliveries")
		if err != nil {
			return err
		}
		c.RemoveIndex("idx_webhookDeliveries_due")
		c.AddIndex("idx_webhookDeliveries_queue", false, "status, nextAttemptAt, webhook, id", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("webhookDeliveries")
		if err != nil {
			return err
		}
		c.RemoveIndex("idx_webhookDeliveries_queue")
		c.AddIndex("idx_webhookDeliveries_due", false, "status, nextAttemptAt", "")
		return app.Save(c)
	})
}
