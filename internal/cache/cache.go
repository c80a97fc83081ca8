// Package cache is Lectern's response cache for the public read API: the
// bodies of unauthenticated GET requests of public record lists and records
// (/api/collections/{posts,courses,topics,comments,lessons,reviews}/records
// and …/records/{id}, any query string), kept in memory and served without
// touching the database until the next write.
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
// body) and "Cache-Control: public, max-age=0, must-revalidate", and a
// matching If-None-Match gets a 304.
//
// A hit is answered right after CORS, before PocketBase's activity logger and
// rate limiter: like a CDN in front of the server, cached hits do not appear
// in the request logs and are not counted by the rate limits. A miss runs the
// whole chain, and the headers it set are replayed on later hits.
//
// Out-of-process writes (another process writing the same SQLite file, raw
// SQL that bypasses the app) do not bump the generation: entries also expire
// after Options.TTL, which bounds how long such a write can stay unseen.
package cache

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
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

// Header names the cache sets on the responses it handles.
const (
	// HeaderStatus is "HIT" for a response served from memory and "MISS" for
	// one the handler produced; requests the cache does not handle have none.
	HeaderStatus = "X-Cache"

	cacheControl = "public, max-age=0, must-revalidate"
)

// EnvDisable names the environment variable that turns the cache off when it
// is "off", "0" or "false" (the benchmark measures Lectern both ways).
const EnvDisable = "LECTERN_CACHE"

// EnvSizeMB names the environment variable that sets the cache's total size
// in MiB (default 64).
const EnvSizeMB = "LECTERN_CACHE_MB"

// Options size the cache.
type Options struct {
	MaxBytes      int64         // total size of the stored bodies and keys (LRU beyond)
	MaxEntryBytes int64         // larger responses pass through uncached
	MaxKeyBytes   int           // longer path+query pass through uncached
	TTL           time.Duration // an entry older than this is a miss (0: no expiry)
	Collections   []string      // collection names whose guest reads are cached
}

// DefaultOptions are the sizes Register uses.
func DefaultOptions() Options {
	return Options{
		MaxBytes:      64 << 20,
		MaxEntryBytes: 1 << 20,
		MaxKeyBytes:   4096,
		TTL:           10 * time.Minute,
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
	c := New(opts)
	c.Bind(app)
	return c
}

// Cache is an in-memory, generation-invalidated response cache.
type Cache struct {
	opts    Options
	collect map[string]bool

	gen atomic.Uint64
	// unsafe holds why caching is off (a rule reads headers or the clock), "" when on.
	unsafe atomic.Pointer[string]

	mu    sync.Mutex
	items map[string]*list.Element
	lru   *list.List // front: most recently used
	bytes int64

	hits, misses, stores, bumps atomic.Int64
}

type entry struct {
	key    string
	gen    uint64
	body   []byte
	etag   string
	header http.Header // set by the handler chain on the miss
	stored time.Time
}

func (e *entry) size() int64 {
	n := len(e.key) + len(e.body) + len(e.etag) + 128
	for k, v := range e.header {
		n += len(k) + 16
		for _, s := range v {
			n += len(s) + 16
		}
	}
	return int64(n)
}

// New returns an empty cache; Bind attaches it to an app.
func New(opts Options) *Cache {
	c := &Cache{
		opts:    opts,
		collect: map[string]bool{},
		items:   map[string]*list.Element{},
		lru:     list.New(),
	}
	for _, name := range opts.Collections {
		c.collect[name] = true
	}
	none := ""
	c.unsafe.Store(&none)
	return c
}

// Stats are the cache's counters since it was created.
type Stats struct {
	Hits, Misses, Stores, Bumps int64
	Entries                     int
	Bytes                       int64
	Generation                  uint64
	Disabled                    string // why caching is off, "" when on
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	n, b := len(c.items), c.bytes
	c.mu.Unlock()
	return Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Stores: c.stores.Load(), Bumps: c.bumps.Load(),
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
		c.checkRules(se.App)
		if why := *c.unsafe.Load(); why != "" {
			se.App.Logger().Warn("response cache off", "reason", why)
		}
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:   "lecternResponseCache",
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
		return se.Next()
	})
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

// cacheable returns the cache key of a request the cache may answer, or "".
func (c *Cache) cacheable(e *core.RequestEvent) string {
	r := e.Request
	if r.Method != http.MethodGet || e.Auth != nil ||
		r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
		return ""
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/collections/")
	if !ok {
		return ""
	}
	name, rest, ok := strings.Cut(rest, "/")
	if !ok || !c.collect[name] {
		return ""
	}
	if rest != "records" {
		id, ok := strings.CutPrefix(rest, "records/")
		if !ok || id == "" || strings.Contains(id, "/") {
			return ""
		}
	}
	if strings.Contains(r.URL.RawQuery, "@") || strings.Contains(r.URL.RawQuery, "%40") {
		return "" // a macro in a filter or sort: @now, @random…
	}
	if *c.unsafe.Load() != "" {
		return ""
	}
	key := r.URL.EscapedPath() + "?" + r.URL.RawQuery
	if len(key) > c.opts.MaxKeyBytes {
		return ""
	}
	return key
}

func (c *Cache) serve(e *core.RequestEvent) error {
	path := c.cacheable(e)
	if path == "" {
		return e.Next()
	}
	gen := c.gen.Load() // before the handler reads anything
	key := strconv.FormatUint(gen, 36) + " " + path

	if ent := c.get(key); ent != nil {
		c.hits.Add(1)
		h := e.Response.Header()
		for k, v := range ent.header {
			h[k] = v
		}
		h[HeaderStatus] = hitValue
		return c.reply(e, ent.body, ent.etag)
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
	added := http.Header{}
	for k, v := range orig.Header() {
		if !slices.Equal(before[k], v) {
			added[k] = v
		}
	}
	sum := sha256.Sum256(rec.buf)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	if added.Get("Set-Cookie") == "" {
		c.put(&entry{key: key, gen: gen, body: rec.buf, etag: etag, header: added, stored: time.Now()})
	}
	orig.Header()[HeaderStatus] = missValue
	return c.reply(e, rec.buf, etag)
}

var (
	hitValue          = []string{"HIT"}
	missValue         = []string{"MISS"}
	cacheControlValue = []string{cacheControl}
	varyValue         = "Authorization"
)

// reply writes a cacheable 200 (or a 304 for a matching If-None-Match).
func (c *Cache) reply(e *core.RequestEvent, body []byte, etag string) error {
	h := e.Response.Header()
	h["Etag"] = []string{etag}
	h["Cache-Control"] = cacheControlValue
	h.Add("Vary", varyValue)
	if etagMatch(e.Request.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Type")
		e.Response.WriteHeader(http.StatusNotModified)
		return nil
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	e.Response.WriteHeader(http.StatusOK)
	_, err := e.Response.Write(body)
	return err
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

func (c *Cache) get(key string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
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
	if ent.gen != c.gen.Load() {
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
