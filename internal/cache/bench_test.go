package cache_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"lectern/internal/cache"
	"lectern/internal/testkit"
)

// discard is a reusable ResponseWriter, so the benchmarks measure the
// handlers rather than a recorder.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header    { return d.h }
func (d *discard) WriteHeader(status int) { d.status = status }
func (d *discard) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.n += len(b)
	return len(b), nil
}

// BenchmarkHit serves a cached guest record view in process: in front of
// the router (what the server runs; also with a browser's Accept-Encoding,
// which every hit parses), through the router's middleware (the
// first request from a new Origin), and, for scale, a plain net/http handler
// writing the same bytes.
func BenchmarkHit(b *testing.B) {
	s := newServer(b, cache.DefaultOptions())
	path := "/api/collections/posts/records/" + testkit.PostPublished
	first := s.get(path, testkit.Guest)
	if s.get(path, testkit.Guest).header.Get(cache.HeaderStatus) != "HIT" {
		b.Fatal("not cached")
	}
	body := first.body
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	tmpl := httptest.NewRequest(http.MethodGet, path, nil)
	gz := httptest.NewRequest(http.MethodGet, path, nil)
	gz.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd") // a browser's
	for _, bc := range []struct {
		name string
		h    http.Handler
		hit  bool
		req  *http.Request
	}{
		{"in front of the router", s.handler, true, tmpl},
		{"in front of the router, Accept-Encoding", s.handler, true, gz},
		{"router middleware", s.mux, true, tmpl},
		{"plain net/http", plain, false, tmpl},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.status = 0
				r := *bc.req
				r.Body = http.NoBody
				bc.h.ServeHTTP(w, &r)
			}
			if w.status != http.StatusOK || w.n == 0 || bc.hit && w.h.Get(cache.HeaderStatus) != "HIT" {
				b.Fatalf("status %d, %d bytes, %v", w.status, w.n, w.h)
			}
		})
	}
}
