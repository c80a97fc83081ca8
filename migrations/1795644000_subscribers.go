package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Newsletter subscribers and their single-purpose tokens (internal/mail).
// Subscribers are admins-only through the records API: the public only ever
// reaches them through /api/newsletter/*, which never says who is subscribed.
// Tokens are superuser-only: they hold only SHA-256 hashes of what was mailed.
func init() {
	m.Register(func(app core.App) error {
		topics, err := app.FindCollectionByNameOrId("topics")
		if err != nil {
			return err
		}

		s := core.NewBaseCollection("subscribers")
		s.ListRule = types.Pointer(ruleAdmin)
		s.ViewRule = types.Pointer(ruleAdmin)
		s.CreateRule = types.Pointer(ruleAdmin)
		s.UpdateRule = types.Pointer(ruleAdmin)
		s.DeleteRule = types.Pointer(ruleAdmin)
		s.Fields.Add(
			&core.EmailField{Name: "email", Required: true, Presentable: true, Help: "Stored lowercased."},
			&core.SelectField{Name: "status", Required: true, MaxSelect: 1, Values: []string{"pending", "active", "unsubscribed"}},
			&core.RelationField{Name: "topics", CollectionId: topics.Id, MaxSelect: 100, Help: "Empty = every topic."},
			&core.DateField{Name: "confirmedAt", Help: "Set by the server."},
			&core.DateField{Name: "unsubscribedAt", Help: "Set by the server."},
			&core.TextField{Name: "source", Max: 100, Help: "Where the subscription came from (site, account, dashboard)."},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		s.AddIndex("idx_subscribers_email", true, "email", "")
		s.AddIndex("idx_subscribers_status", false, "status", "")
		if err := app.Save(s); err != nil {
			return err
		}

		t := core.NewBaseCollection("newsletterTokens")
		t.Fields.Add(
			&core.RelationField{Name: "subscriber", CollectionId: s.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.SelectField{Name: "purpose", Required: true, MaxSelect: 1, Values: []string{"confirm", "unsubscribe"}},
			&core.TextField{Name: "hash", Required: true, Max: 64, Help: "Hex SHA-256 of the token; the token itself is never stored."},
			&core.DateField{Name: "expiresAt", Required: true},
			&core.AutodateField{Name: "created", OnCreate: true},
		)
		t.AddIndex("idx_newsletterTokens_hash", true, "hash", "")
		t.AddIndex("idx_newsletterTokens_subscriber", false, "subscriber, purpose", "")
		return app.Save(t)
	}, func(app core.App) error {
		if err := deleteCollection(app, "newsletterTokens"); err != nil {
			return err
		}
		return deleteCollection(app, "subscribers")
	})
}
