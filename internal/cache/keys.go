// Keys and vantages: which requests the cache may answer and under what key
// (the request-target as sent), and the (Host, Origin) vantages whose
// preface, the headers the middlewares before the cache set, a hit answered
// in front of the router replays.

package cache

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// key names a stored response: the generation it was produced in and the
// request-target exactly as the client sent it.
type key struct {
	gen uint64
	uri string
}

// cacheable returns the cache key of a request the cache may answer, or "":
// the request-target as sent, so a stored response is only ever replayed for
// the very same bytes (and so the same route).
func (c *Cache) cacheable(r *http.Request) string {
	if r.Method != http.MethodGet {
		return ""
	}
	// present at all, even empty: never a guest response
	if _, ok := r.Header["Authorization"]; ok {
		return ""
	}
	if _, ok := r.Header["Cookie"]; ok {
		return ""
	}
	if c.publicRoute(r.URL.Path) == "" {
		return ""
	}
	if strings.Contains(r.URL.RawQuery, "@") || strings.Contains(r.URL.RawQuery, "%40") {
		return "" // a macro in a filter or sort: @now, @random…
	}
	if *c.unsafe.Load() != "" {
		return ""
	}
	uri := r.RequestURI
	if uri == "" { // a request built in process, not read from a client
		uri = r.URL.RequestURI()
	}
	if len(uri) > c.opts.MaxKeyBytes {
		return ""
	}
	return uri
}

// The router's patterns of the routes the cache serves.
const (
	listPattern = "GET /api/collections/{collection}/records"
	viewPattern = "GET /api/collections/{collection}/records/{id}"
)

// publicRoute returns the route pattern of a path the cache may serve (a
// cached collection's list or record), "" for any other path.
func (c *Cache) publicRoute(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/collections/")
	if !ok {
		return ""
	}
	name, rest, ok := strings.Cut(rest, "/")
	if !ok || !c.collect[name] {
		return ""
	}
	if rest == "records" {
		return listPattern
	}
	id, ok := strings.CutPrefix(rest, "records/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return viewPattern
}

// vantage is what the middlewares before the cache may base their headers
// on: CORS reads the Origin, PocketBase's www redirect the Host.
type vantage struct{ host, origin string }

// preface is what those middlewares set on a cacheable request from one
// vantage; a hit answered in front of the router replays it.
type preface struct {
	header []field // Vary aside
	vary   []string
	// unstable marks a vantage whose requests saw different headers: its
	// hits always go through the router
	unstable bool
}

// maxVantages bounds the learned prefaces: a hit from any other vantage goes
// through the router.
const maxVantages = 256

// learn records the preface of a cacheable request seen by the middleware.
// A vantage whose requests get different prefaces is marked unstable.
func (c *Cache) learn(v vantage, before http.Header) {
	if old, ok := (*c.prefaces.Load())[v]; ok && (old.unstable || old.matches(before)) {
		return
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	cur := *c.prefaces.Load()
	pre, ok := cur[v]
	switch {
	case ok && (pre.unstable || pre.matches(before)):
		return
	case ok:
		pre = &preface{unstable: true}
	case len(cur) >= maxVantages:
		return
	default:
		pre = &preface{vary: slices.Clip(append(slices.Clone(before["Vary"]), varyValues...))}
		for name, values := range before {
			if name != "Vary" {
				pre.header = append(pre.header, field{name, slices.Clip(slices.Clone(values))})
			}
		}
	}
	next := make(map[vantage]*preface, len(cur)+1)
	maps.Copy(next, cur)
	next[v] = pre
	c.prefaces.Store(&next)
}

// matches reports whether h holds exactly p's headers (Vary without the
// cache's own varyValues).
func (p *preface) matches(h http.Header) bool {
	n := len(h)
	own := len(p.vary) - len(varyValues)
	if vary, ok := h["Vary"]; ok {
		n--
		if !slices.Equal(vary, p.vary[:own]) {
			return false
		}
	} else if own != 0 {
		return false
	}
	if n != len(p.header) {
		return false
	}
	for _, f := range p.header {
		if !slices.Equal(f.values, h[f.name]) {
			return false
		}
	}
	return true
}

const middlewareID = "lecternResponseCache"

// prefaceMiddlewares may run before the cache middleware: their headers depend
// on nothing but the request's Host and Origin (for a GET), so a hit answered
// in front of the router can replay what they set for the same vantage.
var prefaceMiddlewares = map[string]bool{
	apis.DefaultCorsMiddlewareId:        true,
	apis.DefaultWWWRedirectMiddlewareId: true,
}

// unknownBefore returns the id of a global middleware that runs before the
// cache's and is not one of prefaceMiddlewares ("(no id)" if it has none), or
// "". Such a middleware may set headers per request, which only the router
// path gives the hits.
func unknownBefore(mws []*hook.Handler[*core.RequestEvent]) string {
	var cache *hook.Handler[*core.RequestEvent]
	for _, h := range mws {
		if h.Id == middlewareID {
			cache = h
		}
	}
	if cache == nil {
		return ""
	}
	seen := false
	for _, h := range mws {
		if h == cache {
			seen = true
			continue
		}
		// hooks sort stably by priority: an equal one bound earlier runs first
		before := h.Priority < cache.Priority || (h.Priority == cache.Priority && !seen)
		if before && !prefaceMiddlewares[h.Id] {
			if h.Id == "" {
				return "(no id)"
			}
			return h.Id
		}
	}
	return ""
}
