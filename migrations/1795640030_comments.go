package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Comments on posts, threaded through the self-relation parent.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		posts, err := app.FindCollectionByNameOrId("posts")
		if err != nil {
			return err
		}

		c := core.NewBaseCollection("comments")
		involved := `@request.auth.id != "" && (author = @request.auth.id || post.author = @request.auth.id || ` + ruleAdmin + `)`
		visible := `(status = "visible" && post.status = "published") || (` + involved + `)`
		c.ListRule = types.Pointer(visible)
		c.ViewRule = types.Pointer(visible)
		c.CreateRule = types.Pointer(ruleSignedIn)
		// Whoever can see a comment reaches the update hook, which answers 403
		// for a body or status change the caller may not make (DATA_MODEL.md).
		c.UpdateRule = types.Pointer(`@request.auth.id != "" && (` + visible + `)`)
		c.DeleteRule = types.Pointer(involved)

		c.Fields.Add(
			&core.RelationField{Name: "post", CollectionId: posts.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "author", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true, Help: "Set by the server: the creating user."},
			&core.TextField{Name: "body", Required: true, Min: 1, Max: 5000, Presentable: true},
			&core.SelectField{Name: "status", MaxSelect: 1, Values: []string{"visible", "hidden", "flagged"}},
			&core.BoolField{Name: "edited", Help: "Set by the server when the author edits the body."},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_comments_post_status", false, "post, status", "")
		c.AddIndex("idx_comments_author", false, "author", "")
		if err := app.Save(c); err != nil {
			return err
		}

		// A self-relation needs the collection's id, so it is added once saved.
		c.Fields.Add(&core.RelationField{Name: "parent", CollectionId: c.Id, MaxSelect: 1, CascadeDelete: true, Help: "Reply target on the same post; depth at most 3."})
		c.AddIndex("idx_comments_parent", false, "parent", "")
		return app.Save(c)
	}, func(app core.App) error {
		return deleteCollection(app, "comments")
	})
}
