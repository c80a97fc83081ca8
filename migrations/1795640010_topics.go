package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Topics tag posts and courses. Public read, admin write.
func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection("topics")
		c.ListRule = types.Pointer("")
		c.ViewRule = types.Pointer("")
		c.CreateRule = types.Pointer(ruleAdmin)
		c.UpdateRule = types.Pointer(ruleAdmin)
		c.DeleteRule = types.Pointer(ruleAdmin)

		c.Fields.Add(
			&core.TextField{Name: "name", Required: true, Max: 100, Presentable: true},
			&core.TextField{Name: "slug", Max: 200, Help: "Set by the server from the name."},
			&core.TextField{Name: "description", Max: 1000},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_topics_name", true, "name", "")
		c.AddIndex("idx_topics_slug", true, "slug", "")

		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "topics")
	})
}

// deleteCollection is the shared "down" of the create-collection migrations.
func deleteCollection(app core.App, name string) error {
	c, err := app.FindCollectionByNameOrId(name)
	if err != nil {
		return err
	}
	return app.Delete(c)
}
