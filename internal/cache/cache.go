// Package cache is Lectern's response cache for the public read API: the
// bodies of unauthenticated GET requests of public record lists and records
// (/api/collections/{posts,courses,topics,comments,lessons,reviews}/records
// and …/records/{id}, any query string), kept in memory under the
// request-target exactly as sent and served without touching the database
// until the next write.
//
// Invalidation is global and conservative: every committed create, update or
// delete of any model the public responses can depend on (every collection's
// records, collections themselves, settings) bumps one generation counter and
// empties the cache. A public response may depend on other collections through
// expand, filters and the rules' joins; a global generation needs no analysis
// of those dependencies to be right. Only the writes no guest can ever read
// (superusers, MFA, OTP, auth origins, external auths and request logs) leave
// it alone.
//
// The ordering that keeps it correct: the generation is read when a request
// starts, before the handler reads the database, and a response is stored only
// if the generation has not moved since. PocketBase runs the after-success
// model hooks, where the bump happens, after the write's transaction committed
// and before the write's response is sent (for a save inside a transaction,
// when the outermost transaction completes; the API writes its response only
// after that). So a read that starts after a write was acknowledged either
// finds nothing or finds a response stored by a request that started after
// the commit.
//
// Never cached: requests with an Authorization header or a cookie, anything
// but GET, non-200 responses, responses that set a cookie, bodies over the
// per-entry cap, queries that name a macro (@now, @random, …: their answer
// changes without a write), and everything while a collection rule depends on
// request headers or the clock. Cached responses carry an ETag (a hash of the
// body) and "Cache-Control: public, max-age=0, s-maxage=1, must-revalidate"
// (Options.SharedMaxAge: what a CDN may serve without asking again), and a
// matching If-None-Match gets a 304. The answers it will not cache on those
// routes (signed in, a cookie, a macro) carry "Cache-Control: private,
// no-cache".
//
// Bodies over 1 KiB are also kept gzip-compressed, compressed once when the
// entry is stored, and a client whose Accept-Encoding takes gzip gets those
// bytes (Content-Encoding: gzip) on a hit and on the miss that stored them: a
// hit then costs less to write and fewer bytes on the wire in a traffic
// spike, and PocketBase itself compresses nothing. The compressed variant has
// its own ETag (the identity one with "-gz" inside the quotes), so no HTTP
// cache mixes the two, and every response the cache handles carries "Vary:
// Accept-Encoding". An If-None-Match naming either variant the client can
// take gets a 304 for that variant: a browser that stored one keeps it.
//
// A hit is answered before PocketBase's activity logger and rate limiter: like
// a CDN in front of the server, cached hits do not appear in the request logs
// and are not counted by the rate limits. A miss runs the whole chain, and the
// headers it set are replayed on later hits.
//
// Where the hit is answered: in front of PocketBase's router (Handler wraps
// the http.Server's handler, so a hit costs no routing, no request event and
// no middleware) once the headers the middlewares before the cache set have
// been seen for the request's Host and Origin. Only CORS (Vary: Origin, and
// Access-Control-Allow-Origin for an allowed Origin) and PocketBase's www
// redirect may run before the cache, and for a GET their headers depend on
// nothing else; with any other middleware there, no hit skips the router.
// Until a (Host, Origin) pair has been seen (at most 256 are kept), and where
// the server is not started by apis.Serve, hits are answered by the router
// middleware right after CORS.
//
// Out-of-process writes (another process writing the same SQLite file: the
// CLI commands next to a running server) are seen through SQLite's
// data_version within ExternalPoll (external.go). Raw SQL that bypasses the
// app's hooks in this process does not bump the generation: entries also
// expire after Options.TTL, which bounds how long such a write can stay
// unseen.
package cache

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// PublicCollections are the collections whose guest reads are cached.
var PublicCollections = []string{"posts", "courses", "topics", "comments", "lessons", "reviews"}

// bypassCacheControl marks the answers of the cached routes the cache would
// not take (signed-in, with a cookie, with a macro): never for a shared cache.
const bypassCacheControl = "private, no-cache"

// Header names the cache sets on the responses it handles.
const (
	// HeaderStatus is "HIT" for a response served from memory and "MISS" for
	// one the handler produced; requests the cache does not handle have none.
	HeaderStatus = "X-Cache"
)

