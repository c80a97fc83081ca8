package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"lectern/internal/cache"
	"lectern/internal/metrics"
)

// BenchmarkCachedReadMetrics is a cached guest read (a hit answered in front
// of the router, as `serve` does) with and without the metrics wrapper, side
// by side: what the instrumentation adds to the cheapest request Lectern
// serves. The whole-server figure is `go run ./bench --contenders
// lectern,lectern-nometrics --skip writes,login,realtime` (bench/README.md).
//
//	go test -run '^$' -bench CachedReadMetrics -count 5 ./bench
func BenchmarkCachedReadMetrics(b *testing.B) {
	app := benchApp(b, true)
	c := cache.New(cache.DefaultOptions())
	c.Bind(app)
	mux := apiHandler(b, app)
	early := c.Handler(mux)
	const path = "/api/collections/posts/records?perPage=20&sort=-created"
	get := func(h http.Handler) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RequestURI = path
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// the miss stores the page, the next learns the preface: then hits
	for range 3 {
		get(early)
	}
	if r := get(early); r.Code != 200 || r.Header().Get(cache.HeaderStatus) != "HIT" {
		b.Fatalf("not a cache hit: %d %q", r.Code, r.Header().Get(cache.HeaderStatus))
	}
	for _, v := range []struct {
		name string
		h    http.Handler
	}{{"metrics=off", early}, {"metrics=on", metrics.Handler(early)}} {
		b.Run(v.name, func(b *testing.B) {
			done := reportCPU(b)
			for b.Loop() {
				get(v.h)
			}
			done()
		})
	}
}

// BenchmarkMetricsWrapper is the wrapper alone around a handler that does
// nothing: the absolute CPU metrics add to every request (a label lookup, a
// counter, a histogram observation, two clock reads).
func BenchmarkMetricsWrapper(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "GET /api/collections/{collection}/records"
		w.WriteHeader(http.StatusOK)
	})
	req := httptest.NewRequest(http.MethodGet, "/api/collections/posts/records", nil)
	w := discard{h: http.Header{}}
	for _, v := range []struct {
		name string
		h    http.Handler
	}{{"metrics=off", noop}, {"metrics=on", metrics.Handler(noop)}} {
		b.Run(v.name, func(b *testing.B) {
			done := reportCPU(b)
			for b.Loop() {
				v.h.ServeHTTP(w, req)
			}
			done()
		})
	}
}

type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}
