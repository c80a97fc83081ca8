package feeds

// Validators: a document's ETag and Last-Modified come from what it shows,
// and from nothing else.
//
// ETag = hash(app URL and name, document key, digest), where the digest
// hashes every value the body is built from (for a feed: each listed post's
// id, dates, slug, title, excerpt, body, author name and topic names, in
// order; for a topic feed also the topic's name, slug and description; for
// the sitemap the URLs it lists). The body is rendered from the very values
// the digest was taken of, so the ETag is a strong validator. A write the
// document does not show — a draft, a hidden comment, an unpublished course,
// a comment count, a bio — leaves it alone: it is the same document.
//
// Last-Modified = when this process first saw the document's current digest:
// the process start for the first digest it sees, then the moment a request
// found a new one. A row's updated cannot serve: PocketBase moves it on every
// save, comment recounts included, and deleting or unpublishing a post changes
// the document while no remaining row's updated changes. After a restart
// the date is the start time (no earlier than any change before it), so a
// client asking If-Modified-Since alone refetches once; If-None-Match, which
// feed readers send, keeps matching across restarts. It is also withheld
// while the second it names is not over: HTTP dates have one-second
// resolution, and a second change within that second would carry the same
// date.
//
// Loading what a document shows costs a query over its rows (the 50 posts of
// a feed, bodies included). A 304 should not pay it every time, so the
// digest is remembered per document under a stamp: a generation counter,
// bumped by after-success model hooks on posts, topics, courses and users,
// plus the count and max(updated) of the rows the document covers (which
// also catch writes from another process or raw SQL, as far as they move
// them), plus the app URL and name. While the stamp holds, the remembered
// ETag answers If-None-Match without loading anything; when it moves, the
// document is loaded again and its digest compared, so a draft edit costs
// one reload but changes no validator.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Tables the documents are built from.
var (
	feedTables    = []string{"posts", "topics"}
	sitemapTables = []string{"posts", "courses"}
)

// statSQL is the per-table stamp query: what the documents include, never
// the rows they leave out (a draft edit does not even cost a reload).
var statSQL = map[string]string{
	"posts":   `SELECT 'posts' AS t, COUNT(*) AS n, COALESCE(MAX(updated), '') AS u FROM posts WHERE status = 'published'`,
	"courses": `SELECT 'courses' AS t, COUNT(*) AS n, COALESCE(MAX(updated), '') AS u FROM courses WHERE status = 'published'`,
	"topics":  `SELECT 'topics' AS t, COUNT(*) AS n, COALESCE(MAX(updated), '') AS u FROM topics`,
}

// tableStat is the fingerprint of one table's included rows.
type tableStat struct {
	Table      string `db:"t"`
	Count      int    `db:"n"`
	MaxUpdated string `db:"u"`
}

// fingerprint is a cheap summary of the rows a document is built from: part
// of the stamp, and the sitemap's URL count.
type fingerprint []tableStat

func loadFingerprint(app core.App, tables []string) (fingerprint, error) {
	parts := make([]string, len(tables))
	for i, t := range tables {
		q, ok := statSQL[t]
		if !ok {
			return nil, fmt.Errorf("no fingerprint for table %q", t)
		}
		parts[i] = q
	}
	var fp fingerprint
	if err := app.DB().NewQuery(strings.Join(parts, " UNION ALL ")).All(&fp); err != nil {
		return nil, err
	}
	return fp, nil
}

// count is the number of included rows of table.
func (fp fingerprint) count(table string) int {
	for _, s := range fp {
		if s.Table == table {
			return s.Count
		}
	}
	return 0
}

// digest accumulates the values a document shows, each length-prefixed so
// no two different sequences of values hash alike.
type digest struct{ h hash.Hash }

func newDigest() digest { return digest{sha256.New()} }

func (d digest) add(values ...string) {
	for _, v := range values {
		d.h.Write([]byte(strconv.Itoa(len(v))))
		d.h.Write([]byte{':'})
		d.h.Write([]byte(v))
	}
}

func (d digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// makeETag is a document's strong validator: the site it is rendered for,
// which document, and the digest of what it shows.
func makeETag(siteURL, siteName, key, shown string) string {
	d := newDigest()
	d.add(siteURL, siteName, key, shown)
	return `"` + d.sum()[:32] + `"`
}

// makeStamp identifies the state a remembered ETag was computed in: while it
// holds, the document cannot have changed (see the top of this file).
func makeStamp(gen uint64, st site, fp fingerprint) string {
	d := newDigest()
	d.add(strconv.FormatUint(gen, 10), st.url, st.name)
	for _, s := range fp {
		d.add(s.Table, strconv.Itoa(s.Count), s.MaxUpdated)
	}
	return d.sum()
}

// ---

// maxRemembered bounds the remembered documents (one per topic feed and
// sitemap page): past it the memory starts over, which only costs reloads
// and moves Last-Modified forward, never back.
const maxRemembered = 4096

// seen is what the service remembers of one document.
type seen struct {
	stamp string    // the state etag was computed in
	etag  string    // of the content last loaded
	since time.Time // when that content was first seen
}

// lookup returns the remembered validators of key if stamp still holds.
func (s *service) lookup(key, stamp string) (validators, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.seen[key]
	if !ok || m.stamp != stamp {
		return validators{}, false
	}
	return validators{ETag: m.etag, LastMod: m.since}, true
}

// remember records that key, loaded under stamp, has etag, and returns its
// validators: Last-Modified moves only when the ETag does.
func (s *service) remember(key, stamp, etag string) validators {
	s.mu.Lock()
	defer s.mu.Unlock()
	since := s.started
	if m, ok := s.seen[key]; ok {
		since = m.since
		if m.etag != etag {
			since = now()
		}
	} else if len(s.seen) >= maxRemembered {
		s.seen = map[string]seen{}
		since = now()
	}
	s.seen[key] = seen{stamp: stamp, etag: etag, since: since}
	return validators{ETag: etag, LastMod: since}
}

// validators are a document's ETag and its last modification time.
type validators struct {
	ETag    string
	LastMod time.Time
}

// settled reports whether LastMod may be sent at now: only once the second
// it names is over, so no later change can share its HTTP date.
func (v validators) settled(now time.Time) bool {
	return !v.LastMod.IsZero() && v.LastMod.Truncate(time.Second).Before(now.Truncate(time.Second))
}

// notModified evaluates a GET's preconditions as RFC 9110 §13.2.2 orders them:
// If-None-Match when present (weak comparison), otherwise If-Modified-Since,
// which counts only when a Last-Modified was sent (lastModSent).
func notModified(h http.Header, v validators, lastModSent bool) bool {
	if inm := h.Values("If-None-Match"); len(inm) > 0 {
		return etagMatch(strings.Join(inm, ","), v.ETag)
	}
	if !lastModSent {
		return false
	}
	ims := h.Get("If-Modified-Since")
	if ims == "" {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	return !v.LastMod.Truncate(time.Second).After(t)
}

// etagMatch reports whether an If-None-Match value lists etag, comparing
// weakly (W/"x" matches "x"); "*" matches any current representation.
func etagMatch(header, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimSpace(c)
		if c == "*" {
			return true
		}
		if c != "" && strings.TrimPrefix(c, "W/") == want {
			return true
		}
	}
	return false
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