// EnvDisable names the environment variable that turns the cache off when it
// is "off", "0" or "false" (the benchmark measures Lectern both ways).
const EnvDisable = "LECTERN_CACHE"

// EnvSizeMB names the environment variable that sets the cache's total size
// in MiB (default 64).
const EnvSizeMB = "LECTERN_CACHE_MB"

// EnvSharedMaxAge names the environment variable that sets the s-maxage, in
// whole seconds, of the guest responses the cache handles (default 1; 0
// leaves it out, so shared caches revalidate every request).
const EnvSharedMaxAge = "LECTERN_CACHE_SMAXAGE"

// Options size the cache.
type Options struct {
	MaxBytes      int64         // total size of the stored bodies and keys (LRU beyond)
	MaxEntryBytes int64         // larger responses pass through uncached
	MaxKeyBytes   int           // longer path+query pass through uncached
	TTL           time.Duration // an entry older than this is a miss (0: no expiry)
	// SharedMaxAge is how long a shared cache (a CDN, nginx's proxy_cache)
	// may answer a guest read without asking again: the Cache-Control of
	// the responses the cache handles is "public, max-age=0,
	// s-maxage=<it>, must-revalidate". Browsers revalidate every time (a
	// 304 from memory); a shared cache serves its copy for SharedMaxAge
	// and then revalidates, so a guest behind it reads a page at most
	// SharedMaxAge older than the last acknowledged write (plus the
	// shared cache's clock granularity: nginx counts whole seconds).
	SharedMaxAge time.Duration
	Collections  []string // collection names whose guest reads are cached
}

// DefaultOptions are the sizes Register uses.
func DefaultOptions() Options {
	return Options{
		MaxBytes:      64 << 20,
		MaxEntryBytes: 1 << 20,
		MaxKeyBytes:   4096,
		TTL:           10 * time.Minute,
		SharedMaxAge:  time.Second,
		Collections:   PublicCollections,
	}
}

// Register binds a cache with DefaultOptions to app, unless the environment
// variable LECTERN_CACHE says off; LECTERN_CACHE_MB sets its size. It returns
// the cache (nil when off).
func Register(app core.App) *Cache {
	switch strings.ToLower(os.Getenv(EnvDisable)) {
	case "off", "0", "false", "no":
		return nil
	}
	opts := DefaultOptions()
	if mb, err := strconv.Atoi(os.Getenv(EnvSizeMB)); err == nil && mb > 0 {
		opts.MaxBytes = int64(mb) << 20
	}
	if s, err := strconv.Atoi(os.Getenv(EnvSharedMaxAge)); err == nil && s >= 0 {
		opts.SharedMaxAge = time.Duration(s) * time.Second
	}
	c := New(opts)
	c.Bind(app)
	return c
}

// Cache is an in-memory, generation-invalidated response cache.
type Cache struct {
	opts    Options
	collect map[string]bool
	cc      []string // the Cache-Control of cached responses

	gen atomic.Uint64
	// unsafe holds why caching is off (a rule reads headers or the clock), "" when on.
	unsafe atomic.Pointer[string]

	mu    sync.Mutex
	items map[key]*list.Element
	lru   *list.List // front: most recently used
	bytes int64

	// prefaces are the headers set before the cache middleware, by (Host,
	// Origin); copy-on-write under pmu
	pmu      sync.Mutex
	prefaces atomic.Pointer[map[vantage]*preface]

	hits, early, misses, stores, bumps atomic.Int64
	bypasses, external                 atomic.Int64
}

// key names a stored response: the generation it was produced in and the
// request-target exactly as the client sent it.
type key struct {
	gen uint64
	uri string
}

type entry struct {
	key    key
	id     variant  // the body as the handler wrote it
	gz     *variant // gzip-compressed, nil for a small body
	stored time.Time
}

// variant is one representation of an entry.
type variant struct {
	body []byte
	etag string
	ok   []field // the headers of a 200: the chain's (Vary aside), ETag, Cache-Control, Content-Length (, Content-Encoding)
	nm   []field // those of a 304: no Content-Type, Content-Length or Content-Encoding
}

// field is one header, its values shared by every hit (never appended to:
// the slices are clipped, so an Add on a response copies them).
type field struct {
	name   string
	values []string
}

func setFields(h http.Header, fs []field) {
	for _, f := range fs {
		h[f.name] = f.values
	}
}

