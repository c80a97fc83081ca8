package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Contact-form messages. Only POST /api/contact creates them (create rule
// superusers-only); admins read and triage them (status) in the dashboard.
func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection("messages")
		c.ListRule = types.Pointer(ruleAdmin)
		c.ViewRule = types.Pointer(ruleAdmin)
		c.UpdateRule = types.Pointer(ruleAdmin)
		c.DeleteRule = types.Pointer(ruleAdmin)
		c.Fields.Add(
			&core.TextField{Name: "name", Required: true, Max: 100, Presentable: true},
			&core.EmailField{Name: "email", Required: true},
			&core.TextField{Name: "subject", Max: 200},
			&core.TextField{Name: "body", Required: true, Max: 5000, Help: "Plain text."},
			&core.SelectField{Name: "status", Required: true, MaxSelect: 1, Values: []string{"new", "read", "archived", "spam"}},
			&core.TextField{Name: "ip", Max: 64, Help: "Set by the server: the sender's IP."},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_messages_status", false, "status, created", "")
		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "messages")
	})
}
