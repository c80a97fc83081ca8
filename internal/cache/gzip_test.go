package cache_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/cache"
	"lectern/internal/testkit"
)

// raw sends a guest GET with exactly the given headers: Go's transport
// neither adds Accept-Encoding nor decompresses.
func (s *server) raw(path string, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	require.NoError(s.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := s.srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	res, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                              false,
		"gzip":                          true,
		"GZip":                          true,
		"gzip, deflate, br, zstd":       true,
		"br;q=1.0, gzip;q=0.8, *;q=0.1": true,
		"x-gzip":                        true,
		"gzip;q=0":                      false,
		"gzip; q=0.000":                 false,
		"gzip;q=0.001":                  true,
		"deflate, br":                   false,
		"identity":                      false,
		"*":                             true,
		"*;q=0":                         false,
		"gzip;q=0, *":                   false,
		"*, gzip;q=0":                   false,
		"gzipx":                         false,
	} {
		var values []string
		if header != "" {
			values = []string{header}
		}
		assert.Equal(t, want, cache.AcceptsGzip(values), "%q", header)
	}
	assert.True(t, cache.AcceptsGzip([]string{"deflate", "gzip"}), "several header lines")
}

// bigList is a response of the fixture over the gzip threshold.
const bigList = "/api/collections/posts/records?perPage=50&sort=created&expand=author,topics"

