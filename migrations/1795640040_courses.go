package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The course catalogue. Read rules as posts, with instructors and admins as writers.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		topics, err := app.FindCollectionByNameOrId("topics")
		if err != nil {
			return err
		}

		c := core.NewBaseCollection("courses")
		owner := `(@request.auth.id != "" && instructor = @request.auth.id) || ` + ruleAdmin
		c.ListRule = types.Pointer(rulePublished + ` || ` + owner)
		c.ViewRule = types.Pointer(rulePublished + ` || ` + owner)
		c.CreateRule = types.Pointer(`@request.auth.role = "instructor" || ` + ruleAdmin)
		c.UpdateRule = types.Pointer(owner)
		c.DeleteRule = types.Pointer(owner)

		c.Fields.Add(
			&core.TextField{Name: "title", Required: true, Min: 3, Max: 200, Presentable: true},
			&core.TextField{Name: "slug", Max: 200, Help: "Derived from the title when empty; lowercase words joined by '-'."},
			&core.TextField{Name: "summary", Max: 300},
			&core.EditorField{Name: "description", MaxSize: 2 << 20},
			&core.FileField{
				Name:      "cover",
				MaxSelect: 1,
				MaxSize:   10 << 20,
				MimeTypes: []string{"image/jpeg", "image/png", "image/gif", "image/webp"},
				Thumbs:    []string{"640x360", "1280x720"},
			},
			&core.RelationField{Name: "instructor", CollectionId: users.Id, MaxSelect: 1, Required: true, Help: "Set by the server: the creating user."},
			&core.RelationField{Name: "topics", CollectionId: topics.Id, MaxSelect: 20},
			// Required because PocketBase skips Min for an optional number that is 0.
			&core.NumberField{Name: "durationDays", Required: true, OnlyInt: true, Min: types.Pointer(1.0)},
			&core.SelectField{Name: "mode", MaxSelect: 1, Values: []string{"online", "onsite", "hybrid"}},
			&core.SelectField{Name: "level", MaxSelect: 1, Values: []string{"beginner", "intermediate", "advanced"}},
			&core.NumberField{Name: "price", Min: types.Pointer(0.0), Help: "Major units, at most 2 decimals."},
			&core.TextField{Name: "currency", Pattern: `^[A-Z]{3}$`, Help: "ISO 4217 code; USD when empty."},
			&core.SelectField{Name: "status", MaxSelect: 1, Values: []string{"draft", "scheduled", "published", "archived"}},
			&core.DateField{Name: "publishedAt", Help: "Set by the server on first publish; required and in the future when scheduled."},
			&core.NumberField{Name: "ratingAvg", Min: types.Pointer(0.0), Max: types.Pointer(5.0), Help: "Set by the server: mean review rating."},
			&core.NumberField{Name: "ratingCount", OnlyInt: true, Min: types.Pointer(0.0), Help: "Set by the server: number of reviews."},
			&core.NumberField{Name: "enrollmentsCount", OnlyInt: true, Min: types.Pointer(0.0), Help: "Set by the server: active and completed enrollments."},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_courses_slug", true, "slug", "")
		c.AddIndex("idx_courses_status_published", false, "status, publishedAt", "")
		c.AddIndex("idx_courses_instructor", false, "instructor", "")

		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "courses")
	})
}
