package feeds

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

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
	// Updated is the publication date too: the row's updated moves on writes
	// a feed does not show (a comment recount, a new cover), and a date in
	// the body that moved with them would change a document that did not.
	Updated    time.Time
	Categories []category
}

type category struct {
	Slug string
	Name string
}

// feedPost is what a feed shows of one post, as stored.
type feedPost struct {
	ID          string     `db:"id"`
	Created     string     `db:"created"`
	Slug        string     `db:"slug"`
	Title       string     `db:"title"`
	Excerpt     string     `db:"excerpt"`
	Body        string     `db:"body"`
	PublishedAt string     `db:"publishedAt"`
	Author      string     `db:"author"` // the author's display name
	TopicIDs    string     `db:"topics"` // the relation as stored: a JSON array of ids
	Categories  []category `db:"-"`
}

// feedPosts are a feed's posts, newest first.
type feedPosts []feedPost

// feedPostsSQL selects the FeedItems latest published posts (id breaks ties),
// only the columns a feed shows, the author's name joined without any rule:
// no email (or any other user field) can reach a feed.
const feedPostsSQL = `SELECT p.[[id]] AS id, p.[[created]] AS created, p.[[slug]] AS slug,
	p.[[title]] AS title, p.[[excerpt]] AS excerpt, p.[[body]] AS body,
	p.[[publishedAt]] AS publishedAt, COALESCE(u.[[name]], '') AS author, p.[[topics]] AS topics
FROM {{posts}} p LEFT JOIN {{users}} u ON u.[[id]] = p.[[author]]
WHERE p.[[status]] = 'published' %s
ORDER BY p.[[publishedAt]] DESC, p.[[id]] DESC LIMIT {:limit}`

// loadFeedPosts returns the FeedItems latest published posts, newest first
// (id breaks ties), optionally only those tagged with topicID, with their
// topics' slugs and names in the relation's order.
func loadFeedPosts(app core.App, topicID string) (feedPosts, error) {
	where := ""
	params := dbx.Params{"limit": FeedItems}
	if topicID != "" {
		where = `AND EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(p.[[topics]]) THEN p.[[topics]] ELSE '[]' END) j WHERE j.value = {:topic})`
		params["topic"] = topicID
	}
	var posts feedPosts
	if err := app.DB().NewQuery(fmt.Sprintf(feedPostsSQL, where)).Bind(params).All(&posts); err != nil {
		return nil, fmt.Errorf("load posts: %w", err)
	}

	ids := map[string]bool{}
	order := make([][]string, len(posts))
	for i, p := range posts {
		var topicIDs []string
		if err := json.Unmarshal([]byte(p.TopicIDs), &topicIDs); err != nil && p.TopicIDs != "" {
			topicIDs = []string{p.TopicIDs} // a single id stored bare
		}
		order[i] = topicIDs
		for _, id := range topicIDs {
			ids[id] = true
		}
	}
	if len(ids) > 0 {
		var rows []struct {
			ID   string `db:"id"`
			Slug string `db:"slug"`
			Name string `db:"name"`
		}
		err := app.DB().Select("id", "slug", "name").From("topics").
			Where(dbx.In("id", toAny(ids)...)).All(&rows)
		if err != nil {
			return nil, fmt.Errorf("load topics: %w", err)
		}
		byID := make(map[string]category, len(rows))
		for _, r := range rows {
			byID[r.ID] = category{Slug: r.Slug, Name: r.Name}
		}
		for i := range posts {
			for _, id := range order[i] {
				if c, ok := byID[id]; ok { // a deleted topic is not shown
					posts[i].Categories = append(posts[i].Categories, c)
				}
			}
		}
	}
	return posts, nil
}

func toAny(set map[string]bool) []any {
	out := make([]any, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}

// addTo feeds every value the posts show into d, in order.
func (ps feedPosts) addTo(d digest) {
	d.add(strconv.Itoa(len(ps)))
	for _, p := range ps {
		d.add(p.ID, p.Created, p.Slug, p.Title, p.Excerpt, p.Body, p.PublishedAt, p.Author,
			strconv.Itoa(len(p.Categories)))
		for _, c := range p.Categories {
			d.add(c.Slug, c.Name)
		}
	}
}

// items turns the posts into feed items for st.
func (ps feedPosts) items(st site) []item {
	items := make([]item, 0, len(ps))
	for _, p := range ps {
		published := parseDate(p.PublishedAt)
		if published.IsZero() { // a row written around the hooks
			published = parseDate(p.Created)
		}
		it := item{
			ID:    tagURI(st.host, parseDate(p.Created), "posts", p.ID),
			URL:   st.link("posts", p.Slug),
			Title: p.Title,
			// Stored plain; PlainText again in case a row bypassed the hooks.
			Summary: text.PlainText(p.Excerpt),
			// Sanitized on every write already; again here because feed
			// readers render it and a row written around the hooks (raw SQL,
			// an import) must not carry script into them. Idempotent.
			ContentHTML: text.SanitizeHTML(p.Body),
			Author:      p.Author,
			Published:   published,
			Updated:     published,
			Categories:  p.Categories,
		}
		items = append(items, it)
	}
	return items
}

// newest is the latest publication date among items (zero if none): the
// channel's date, which moves only with what the feed lists.
func newest(items []item) time.Time {
	var t time.Time
	for _, it := range items {
		t = latest(t, it.Published)
	}
	return t
}

func parseDate(s string) time.Time {
	dt, err := types.ParseDateTime(s)
	if err != nil {
		return time.Time{}
	}
	return dt.Time()
}

// tagURI is an RFC 4151 tag: a permanent id that survives slug edits (unlike
// the link), e.g. tag:lectern.example,2026-01-31:posts/abc123.
func tagURI(host string, created time.Time, collection, id string) string {
	if created.IsZero() {
		created = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return "tag:" + host + "," + created.UTC().Format("2006-01-02") + ":" + collection + "/" + id
}
