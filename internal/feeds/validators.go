package feeds

// Validators: how a document's ETag and Last-Modified are derived without
// building it.
//
// ETag = hash(process nonce, generation, app URL and name, document key,
// count and max(updated) of each table the document reads). The fingerprint
// query alone catches every create, edit, publish, unpublish and archive (the
// count or max(updated) moves) and most deletions (the count drops); the
// generation counter, bumped by after-success model hooks on posts, topics,
// courses and users, catches what it cannot: a deletion that coincides with
// another write, a renamed author (users are not in the fingerprint), two
// writes stamped in the same millisecond. The nonce covers what the counter
// forgets on a restart (a restored backup). The query also catches writes
// that bypass the hooks (raw SQL), as far as they move count or max(updated).
//
// Last-Modified = max(max(updated) of those tables, time of the last tracked
// write seen by this process — the process start at first). max(updated)
// alone is not honest: deleting or unpublishing a post changes the document
// but no remaining row's updated, so the date would stay put and a client
// asking If-Modified-Since would be told nothing changed. The write clock
// moves on every tracked write, deletions included; after a restart it starts
// at the start time, which is no earlier than any deletion before it. It is
// also withheld while the second it names is not over: HTTP dates have
// one-second resolution, and a second write within that second would carry
// the same date.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Tables the documents are built from.
var (
	feedTables    = []string{"posts", "topics"}
	sitemapTables = []string{"posts", "courses"}
)

// statSQL is the per-table fingerprint query: what the documents include,
// never the rows they leave out (a draft edit does not change a feed).
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

// fingerprint is a cheap summary of the rows a document is built from.
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

// maxUpdated is the newest updated among the included rows (zero if none).
func (fp fingerprint) maxUpdated() time.Time {
	var max time.Time
	for _, s := range fp {
		if dt, err := types.ParseDateTime(s.MaxUpdated); err == nil && dt.Time().After(max) {
			max = dt.Time()
		}
	}
	return max
}

// makeETag hashes everything a document's bytes depend on. It is a strong
// validator: the same inputs render the same bytes.
func makeETag(nonce string, gen uint64, siteURL, siteName, key string, fp fingerprint) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field(nonce)
	field(strconv.FormatUint(gen, 10))
	field(siteURL)
	field(siteName)
	field(key)
	for _, s := range fp {
		field(s.Table)
		field(strconv.Itoa(s.Count))
		field(s.MaxUpdated)
	}
	return `"` + hex.EncodeToString(h.Sum(nil))[:32] + `"`
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
