package main

import (
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/cache"
	"lectern/internal/metrics"
	"lectern/internal/realtime"
	"lectern/internal/search"
)

// registerMetrics binds /api/metrics and feeds it what the other packages
// count (they keep their own counters; metrics reads them at scrape time).
func registerMetrics(app core.App, c *cache.Cache) {
	if metrics.Disabled() {
		return
	}
	metrics.Register(app)
	const cacheHelp = "Guest reads of the cached routes: hit (from memory), miss (stored or refused by the handler), bypass (signed in, a cookie, a macro: never cached)."
	stat := func(f func(cache.Stats) int64) func() float64 {
		return func() float64 {
			if c == nil {
				return 0
			}
			return float64(f(c.Stats()))
		}
	}
	metrics.CounterFunc("lectern_cache_requests_total", cacheHelp, stat(func(s cache.Stats) int64 { return s.Hits }), "result", "hit")
	metrics.CounterFunc("lectern_cache_requests_total", cacheHelp, stat(func(s cache.Stats) int64 { return s.Misses }), "result", "miss")
	metrics.CounterFunc("lectern_cache_requests_total", cacheHelp, stat(func(s cache.Stats) int64 { return s.Bypasses }), "result", "bypass")
	metrics.CounterFunc("lectern_cache_invalidations_total", "Times the response cache was emptied by a write (external: by another process's commit).",
		stat(func(s cache.Stats) int64 { return s.Bumps - s.External }), "source", "local")
	metrics.CounterFunc("lectern_cache_invalidations_total", "Times the response cache was emptied by a write (external: by another process's commit).",
		stat(func(s cache.Stats) int64 { return s.External }), "source", "external")
	metrics.GaugeFunc("lectern_cache_bytes", "Bytes held by the response cache.", stat(func(s cache.Stats) int64 { return s.Bytes }))
	metrics.CounterFunc("lectern_realtime_dropped_clients_total", "Realtime clients disconnected for not reading their events (they reconnect).",
		func() float64 { return float64(realtime.Dropped()) })
	metrics.CounterFunc("lectern_search_merge_steps_total", "Search index merge steps that did work (background FTS5 merges).",
		func() float64 { return float64(search.MergeSteps()) })
}
