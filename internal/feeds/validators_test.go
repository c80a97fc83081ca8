package feeds

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestETagMatch(t *testing.T) {
	const etag = `"abc"`
	cases := []struct {
		header string
		want   bool
	}{
		{`"abc"`, true},
		{`W/"abc"`, true},
		{`"x", "abc"`, true},
		{`"x",W/"abc" `, true},
		{`*`, true},
		{` * `, true},
		{`"abcd"`, false},
		{`abc`, false},
		{`"ab"`, false},
		{``, false},
		{`,`, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, etagMatch(c.header, etag), "If-None-Match: %s", c.header)
	}
}

func TestNotModified(t *testing.T) {
	lm := time.Date(2026, 3, 4, 5, 6, 7, 800_000_000, time.UTC)
	v := validators{ETag: `"e"`, LastMod: lm}
	at := func(t time.Time) string { return t.Format(http.TimeFormat) }
	cases := []struct {
		name   string
		h      map[string]string
		lmSent bool
		want   bool
	}{
		{"no preconditions", nil, true, false},
		{"matching tag", map[string]string{"If-None-Match": `"e"`}, true, true},
		{"other tag", map[string]string{"If-None-Match": `"f"`}, true, false},
		{"other tag wins over a matching date", map[string]string{"If-None-Match": `"f"`, "If-Modified-Since": at(lm)}, true, false},
		{"same second", map[string]string{"If-Modified-Since": at(lm)}, true, true},
		{"later date", map[string]string{"If-Modified-Since": at(lm.Add(time.Hour))}, true, true},
		{"earlier date", map[string]string{"If-Modified-Since": at(lm.Add(-time.Second))}, true, false},
		{"date but no Last-Modified sent", map[string]string{"If-Modified-Since": at(lm)}, false, false},
		{"garbage date", map[string]string{"If-Modified-Since": "yesterday"}, true, false},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, val := range c.h {
			h.Set(k, val)
		}
		assert.Equal(t, c.want, notModified(h, v, c.lmSent), c.name)
	}

	multi := http.Header{}
	multi.Add("If-None-Match", `"x"`)
	multi.Add("If-None-Match", `"e"`)
	assert.True(t, notModified(multi, v, false), "tags over several header lines")
}

func TestSettled(t *testing.T) {
	lm := time.Date(2026, 3, 4, 5, 6, 7, 800_000_000, time.UTC)
	cases := []struct {
		now  time.Time
		want bool
	}{
		{lm, false},
		{lm.Add(100 * time.Millisecond), false}, // 07.900: same second
		{lm.Add(200 * time.Millisecond), true},  // 08.000: next second
		{lm.Add(-time.Second), false},           // clock behind a stamp
		{lm.Add(time.Hour), true},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, validators{LastMod: lm}.settled(c.now), "now %s", c.now.Format(time.RFC3339Nano))
	}
	assert.False(t, validators{}.settled(lm), "zero time is never sent")
}

func TestMakeETag(t *testing.T) {
	fp := fingerprint{{"posts", 2, "2026-01-01 00:00:00.000Z"}, {"topics", 1, "2026-01-01 00:00:00.000Z"}}
	base := makeETag("n", 1, "https://a", "A", "k", fp)
	assert.Regexp(t, `^"[0-9a-f]{32}"$`, base)
	assert.Equal(t, base, makeETag("n", 1, "https://a", "A", "k", fp), "deterministic")

	variants := map[string]string{
		"nonce":      makeETag("m", 1, "https://a", "A", "k", fp),
		"generation": makeETag("n", 2, "https://a", "A", "k", fp),
		"site URL":   makeETag("n", 1, "https://b", "A", "k", fp),
		"site name":  makeETag("n", 1, "https://a", "B", "k", fp),
		"key":        makeETag("n", 1, "https://a", "A", "j", fp),
		"count":      makeETag("n", 1, "https://a", "A", "k", fingerprint{{"posts", 1, "2026-01-01 00:00:00.000Z"}, fp[1]}),
		"updated":    makeETag("n", 1, "https://a", "A", "k", fingerprint{{"posts", 2, "2026-01-01 00:00:00.001Z"}, fp[1]}),
		"boundaries": makeETag("n", 1, "https://a", "Ak", "", fp),
	}
	for what, tag := range variants {
		assert.NotEqual(t, base, tag, "a different %s must change the ETag", what)
	}
}

func TestFingerprintMaxUpdated(t *testing.T) {
	fp := fingerprint{
		{"posts", 2, "2026-01-01 00:00:00.000Z"},
		{"topics", 1, "2026-02-01 00:00:00.000Z"},
		{"courses", 0, ""},
	}
	assert.Equal(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), fp.maxUpdated())
	assert.Equal(t, 2, fp.count("posts"))
	assert.Equal(t, 0, fp.count("courses"))
	assert.Equal(t, 0, fp.count("nope"))
	assert.True(t, fingerprint{}.maxUpdated().IsZero())
}
