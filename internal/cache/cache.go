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
//
// The files: cache.go holds the options, the Cache and its wiring into the
// app (Bind); keys.go which requests are cacheable, their keys and the
// vantages whose prefaces the early hits replay; variants.go the entries,
// their identity and gzip variants and the header parsing that picks one;
// serve.go the hit and miss paths and the LRU store; invalidate.go the
// generation bump and the rule check; external.go other processes' writes.
package cache

import (
	"container/list"
	"fmt"
	"os"
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
