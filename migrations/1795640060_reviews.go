package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Reviews of courses; one per (course, user), by enrolled students.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		courses, err := app.FindCollectionByNameOrId("courses")
		if err != nil {
			return err
		}

		c := core.NewBaseCollection("reviews")
		self := `@request.auth.id != "" && (user = @request.auth.id || ` + ruleAdmin + `)`
		read := `course.status = "published" || (@request.auth.id != "" && (user = @request.auth.id || course.instructor = @request.auth.id || ` + ruleAdmin + `))`
		c.ListRule = types.Pointer(read)
		c.ViewRule = types.Pointer(read)
		c.CreateRule = types.Pointer(ruleSignedIn)
		c.UpdateRule = types.Pointer(self)
		c.DeleteRule = types.Pointer(self)

		c.Fields.Add(
			&core.RelationField{Name: "course", CollectionId: courses.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true, Help: "Set by the server: the reviewing user."},
			&core.NumberField{Name: "rating", Required: true, OnlyInt: true, Min: types.Pointer(1.0), Max: types.Pointer(5.0), Presentable: true},
			&core.TextField{Name: "body", Max: 2000},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_reviews_course_user", true, "course, user", "")
		c.AddIndex("idx_reviews_user", false, "user", "")

		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "reviews")
	})
}