func (e *entry) size() int64 {
	n := int64(len(e.key.uri)+128) + e.id.size()
	if e.gz != nil {
		n += e.gz.size()
	}
	return n
}

func (v *variant) size() int64 {
	n := len(v.body) + len(v.etag)
	for _, f := range v.ok {
		n += len(f.name) + 16
		for _, s := range f.values {
			n += len(s) + 16
		}
	}
	return int64(n)
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

// New returns an empty cache; Bind attaches it to an app.
func New(opts Options) *Cache {
	c := &Cache{
		opts:    opts,
		collect: map[string]bool{},
		items:   map[key]*list.Element{},
		lru:     list.New(),
	}
	for _, name := range opts.Collections {
		c.collect[name] = true
	}
	cc := "public, max-age=0, must-revalidate"
	if s := int(opts.SharedMaxAge / time.Second); s > 0 {
		cc = "public, max-age=0, s-maxage=" + strconv.Itoa(s) + ", must-revalidate"
	}
	c.cc = []string{cc}
	none := ""
	c.unsafe.Store(&none)
	c.prefaces.Store(&map[vantage]*preface{})
	return c
}

// Stats are the cache's counters since it was created.
type Stats struct {
	Hits, Misses, Stores, Bumps int64
	Early                       int64 // the hits answered in front of the router
	// Bypasses counts guest-route reads the cache would not take (signed
	// in, a cookie, a macro in the query, rules that read headers or the
	// clock); External the bumps for commits by other processes.
	Bypasses, External int64
	Entries            int
	Bytes              int64
	Generation         uint64
	Disabled           string // why caching is off, "" when on
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	n, b := len(c.items), c.bytes
	c.mu.Unlock()
	return Stats{
		Hits: c.hits.Load(), Early: c.early.Load(), Misses: c.misses.Load(), Stores: c.stores.Load(), Bumps: c.bumps.Load(),
		Bypasses: c.bypasses.Load(), External: c.external.Load(),
		Entries: n, Bytes: b, Generation: c.gen.Load(), Disabled: *c.unsafe.Load(),
	}
}

// Generation is the current invalidation generation.
func (c *Cache) Generation() uint64 { return c.gen.Load() }

// Bind registers the invalidation hooks and the serving middleware on app.
func (c *Cache) Bind(app core.App) {
	// Lowest priority first: the bump runs before every other after-success
	// hook, the realtime broadcast among them, so a subscriber that refetches
	// on an event never gets a response from before the write.
	const first = -1 << 30
	bump := &hook.Handler[*core.ModelEvent]{
		Func: func(e *core.ModelEvent) error {
			if c.affectsPublic(e.Model) {
				c.Bump()
			}
			if _, ok := e.Model.(*core.Collection); ok {
				c.checkRules(e.App)
			}
			return e.Next()
		},
		Priority: first,
	}
	app.OnModelAfterCreateSuccess().Bind(bump)
	app.OnModelAfterUpdateSuccess().Bind(bump)
	app.OnModelAfterDeleteSuccess().Bind(bump)

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		stop, err := c.watchDataVersion(se.App, ExternalPoll)
		if err != nil {
			return fmt.Errorf("response cache: watch data.db for other processes' writes: %w", err)
		}
		se.App.OnTerminate().BindFunc(func(te *core.TerminateEvent) error {
			stop()
			return te.Next()
		})
		c.checkRules(se.App)
		if why := *c.unsafe.Load(); why != "" {
			se.App.Logger().Warn("response cache off", "reason", why)
		}
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:   middlewareID,
			Func: c.serve,
			// Right after CORS (bound before the OnServe hooks, so it stays
			// first at the same priority) and before PocketBase's activity
			// logger: logging a hit (a row in the logs database) would cost
			// more than serving it. So, as with a CDN in front, hits are not
			// in the request logs and not counted by the rate limits. A miss
			// runs the whole chain (logs, rate limits, auth, security
			// headers, the handler), and the headers it set are replayed on
			// the hits.
			Priority: apis.DefaultCorsMiddlewarePriority,
		})
		if err := se.Next(); err != nil {
			return err
		}
		// apis.Serve sets the server's handler to the router's mux in the
		// last step of OnServe and starts serving after OnServe returns:
		// wrapping it here answers hits before the router does any work.
		if se.Server == nil || se.Server.Handler == nil {
			return nil
		}
		if id := unknownBefore(se.Router.Middlewares); id != "" {
			se.App.Logger().Warn("response cache: hits go through the router",
				"reason", "middleware "+id+" runs before the cache")
			return nil
		}
		se.Server.Handler = c.Handler(se.Server.Handler)
		return nil
	})
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

