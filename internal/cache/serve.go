// Serving: the handler in front of the router, the middleware that answers
// or records a request, writing a hit or a 304, the LRU store, and the
// recorder that buffers a miss.

package cache

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

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
