package hooks

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/text"
)

// ExcerptMax is the longest derived or accepted excerpt, in characters.
const ExcerptMax = 300

func registerPosts(app core.App) {
	registerPublishingGuards(app)

	app.OnRecordCreate("posts").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := preparePost(tx, e.Record); err != nil {
				return err
			}
			e.Record.Set("commentsCount", 0)
			return e.Next()
		})
	})
	app.OnRecordUpdate("posts").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := preparePost(tx, e.Record); err != nil {
				return err
			}
			// Recounted from the comments on every save of the post: a comment
			// write updates the counter alone (parents.go), and a post save (an
			// edit, check-counters --repair) also puts right any drift left by
			// writes that bypassed the hooks.
			n, err := countVisibleComments(tx, e.Record.Id)
			if err != nil {
				return err
			}
			e.Record.Set("commentsCount", n)
			return e.Next()
		})
	})
}

// preparePost derives everything the server owns on a post before it is saved.
func preparePost(app core.App, r *core.Record) error {
	if changed(r, "body") {
		body := text.SanitizeHTML(r.GetString("body"))
		r.Set("body", body)
		r.Set("readingMinutes", text.ReadingMinutes(body))
	}
	// Empty after the write means derive, so clearing it re-derives; an
	// explicit excerpt is kept (as plain text).
	if changed(r, "excerpt") {
		r.Set("excerpt", text.PlainText(r.GetString("excerpt")))
	}
	if r.GetString("excerpt") == "" {
		r.Set("excerpt", text.Excerpt(r.GetString("body"), ExcerptMax))
	}
	if err := applyPublishing(r, time.Now()); err != nil {
		return err
	}
	return assignSlug(app, r, "title", "post")
}

func countVisibleComments(app core.App, postID string) (int, error) {
	var n int
	err := app.DB().Select("count(*)").From("comments").
		Where(dbx.HashExp{"post": postID, "status": "visible"}).Row(&n)
	return n, err
}

// touch re-saves a record so its model hooks recompute its derived fields
// (check-counters --repair); a record already deleted is skipped.
func touch(app core.App, collection, id string) error {
	if id == "" {
		return nil
	}
	r, err := app.FindRecordById(collection, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // gone: deleted earlier in this same transaction
	}
	if err != nil {
		return fmt.Errorf("touch %s %q: %w", collection, id, err)
	}
	// Only derived fields change here and they are valid by construction, so
	// the relation lookups of a full validation are skipped.
	return app.SaveNoValidate(r)
}
