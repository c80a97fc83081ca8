// Entries and their variants: the stored body as the handler wrote it and its
// gzip-compressed copy, each with the headers of its 200 and its 304, and the
// Accept-Encoding and If-None-Match parsing that picks one.

package cache

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

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