// TestGzipVariant checks both variants of a large body on both paths a hit
// can take: the headers, the bytes, the 304s and the invalidation.
func TestGzipVariant(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	early := func() int64 { return s.cache.Stats().Early }
	const gz = "Accept-Encoding"

	// the miss that stores the entry is compressed too
	miss := s.raw(bigList, gz, "gzip")
	require.Equal(t, "MISS", miss.header.Get(cache.HeaderStatus))
	assert.Equal(t, "gzip", miss.header.Get("Content-Encoding"))

	ident := s.raw(bigList)
	require.Equal(t, "HIT", ident.header.Get(cache.HeaderStatus))
	require.Greater(t, len(ident.body), 1024)
	assert.Empty(t, ident.header.Get("Content-Encoding"))
	assert.Equal(t, strconv.Itoa(len(ident.body)), ident.header.Get("Content-Length"))
	assert.Equal(t, []string{"Origin", "Authorization", "Accept-Encoding"}, ident.header.Values("Vary"))
	etag := ident.header.Get("ETag")
	require.True(t, strings.HasPrefix(etag, `"`) && strings.HasSuffix(etag, `"`), etag)
	gzTag := strings.TrimSuffix(etag, `"`) + `-gz"`
	assert.Equal(t, gzTag, miss.header.Get("ETag"))
	assert.Equal(t, ident.body, gunzip(t, miss.body))

	// a gzip hit in front of the router, and through the router's
	// middleware (the first request from a new Origin), send the same
	for _, origin := range []string{"", allowedOrigin, allowedOrigin} {
		n := early()
		res := s.raw(bigList, gz, "gzip, deflate, br", "Origin", origin)
		require.Equal(t, "HIT", res.header.Get(cache.HeaderStatus), origin)
		if origin == "" {
			assert.Equal(t, n+1, early(), "in front of the router")
		}
		assert.Equal(t, "gzip", res.header.Get("Content-Encoding"), origin)
		assert.Equal(t, strconv.Itoa(len(res.body)), res.header.Get("Content-Length"), origin)
		assert.Less(t, len(res.body), len(ident.body)/2, origin)
		assert.Equal(t, gzTag, res.header.Get("ETag"), origin)
		assert.Equal(t, ident.body, gunzip(t, res.body), origin)
		assert.Equal(t, ident.header.Get("Content-Type"), res.header.Get("Content-Type"), origin)
		assert.Equal(t, ident.header.Get("X-Frame-Options"), res.header.Get("X-Frame-Options"), origin)
		assert.Equal(t, []string{"Origin", "Authorization", "Accept-Encoding"}, res.header.Values("Vary"), origin)
		assert.Equal(t, origin, res.header.Get("Access-Control-Allow-Origin"))
	}
	viaRouter := s.raw(bigList, gz, "gzip", "Origin", "https://third.test")
	n := early()
	inFront := s.raw(bigList, gz, "gzip", "Origin", "https://third.test")
	require.Equal(t, n+1, early())
	assert.Equal(t, withoutDate(viaRouter.header), withoutDate(inFront.header))
	assert.Equal(t, viaRouter.body, inFront.body)

	// refused or not offered: identity
	for _, ae := range []string{"", "gzip;q=0", "identity", "br", "*;q=0, deflate"} {
		res := s.raw(bigList, gz, ae)
		assert.Equal(t, "HIT", res.header.Get(cache.HeaderStatus), ae)
		assert.Empty(t, res.header.Get("Content-Encoding"), ae)
		assert.Equal(t, etag, res.header.Get("ETag"), ae)
		assert.Equal(t, ident.body, res.body, ae)
		assert.Contains(t, res.header.Values("Vary"), "Accept-Encoding", ae)
	}

	// 304 per variant: the ETag named, if the client takes that variant
	for _, tc := range []struct {
		accept, inm string
		status      int
		etag        string
	}{
		{"gzip", gzTag, http.StatusNotModified, gzTag},
		{"gzip", etag, http.StatusNotModified, etag}, // it stored the identity body
		{"gzip", `"other", ` + gzTag, http.StatusNotModified, gzTag},
		{"", etag, http.StatusNotModified, etag},
		{"", gzTag, http.StatusOK, etag}, // it cannot take what it names
		{"gzip;q=0", gzTag, http.StatusOK, etag},
		{"gzip", `"other"`, http.StatusOK, gzTag},
	} {
		res := s.raw(bigList, gz, tc.accept, "If-None-Match", tc.inm)
		name := tc.accept + " / " + tc.inm
		assert.Equal(t, tc.status, res.status, name)
		assert.Equal(t, tc.etag, res.header.Get("ETag"), name)
		assert.Contains(t, res.header.Values("Vary"), "Accept-Encoding", name)
		if tc.status == http.StatusNotModified {
			assert.Empty(t, res.body, name)
			assert.Empty(t, res.header.Get("Content-Encoding"), name)
			assert.Empty(t, res.header.Get("Content-Type"), name)
		}
	}

	// the compressed copy counts in the byte budget
	st := s.cache.Stats()
	assert.Equal(t, 1, st.Entries)
	assert.Greater(t, st.Bytes, int64(len(ident.body)+len(miss.body)))

	// a write drops both variants: the next gzip response is the new body
	res := s.do(http.MethodPost, "/api/collections/comments/records", testkit.Student,
		map[string]any{"post": testkit.PostPublished, "body": "fresh"}, nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	fresh := s.raw(bigList, gz, "gzip")
	assert.Equal(t, "MISS", fresh.header.Get(cache.HeaderStatus))
	assert.NotEqual(t, gzTag, fresh.header.Get("ETag"))
	count := func(body []byte) int {
		var page struct {
			Items []struct {
				ID            string
				CommentsCount int
			}
		}
		require.NoError(t, json.Unmarshal(body, &page))
		for _, it := range page.Items {
			if it.ID == testkit.PostPublished {
				return it.CommentsCount
			}
		}
		t.Fatal("post not listed")
		return 0
	}
	assert.Equal(t, count(ident.body)+1, count(gunzip(t, fresh.body)))
	freshHit := s.raw(bigList, gz, "gzip")
	require.Equal(t, "HIT", freshHit.header.Get(cache.HeaderStatus))
	assert.Equal(t, fresh.body, freshHit.body)
	stale := s.raw(bigList, gz, "gzip", "If-None-Match", gzTag)
	assert.Equal(t, http.StatusOK, stale.status, "the old gzip ETag no longer revalidates")
}

func TestSmallBodiesStayIdentity(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	small := "/api/collections/posts/records/" + testkit.PostPublished + "?fields=id"
	for _, status := range []string{"MISS", "HIT", "HIT"} {
		res := s.raw(small, "Accept-Encoding", "gzip")
		require.Equal(t, status, res.header.Get(cache.HeaderStatus))
		require.Less(t, len(res.body), 1024)
		assert.Contains(t, string(res.body), testkit.PostPublished)
		assert.Empty(t, res.header.Get("Content-Encoding"))
		assert.NotContains(t, res.header.Get("ETag"), "-gz")
		assert.Equal(t, []string{"Origin", "Authorization", "Accept-Encoding"}, res.header.Values("Vary"))
	}
	assert.Positive(t, s.cache.Stats().Early)
}
