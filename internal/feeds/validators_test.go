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
	base := makeETag("https://a", "A", "k", "d")
	assert.Regexp(t, `^"[0-9a-f]{32}"$`, base)
	assert.Equal(t, base, makeETag("https://a", "A", "k", "d"), "deterministic")

	variants := map[string]string{
		"site URL":   makeETag("https://b", "A", "k", "d"),
		"site name":  makeETag("https://a", "B", "k", "d"),
		"key":        makeETag("https://a", "A", "j", "d"),
		"content":    makeETag("https://a", "A", "k", "e"),
		"boundaries": makeETag("https://a", "Ak", "", "d"),
	}
	for what, tag := range variants {
		assert.NotEqual(t, base, tag, "a different %s must change the ETag", what)
	}
}

func TestDigestBoundaries(t *testing.T) {
	sum := func(values ...string) string {
		d := newDigest()
		d.add(values...)
		return d.sum()
	}
	assert.Equal(t, sum("ab", "c"), sum("ab", "c"))
	assert.NotEqual(t, sum("ab", "c"), sum("a", "bc"))
	assert.NotEqual(t, sum("a", ""), sum("a"))
	assert.NotEqual(t, sum("1:a"), sum("1", "a"))
}

func TestMakeStamp(t *testing.T) {
	fp := fingerprint{{"posts", 2, "2026-01-01 00:00:00.000Z"}, {"topics", 1, "2026-01-01 00:00:00.000Z"}}
	st := site{url: "https://a", name: "A"}
	base := makeStamp(1, st, fp)
	assert.Equal(t, base, makeStamp(1, st, fp))
	variants := map[string]string{
		"generation": makeStamp(2, st, fp),
		"site URL":   makeStamp(1, site{url: "https://b", name: "A"}, fp),
		"site name":  makeStamp(1, site{url: "https://a", name: "B"}, fp),
		"count":      makeStamp(1, st, fingerprint{{"posts", 1, "2026-01-01 00:00:00.000Z"}, fp[1]}),
		"updated":    makeStamp(1, st, fingerprint{{"posts", 2, "2026-01-01 00:00:00.001Z"}, fp[1]}),
	}
	for what, stamp := range variants {
		assert.NotEqual(t, base, stamp, "a different %s must change the stamp", what)
	}
}

func TestRemember(t *testing.T) {
	clock := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	defer SetNow(func() time.Time { return clock })()
	s := newService()
	start := clock

	clock = clock.Add(time.Minute)
	v := s.remember("feed", "s1", `"a"`)
	assert.Equal(t, validators{ETag: `"a"`, LastMod: start}, v, "the first content seen dates from the start")
	got, ok := s.lookup("feed", "s1")
	assert.True(t, ok)
	assert.Equal(t, v, got)
	_, ok = s.lookup("feed", "s2")
	assert.False(t, ok, "another stamp: load again")

	clock = clock.Add(time.Minute)
	assert.Equal(t, validators{ETag: `"a"`, LastMod: start}, s.remember("feed", "s2", `"a"`),
		"a new stamp with the same content keeps the date")
	clock = clock.Add(time.Minute)
	changed := clock
	assert.Equal(t, validators{ETag: `"b"`, LastMod: changed}, s.remember("feed", "s3", `"b"`),
		"new content is dated when first seen")
	clock = clock.Add(time.Minute)
	assert.Equal(t, validators{ETag: `"b"`, LastMod: changed}, s.remember("feed", "s4", `"b"`))
	assert.Equal(t, validators{ETag: `"x"`, LastMod: start}, s.remember("sitemap", "s4", `"x"`),
		"documents are remembered apart")
}
