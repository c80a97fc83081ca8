package feeds

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/text"
)

// channel is a feed independent of its format.
type channel struct {
	Title       string
	Description string
	Home        string // the page the feed is about
	Self        string // the feed's own URL
	ID          string // Atom feed id; Self when empty
	Publisher   string // the site's name: the Atom feed's author
	Updated     time.Time
	Items       []item
}

// item is one post of a feed.
type item struct {
	ID          string // stable tag: URI from the record id
	URL         string
	Title       string
	Summary     string // plain text
	ContentHTML string // sanitized HTML
	Author      string // display name, never an email
	Published   time.Time
	Updated     time.Time
	Categories  []category
}

type category struct {
	Slug string
	Name string
}

// loadItems returns the FeedItems latest published posts, newest first (id
// breaks ties), optionally only those tagged with topicID.
func loadItems(app core.App, st site, topicID string) ([]item, error) {
	filter := `status = "published"`
	params := dbx.Params{}
	if topicID != "" {
		filter += ` && topics.id ?= {:topic}`
		params["topic"] = topicID
	}
	posts, err := app.FindRecordsByFilter("posts", filter, "-publishedAt,-id", FeedItems, 0, params)
	if err != nil {
		return nil, fmt.Errorf("load posts: %w", err)
	}
	// Server-side expansion without request rules: only the names are read,
	// so no email (or any other user field) can reach a feed.
	if failed := app.ExpandRecords(posts, []string{"author", "topics"}, nil); len(failed) > 0 {
		app.Logger().Warn("feeds: expand posts", "errors", fmt.Sprint(failed))
	}

	items := make([]item, 0, len(posts))
	for _, p := range posts {
		it := item{
			ID:    tagURI(st.host, p.GetDateTime("created").Time(), "posts", p.Id),
			URL:   st.link("posts", p.GetString("slug")),
			Title: p.GetString("title"),
			// Stored plain; PlainText again in case a row bypassed the hooks.
			Summary: text.PlainText(p.GetString("excerpt")),
			// Sanitized on every write already; again here because feed
			// readers render it and a row written around the hooks (raw SQL,
			// an import) must not carry script into them. Idempotent.
			ContentHTML: text.SanitizeHTML(p.GetString("body")),
			Published:   p.GetDateTime("publishedAt").Time(),
			Updated:     p.GetDateTime("updated").Time(),
		}
		if it.Published.IsZero() {
			it.Published = it.Updated
		}
		if a := p.ExpandedOne("author"); a != nil {
			it.Author = a.GetString("name")
		}
		for _, t := range p.ExpandedAll("topics") {
			it.Categories = append(it.Categories, category{Slug: t.GetString("slug"), Name: t.GetString("name")})
		}
		items = append(items, it)
	}
	return items, nil
}

// tagURI is an RFC 4151 tag: a permanent id that survives slug edits (unlike
// the link), e.g. tag:lectern.example,2026-01-31:posts/abc123.
func tagURI(host string, created time.Time, collection, id string) string {
	if created.IsZero() {
		created = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return "tag:" + host + "," + created.UTC().Format("2006-01-02") + ":" + collection + "/" + id
}
