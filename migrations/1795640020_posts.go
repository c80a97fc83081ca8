package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Blog posts. Published posts are public; drafts, scheduled and archived posts
// are for their author and admins. Writers are authors, instructors and admins.
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

		c := core.NewBaseCollection("posts")
		owner := `(@request.auth.id != "" && author = @request.auth.id) || ` + ruleAdmin
		c.ListRule = types.Pointer(rulePublished + ` || ` + owner)
		c.ViewRule = types.Pointer(rulePublished + ` || ` + owner)
		c.CreateRule = types.Pointer(`@request.auth.role = "author" || @request.auth.role = "instructor" || ` + ruleAdmin)
		c.UpdateRule = types.Pointer(owner)
		c.DeleteRule = types.Pointer(owner)

		c.Fields.Add(
			&core.TextField{Name: "title", Required: true, Min: 3, Max: 200, Presentable: true},
			&core.TextField{Name: "slug", Max: 200, Help: "Derived from the title when empty; lowercase words joined by '-'."},
			&core.TextField{Name: "excerpt", Max: 300, Help: "Derived from the body when empty."},
			&core.EditorField{Name: "body", MaxSize: 2 << 20},
			&core.FileField{
				Name:      "cover",
				MaxSelect: 1,
				MaxSize:   10 << 20,
				MimeTypes: []string{"image/jpeg", "image/png", "image/gif", "image/webp"},
				Thumbs:    []string{"640x360", "1280x720"},
			},
			&core.RelationField{Name: "author", CollectionId: users.Id, MaxSelect: 1, Required: true, Help: "Set by the server: the creating user."},
			&core.RelationField{Name: "topics", CollectionId: topics.Id, MaxSelect: 20},
			&core.SelectField{Name: "status", MaxSelect: 1, Values: []string{"draft", "scheduled", "published", "archived"}},
			&core.DateField{Name: "publishedAt", Help: "Set by the server on first publish; required and in the future when scheduled."},
			&core.NumberField{Name: "readingMinutes", OnlyInt: true, Min: types.Pointer(0.0), Help: "Set by the server."},
			&core.NumberField{Name: "commentsCount", OnlyInt: true, Min: types.Pointer(0.0), Help: "Set by the server: visible comments."},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_posts_slug", true, "slug", "")
		c.AddIndex("idx_posts_status_published", false, "status, publishedAt", "")
		c.AddIndex("idx_posts_author", false, "author", "")

		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "posts")
	})
}