// privateTables hold nothing a guest can read, directly or through a rule.
var privateTables = map[string]bool{
	core.CollectionNameSuperusers:    true,
	core.CollectionNameMFAs:          true,
	core.CollectionNameOTPs:          true,
	core.CollectionNameAuthOrigins:   true,
	core.CollectionNameExternalAuths: true,
	core.LogsTableName:               true,
}

func (c *Cache) affectsPublic(m core.Model) bool {
	return !privateTables[m.TableName()]
}

// Bump invalidates every stored response.
func (c *Cache) Bump() {
	c.gen.Add(1)
	c.bumps.Add(1)
	c.mu.Lock()
	clear(c.items)
	c.lru.Init()
	c.bytes = 0
	c.mu.Unlock()
}

// ---

// ruleMacro finds the @-identifiers of a rule or filter.
var ruleMacro = regexp.MustCompile(`@[A-Za-z_][A-Za-z0-9_.]*`)

// guestConstant reports whether an @-identifier in a rule evaluates the same
// for every guest request of the same path and query.
func guestConstant(ident string) bool {
	for _, p := range []string{"@request.auth.", "@collection.", "@request.query."} {
		if strings.HasPrefix(ident, p) {
			return true
		}
	}
	return ident == "@request.method" || ident == "@request.context"
}

// checkRules turns caching off while any collection's list or view rule
// depends on something outside the key: request headers or body, the clock
// (@now, @todayStart…), randomness. Expand and rule joins can reach any
// collection, so all of them are checked.
func (c *Cache) checkRules(app core.App) {
	why := ""
	cols, err := app.FindAllCollections()
	if err != nil {
		why = "cannot read the collections' rules: " + err.Error()
	}
	for _, col := range cols {
		for _, rule := range []*string{col.ListRule, col.ViewRule} {
			if rule == nil {
				continue
			}
			for _, ident := range ruleMacro.FindAllString(*rule, -1) {
				if !guestConstant(ident) && why == "" {
					why = "the rules of " + col.Name + " use " + ident
				}
			}
		}
	}
	c.unsafe.Store(&why)
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

// Handler wraps the server's handler (the router) and answers the hits it can
// before it: a cacheable request whose response is stored, from a vantage
// whose preface (the headers set before the cache middleware) is known.
// Everything else, misses and first requests from a vantage included, goes to
// next, where the cache middleware answers or records it.
func (c *Cache) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.serveEarly(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

func (c *Cache) serveEarly(w http.ResponseWriter, r *http.Request) bool {
	uri := c.cacheable(r)
	if uri == "" {
		return false
	}
	gen := c.gen.Load() // before the lookup, as in serve
	pre := (*c.prefaces.Load())[vantage{r.Host, r.Header.Get("Origin")}]
	if pre == nil || pre.unstable {
		return false
	}
	ent := c.get(key{gen, uri})
	if ent == nil {
		return false
	}
	c.hits.Add(1)
	c.early.Add(1)
	// what the router's mux would have set: request metrics and logs
	// wrapped around this handler label the hit with its route
	r.Pattern = c.publicRoute(r.URL.Path)
	h := w.Header()
	setFields(h, pre.header)
	h["Vary"] = pre.vary
	c.write(w, r, ent, hitValue)
	return true
}

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

func (c *Cache) serve(e *core.RequestEvent) error {
	uri := ""
	if e.Auth == nil {
		uri = c.cacheable(e.Request)
	}
	if uri == "" {
		if e.Request.Method == http.MethodGet && c.publicRoute(e.Request.URL.Path) != "" {
			c.bypasses.Add(1)
			// signed in, a cookie, a macro: no shared cache may keep it
			e.Response.Header().Set("Cache-Control", bypassCacheControl)
		}
		return e.Next()
	}
	gen := c.gen.Load() // before the handler reads anything
	c.learn(vantage{e.Request.Host, e.Request.Header.Get("Origin")}, e.Response.Header())

	if ent := c.get(key{gen, uri}); ent != nil {
		c.hits.Add(1)
		addVary(e.Response.Header())
		c.write(e.Response, e.Request, ent, hitValue)
		return nil
	}
	c.misses.Add(1)

	orig := e.Response
	before := orig.Header().Clone()
	rec := &recorder{ResponseWriter: orig, limit: c.opts.MaxEntryBytes}
	e.Response = rec
	err := e.Next()
	e.Response = orig

	if rec.passthrough || !rec.wrote {
		return err // streamed already, or nothing written (the error handler answers)
	}
	if rec.status != http.StatusOK || err != nil {
		orig.WriteHeader(rec.status)
		_, _ = orig.Write(rec.buf)
		return err
	}
	// the headers the handler chain set (content type, security headers…),
	// replayed on every hit
	h := orig.Header()
	var added []field
	storable := h["Set-Cookie"] == nil && h["Content-Encoding"] == nil
	for name, values := range h {
		if slices.Equal(before[name], values) {
			continue
		}
		if name == "Vary" {
			// the response depends on a request header the key leaves out
			storable = false
			continue
		}
		added = append(added, field{name, slices.Clip(slices.Clone(values))})
	}
	sum := sha256.Sum256(rec.buf)
	ent := newEntry(key{gen, uri}, rec.buf, `"`+hex.EncodeToString(sum[:16])+`"`, added, storable, c.cc)
	if storable {
		c.put(ent)
	}
	addVary(h)
	c.write(orig, e.Request, ent, missValue)
	return nil
}

// gzipMin is the largest body kept only as is: below it the response fits
// in one small write either way, and the copy's own headers, ETag and gzip
// framing would eat most of the few hundred bytes saved.
const gzipMin = 1024

// gzipLevel: measured on the bench's responses, BestSpeed takes a ~100 KB
// post list to 15% of its size in ~0.3–0.4 ms, the default level to 12.5% in
// ~0.7 ms (a 5.4 KB post: 36% in ~47 µs against 34% in ~61 µs). The
// compression runs on every miss after a write, where the time counts more
// than a few more bytes of every hit.
const gzipLevel = gzip.BestSpeed

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzipLevel)
	return zw
}}

