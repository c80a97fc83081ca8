// Package feeds serves Lectern's syndication documents: the latest published
// posts as RSS 2.0 (GET /feed.xml), Atom 1.0 (GET /atom.xml) and JSON Feed 1.1
// (GET /feed.json), one RSS feed per topic (GET /topics/{slug}/feed.xml, 404 for
// an unknown slug), and a sitemap of the home page, published posts and
// published courses (GET /sitemap.xml, which becomes a sitemap index pointing at
// GET /sitemap-{n}.xml pages above SitemapMaxURLs URLs).
//
// Only published posts and courses ever appear; drafts, scheduled and archived
// ones never do, whoever asks (the documents ignore the caller's auth).
//
// # Site URL
//
// Every absolute link is built from the application URL in the settings
// (dashboard → Settings → Application → Application URL, i.e.
// Settings().Meta.AppURL) with any trailing slash trimmed: a post is
// {AppURL}/posts/{slug}, a course {AppURL}/courses/{slug}, a topic
// {AppURL}/topics/{slug}, the home page {AppURL}/. Set it to the public URL of
// the site; PocketBase's default is http://localhost:8090.
//
// # Caching
//
// Every response carries an ETag, Cache-Control: public, max-age=60, and once
// its second is over a Last-Modified; If-None-Match (and, without it,
// If-Modified-Since) is answered 304 before the document is rendered. Both
// validators derive only from what the document shows: a draft edit, a
// hidden comment, an unpublished course leave them as they were, while an
// edit of a listed post changes them. See validators.go.
package feeds

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// FeedItems is how many posts a feed lists: the latest published ones.
const FeedItems = 50

// SitemapMaxURLs is the most URLs one sitemap document may hold (the sitemaps.org
// limit). Above it /sitemap.xml becomes a sitemap index of /sitemap-{n}.xml
// pages. A variable so tests can lower it.
var SitemapMaxURLs = 50000

// CacheControl is sent with every document: feed readers and crawlers poll,
// and a minute of staleness is cheap next to rebuilding the document.
const CacheControl = "public, max-age=60"

// Content types of the documents.
const (
	ContentTypeRSS      = "application/rss+xml; charset=utf-8"
	ContentTypeAtom     = "application/atom+xml; charset=utf-8"
	ContentTypeJSONFeed = "application/feed+json; charset=utf-8"
	ContentTypeSitemap  = "application/xml; charset=utf-8"
)

// now is the clock; tests move it to see Last-Modified (which is withheld
// within the second it names).
var now = time.Now

// onRender, when set (by tests), is called before a document body is built.
var onRender func(key string)

// Register binds the change tracking hooks and the routes to app. The routes
// are added in OnServe at the default priority, so they exist before main.go's
// static catch-all (priority 999); being more specific patterns they would win
// over "/{path...}" anyway. The sitemap pages are served by a router
// middleware because a ServeMux wildcard cannot be part of a segment
// ("/sitemap-{n}.xml").
func Register(app core.App) {
	s := newService()

	bump := func(e *core.RecordEvent) error {
		s.changed()
		return e.Next()
	}
	// After-success hooks run once the write has committed (after the outer
	// transaction for nested saves), so a reader that sees the bumped
	// generation also sees the new rows. A bump only makes the next request
	// load the document again; its validators move only if what it shows did.
	tracked := []string{"posts", "topics", "courses"}
	app.OnRecordAfterCreateSuccess(tracked...).BindFunc(bump)
	app.OnRecordAfterUpdateSuccess(tracked...).BindFunc(bump)
	app.OnRecordAfterDeleteSuccess(tracked...).BindFunc(bump)
	// Feeds show author names: a renamed author changes them although no post
	// row changes.
	app.OnRecordAfterUpdateSuccess("users").BindFunc(bump)
	app.OnRecordAfterDeleteSuccess("users").BindFunc(bump)

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.GET("/feed.xml", s.handleFeed(formatRSS))
		se.Router.GET("/atom.xml", s.handleFeed(formatAtom))
		se.Router.GET("/feed.json", s.handleFeed(formatJSON))
		se.Router.GET("/topics/{slug}/feed.xml", s.handleTopicFeed)
		se.Router.GET("/sitemap.xml", s.handleSitemap)
		se.Router.BindFunc(s.sitemapPages)
		return se.Next()
	})
}

// ---

// service holds what the validators are derived and remembered from.
type service struct {
	started time.Time // Last-Modified of the first content seen in this process

	mu   sync.Mutex
	gen  uint64          // bumped after every committed tracked write
	seen map[string]seen // document key → its last loaded ETag
}

func newService() *service {
	return &service{started: now(), seen: map[string]seen{}}
}

func (s *service) changed() {
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
}

func (s *service) generation() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// site is the absolute base every link is built from.
type site struct {
	url  string // AppURL without trailing slash
	host string // its host name, the authority of the tag: URIs
	name string // AppName
}

func siteOf(app core.App) site {
	meta := app.Settings().Meta
	return newSite(meta.AppURL, meta.AppName)
}

// newSite trims the trailing slash off appURL; an empty one leaves links
// root-relative ("/posts/x").
func newSite(appURL, appName string) site {
	base := strings.TrimRight(strings.TrimSpace(appURL), "/")
	host := "localhost"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		host = strings.ToLower(u.Hostname())
	}
	name := strings.TrimSpace(appName)
	if name == "" {
		name = "Lectern"
	}
	return site{url: base, host: host, name: name}
}

func (s site) home() string                { return s.url + "/" }
func (s site) link(parts ...string) string { return s.url + pathOf(parts...) }