// compress returns body gzip-compressed, or nil when that does not make it
// smaller.
func compress(body []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(body) / 3)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, err := zw.Write(body)
	if err == nil {
		err = zw.Close()
	}
	zw.Reset(nil) // drop the buffer before pooling
	gzipWriters.Put(zw)
	if err != nil || buf.Len() >= len(body) {
		return nil
	}
	return slices.Clip(buf.Bytes())
}

// newEntry builds the entry of a response; withGzip (a storable response),
// a body over gzipMin also gets its gzip variant.
func newEntry(k key, body []byte, etag string, chain []field, withGzip bool, cc []string) *entry {
	ent := &entry{key: k, stored: time.Now()}
	ent.id = newVariant(body, etag, chain, nil, cc)
	if withGzip && len(body) > gzipMin {
		if gz := compress(body); gz != nil {
			v := newVariant(gz, strings.TrimSuffix(etag, `"`)+`-gz"`, chain, gzipValue, cc)
			ent.gz = &v
		}
	}
	return ent
}

func newVariant(body []byte, etag string, chain []field, encoding, cc []string) variant {
	v := variant{body: body, etag: etag}
	common := []field{
		{"Etag", []string{etag}},
		{"Cache-Control", cc},
	}
	for _, f := range chain {
		switch f.name {
		case "Etag", "Cache-Control", HeaderStatus, "Content-Length", "Content-Encoding":
			continue
		}
		v.ok = append(v.ok, f)
		if f.name != "Content-Type" {
			v.nm = append(v.nm, f)
		}
	}
	v.ok = append(v.ok, common...)
	v.ok = append(v.ok, field{"Content-Length", []string{strconv.Itoa(len(body))}})
	if encoding != nil {
		v.ok = append(v.ok, field{"Content-Encoding", encoding})
	}
	v.nm = append(v.nm, common...)
	v.ok, v.nm = slices.Clip(v.ok), slices.Clip(v.nm)
	return v
}

var (
	hitValue  = []string{"HIT"}
	missValue = []string{"MISS"}
	gzipValue = []string{"gzip"}
	// varyValues are the request headers a cached response depends on
	// beyond its key: a request with Authorization is never answered from
	// the cache, and Accept-Encoding picks the variant
	varyValues = []string{"Authorization", "Accept-Encoding"}
)

func addVary(h http.Header) {
	h["Vary"] = append(h["Vary"], varyValues...)
}

// write answers with ent: a 200 of the variant the client takes, or a 304
// for an If-None-Match that names a variant it takes. The caller has set
// Vary.
func (c *Cache) write(w http.ResponseWriter, r *http.Request, ent *entry, status []string) {
	h := w.Header()
	v := &ent.id
	takesGzip := ent.gz != nil && acceptsGzip(r.Header["Accept-Encoding"])
	if takesGzip {
		v = ent.gz
	}
	if inm := r.Header["If-None-Match"]; inm != nil {
		nm := v
		if !etagMatch(inm[0], v.etag) {
			nm = nil
			if takesGzip && etagMatch(inm[0], ent.id.etag) {
				// a client that stored the identity body (from a miss
				// or before it took gzip) revalidates it
				nm = &ent.id
			}
		}
		if nm != nil {
			setFields(h, nm.nm)
			delete(h, "Content-Type") // set by the chain on a miss
			h[HeaderStatus] = status
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	setFields(h, v.ok)
	h[HeaderStatus] = status
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(v.body)
}

// acceptsGzip reports whether an Accept-Encoding header takes gzip: listed
// (or x-gzip) with a non-zero q, or, gzip unlisted, a "*" with a non-zero q.
func acceptsGzip(values []string) bool {
	gz, star := -1, -1 // -1 unlisted, 0 refused, 1 taken
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(item, ";")
			name = strings.TrimSpace(name)
			ok := 1
			if qZero(params) {
				ok = 0
			}
			switch {
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				gz = max(gz, ok)
			case name == "*":
				star = max(star, ok)
			}
		}
	}
	if gz >= 0 {
		return gz == 1
	}
	return star == 1
}

// qZero reports whether an Accept-Encoding item's parameters say q=0
// (q=0, q=0.0, q=0.000).
func qZero(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		value = strings.TrimSpace(value)
		if whole, frac, _ := strings.Cut(value, "."); whole == "0" && strings.Trim(frac, "0") == "" {
			return true
		}
	}
	return false
}

// etagMatch implements If-None-Match's weak comparison against one ETag.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}

func (c *Cache) get(k key) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil
	}
	ent := el.Value.(*entry)
	if c.opts.TTL > 0 && time.Since(ent.stored) > c.opts.TTL {
		c.remove(el)
		return nil
	}
	c.lru.MoveToFront(el)
	return ent
}

// put stores ent unless a write bumped the generation since its request
// started: its body may predate that write.
func (c *Cache) put(ent *entry) {
	size := ent.size()
	if size > c.opts.MaxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ent.key.gen != c.gen.Load() {
		return
	}
	if el, ok := c.items[ent.key]; ok {
		c.remove(el)
	}
	c.items[ent.key] = c.lru.PushFront(ent)
	c.bytes += size
	c.stores.Add(1)
	for c.bytes > c.opts.MaxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *Cache) remove(el *list.Element) {
	ent := c.lru.Remove(el).(*entry)
	delete(c.items, ent.key)
	c.bytes -= ent.size()
}

// ---

// recorder buffers a response so it can be stored and given an ETag; past
// limit bytes it writes through instead.
type recorder struct {
	http.ResponseWriter
	limit       int64
	status      int
	wrote       bool
	passthrough bool
	buf         []byte
}

func (r *recorder) WriteHeader(status int) {
	if r.wrote {
		return
	}
	r.wrote = true
	r.status = status
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	if r.passthrough {
		return r.ResponseWriter.Write(b)
	}
	if int64(len(r.buf)+len(b)) > r.limit {
		r.passthrough = true
		r.ResponseWriter.WriteHeader(r.status)
		if _, err := r.ResponseWriter.Write(r.buf); err != nil {
			return 0, err
		}
		r.buf = nil
		return r.ResponseWriter.Write(b)
	}
	r.buf = append(r.buf, b...)
	return len(b), nil
}

// Status and Written let PocketBase's router read the response state.
func (r *recorder) Status() int   { return r.status }
func (r *recorder) Written() bool { return r.wrote }

// Unwrap exposes the underlying writer to http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