func pathOf(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// ---

// document is one cacheable response: what its stamp covers and its type.
type document struct {
	key         string   // distinguishes documents in the ETag and the memory
	tables      []string // whose published rows the stamp summarizes
	contentType string
}

// shown is a document's content, loaded: the digest of every value the body
// shows and the function rendering the body from those very values.
type shown struct {
	digest string
	render func() ([]byte, error)
}

// serve answers a document: validators first, 304 when the client's copy is
// current, and only otherwise render. A non-nil check runs after the
// fingerprint and may refuse the request (a sitemap page out of range) before
// any validator is sent. load reads what the document shows; it is skipped
// when the remembered ETag answers If-None-Match.
func (s *service) serve(e *core.RequestEvent, doc document, check func(fingerprint) error,
	load func(st site, fp fingerprint) (*shown, error)) error {
	// The generation is read before anything is loaded: a write committed
	// meanwhile leaves a stamp that no longer holds, never a stale memory.
	gen := s.generation()
	fp, err := loadFingerprint(e.App, doc.tables)
	if err != nil {
		return fmt.Errorf("feeds: fingerprint %s: %w", doc.key, err)
	}
	if check != nil {
		if err := check(fp); err != nil {
			return err
		}
	}
	st := siteOf(e.App)
	stamp := makeStamp(gen, st, fp)

	answer := func(v validators) bool {
		h := e.Response.Header()
		h.Set("ETag", v.ETag)
		h.Set("Cache-Control", CacheControl)
		lmHonest := v.settled(now())
		if lmHonest {
			h.Set("Last-Modified", v.LastMod.UTC().Format(http.TimeFormat))
		} else {
			h.Del("Last-Modified")
		}
		return notModified(e.Request.Header, v, lmHonest)
	}
	if v, ok := s.lookup(doc.key, stamp); ok && answer(v) {
		return e.NoContent(http.StatusNotModified)
	}

	content, err := load(st, fp)
	if err != nil {
		return fmt.Errorf("feeds: load %s: %w", doc.key, err)
	}
	v := s.remember(doc.key, stamp, makeETag(st.url, st.name, doc.key, content.digest))
	if answer(v) {
		return e.NoContent(http.StatusNotModified)
	}

	if onRender != nil {
		onRender(doc.key)
	}
	body, err := content.render()
	if err != nil {
		return fmt.Errorf("feeds: render %s: %w", doc.key, err)
	}
	e.Response.Header().Set("Content-Type", doc.contentType)
	e.Response.Header().Set("Content-Length", strconv.Itoa(len(body)))
	return e.Blob(http.StatusOK, doc.contentType, body)
}

// ---

type format int

const (
	formatRSS format = iota
	formatAtom
	formatJSON
)

func (f format) contentType() string {
	switch f {
	case formatAtom:
		return ContentTypeAtom
	case formatJSON:
		return ContentTypeJSONFeed
	}
	return ContentTypeRSS
}

func (f format) path() string {
	switch f {
	case formatAtom:
		return "/atom.xml"
	case formatJSON:
		return "/feed.json"
	}
	return "/feed.xml"
}

func (s *service) handleFeed(f format) func(*core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		doc := document{key: "feed" + f.path(), tables: feedTables, contentType: f.contentType()}
		return s.serve(e, doc, nil, func(st site, _ fingerprint) (*shown, error) {
			posts, err := loadFeedPosts(e.App, "")
			if err != nil {
				return nil, err
			}
			d := newDigest()
			posts.addTo(d)
			return &shown{digest: d.sum(), render: func() ([]byte, error) {
				items := posts.items(st)
				ch := channel{
					Title:       st.name,
					Description: "The latest posts from " + st.name + ".",
					Home:        st.home(),
					Self:        st.url + f.path(),
					ID:          st.home(),
					Publisher:   st.name,
					Updated:     newest(items),
					Items:       items,
				}
				return render(f, ch)
			}}, nil
		})
	}
}

func (s *service) handleTopicFeed(e *core.RequestEvent) error {
	slug := e.Request.PathValue("slug")
	topic, err := e.App.FindFirstRecordByData("topics", "slug", slug)
	if err != nil || slug == "" {
		return e.NotFoundError("Topic not found.", nil)
	}
	doc := document{key: "topic/" + topic.Id, tables: feedTables, contentType: ContentTypeRSS}
	return s.serve(e, doc, nil, func(st site, _ fingerprint) (*shown, error) {
		// Re-read: the name may have changed since the lookup above; the
		// channel shows it, so it is loaded with the posts it is digested with.
		if fresh, err := e.App.FindRecordById("topics", topic.Id); err == nil {
			topic = fresh
		} // deleted meanwhile: the next request is a 404; this one uses what it found
		posts, err := loadFeedPosts(e.App, topic.Id)
		if err != nil {
			return nil, err
		}
		name, slug := topic.GetString("name"), topic.GetString("slug")
		desc := strings.TrimSpace(topic.GetString("description"))
		d := newDigest()
		d.add(name, slug, desc)
		posts.addTo(d)
		return &shown{digest: d.sum(), render: func() ([]byte, error) {
			if desc == "" {
				desc = "The latest " + name + " posts from " + st.name + "."
			}
			items := posts.items(st)
			ch := channel{
				Title:       st.name + ": " + name,
				Description: desc,
				Home:        st.link("topics", slug),
				Self:        st.link("topics", slug, "feed.xml"),
				Publisher:   st.name,
				Updated:     newest(items),
				Items:       items,
			}
			return render(formatRSS, ch)
		}}, nil
	})
}

func render(f format, ch channel) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch f {
	case formatAtom:
		err = writeAtom(&buf, ch)
	case formatJSON:
		err = writeJSONFeed(&buf, ch)
	default:
		err = writeRSS(&buf, ch)
	}
	return buf.Bytes(), err
}
