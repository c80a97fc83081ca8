package reliability

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"lectern/internal/text"
)

// TestHostileInput sends the corpus of testdata/hostile.json — malformed and
// truncated JSON, wrong types, duplicate keys, 10k/100k-deep nesting, bodies
// over the body limit, NUL/RTL/surrogates/emoji, XSS in every text and URL
// field, hostile filter/sort/expand/fields/perPage/page, forged ownership and
// computed fields, forged/expired/alg:none tokens, path traversal, admin
// APIs — against every collection, and checks every answer:
//
//   - the status class is the case's expected class (never a 5xx);
//   - an error is PocketBase's shape {status, message, data}, as JSON, with
//     no SQL, file path, stack trace or driver name in it;
//   - a refused write changed nothing (row count and last update of every
//     collection, settings and schema, read from the database);
//   - an accepted write is stored safely: plain-text fields hold exactly the
//     server's plain text of the input, rich-text fields its sanitized HTML
//     and that HTML is inert (no script, event handler or script URL), other
//     text verbatim, server-owned fields the server's values;
//   - reads as a guest (or with a forged token) show nothing private;
//   - the server stays healthy, its feeds stay valid XML with inert HTML and
//     search snippets carry no markup but <mark>.
func TestHostileInput(t *testing.T) {
	skipShort(t)
	corpus := loadCorpus(t)

	s := newServer(t, serverOptions{})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	h := newHostileRun(t, s, w, corpus)
	cases := h.expand()
	t.Logf("%d cases", len(cases))

	began := time.Now()
	for i, c := range cases {
		h.run(c)
		if i%25 == 24 {
			if !healthy(&http.Client{Timeout: 10 * time.Second}, s.url) {
				t.Fatalf("server unhealthy after case %d (%s)", i, c.name)
			}
		}
	}
	h.afterChecks()
	took := time.Since(began)

	if !healthy(&http.Client{Timeout: 10 * time.Second}, s.url) {
		h.fail("final", "server is not healthy at the end")
	}
	select {
	case <-s.exited():
		h.fail("final", "server exited")
	default:
	}
	if n := s.out.count("panic") + s.out.count("PANIC"); n > 0 {
		h.fail("final", fmt.Sprintf("server output mentions panic %d times", n))
	}

	fams := slices.Sorted(maps.Keys(h.byFamily))
	var famLine []string
	for _, f := range fams {
		famLine = append(famLine, fmt.Sprintf("%s %d", f, h.byFamily[f]))
	}
	t.Logf("cases by family: %s", strings.Join(famLine, ", "))
	report(t, "hostile", "| cases | 2xx | 4xx | 5xx | no answer | failed checks | known-issue cases | time |",
		fmt.Sprintf("| %d | %d | %d | %d | %d | %d | %d (%s) | %s |", h.total, h.classes["2xx"], h.classes["4xx"], h.classes["5xx"],
			h.classes["none"], len(h.failures), h.knownCases(), strings.Join(slices.Sorted(maps.Keys(h.known)), ", "), took.Round(time.Second)))
	for _, k := range slices.Sorted(maps.Keys(h.known)) {
		t.Logf("KNOWN %s (%d cases, see RELIABILITY.md): %s", k, len(h.known[k]), strings.Join(h.known[k], " | "))
	}
	for _, f := range h.failures {
		t.Error(f)
	}
	if h.total < 300 {
		t.Errorf("only %d cases: the corpus must hold at least 300", h.total)
	}
}

// --- the corpus

type corpusFile struct {
	Payloads   map[string][]string `json:"payloads"`
	Kinds      map[string]map[string]string
	Targets    []target
	WrongTypes []struct {
		Name   string
		Value  json.RawMessage
		Kinds  []string
		Expect string
	} `json:"wrongTypes"`
	Malformed []struct {
		Name, Body, Gen, ContentType string
		KnownOnUpdate                string `json:"knownOnUpdate"`
	}
	Queries []struct {
		Name, Gen, Expect string
		Params            [][2]string
		Private           bool
	}
	Tokens         []string
	TokenEndpoints []struct {
		Method, Path, Expect string
		Body                 json.RawMessage
		Private              bool
	} `json:"tokenEndpoints"`
	Cases []corpusCase
}

type target struct {
	Collection string
	CreateAs   string `json:"createAs"`
	Create     json.RawMessage
	UpdateAs   string `json:"updateAs"`
	Update     string
	FieldsVia  string `json:"fieldsVia"`
	Fields     map[string]struct {
		Kind string
		Max  int
	}
}

type corpusCase struct {
	Name, Method, Path, As, Expect, Known, Gen, Then string
	Body                                             json.RawMessage
	Headers                                          map[string]string
	Fields                                           map[string]any
	Private                                          bool
	URLSafe                                          string `json:"urlSafe"`
	SafeFileName                                     string `json:"safeFileName"`
	Multipart                                        *struct {
		Fields map[string]string
		Files  []struct{ Field, Name, Content string }
	}
}

func loadCorpus(t testing.TB) *corpusFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/hostile.json")
	if err != nil {
		t.Fatal(err)
	}
	var c corpusFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&struct {
		About string `json:"about"`
		*corpusFile
	}{corpusFile: &c}); err != nil {
		t.Fatalf("testdata/hostile.json: %v", err)
	}
	return &c
}

// --- one run

// hcase is one expanded request.
type hcase struct {
	family, name   string
	method, path   string
	as             string
	body           func() (io.Reader, int64) // nil: no body
	contentType    string
	headers        map[string]string
	expect         string // "2xx", "4xx" or "2xx|4xx"
	known          string
	fields         map[string]any
	private        bool
	urlSafe        string
	safeFileName   string
	then           string
	stored         *storedCheck // accepted field payloads: how it must be stored
	createIn       string       // collection a 2xx create adds one row to
	updateTableRow [2]string    // collection and id a refused update must leave alone
}

// storedCheck says how an accepted payload must be stored; sent is the
// value as the body carried it (placeholders filled).
type storedCheck struct {
	field, kind string
	sent        *string
}

type hostileRun struct {
	t        *testing.T
	s        *server
	w        *world
	c        *corpusFile
	db       *sql.DB
	ids      map[string]string // placeholder → value
	tokens   map[string]string // identity → token
	selfIDs  map[string]string // identity → users id
	pools    map[string][]string
	uniq     int
	failures []string
	known    map[string][]string
	classes  map[string]int
	byFamily map[string]int
	total    int
	private  []string
}

func newHostileRun(t *testing.T, s *server, w *world, c *corpusFile) *hostileRun {
	t.Helper()
	db := openReadOnly(t, s.dir)
	t.Cleanup(func() { db.Close() })
	h := &hostileRun{t: t, s: s, w: w, c: c, db: db, ids: map[string]string{}, tokens: map[string]string{"guest": "", "superuser": w.su},
		selfIDs: map[string]string{}, pools: map[string][]string{}, known: map[string][]string{}, classes: map[string]int{}, byFamily: map[string]int{}}
	roles := map[string]string{"student": "student", "student2": "student", "author": "author", "author2": "author",
		"instructor": "instructor", "instructor2": "instructor", "admin": "admin"}
	for _, name := range slices.Sorted(maps.Keys(roles)) {
		u := w.addUsers(t, roles[name], "h"+name)[0]
		h.tokens[name], h.selfIDs[name], h.ids[name] = u.token, u.id, u.id
	}
	tok := func(who string) string { return h.tokens[who] }
	id := func(r map[string]any) string { return r["id"].(string) }
	h.ids["post"] = id(w.create(t, "posts", tok("author"), map[string]any{"title": "Hostile base post", "body": "<p>x</p>", "status": "published"}))
	h.ids["post2"] = id(w.create(t, "posts", tok("author2"), map[string]any{"title": "Other base post", "body": "<p>y</p>", "status": "published"}))
	h.ids["draft"] = id(w.create(t, "posts", tok("author"), map[string]any{"title": "Secret draft", "body": "<p>z</p>"}))
	h.ids["comment"] = id(w.create(t, "comments", tok("student"), map[string]any{"post": h.ids["post"], "body": "base comment"}))
	h.ids["comment2"] = id(w.create(t, "comments", tok("student2"), map[string]any{"post": h.ids["post2"], "body": "other comment"}))
	h.ids["hidden"] = id(w.create(t, "comments", tok("author"), map[string]any{"post": h.ids["post"], "body": "hidden comment", "status": "hidden"}))
	h.ids["course"] = id(w.create(t, "courses", tok("instructor"), map[string]any{"title": "Hostile base course", "durationDays": 3, "status": "published"}))
	h.ids["course2"] = id(w.create(t, "courses", tok("instructor2"), map[string]any{"title": "Other base course", "durationDays": 3, "status": "published"}))
	h.ids["draftCourse"] = id(w.create(t, "courses", tok("instructor"), map[string]any{"title": "Secret course", "durationDays": 3}))
	h.ids["lesson"] = id(w.create(t, "lessons", tok("instructor"), map[string]any{"course": h.ids["course"], "title": "Base lesson", "position": 1, "freePreview": true}))
	h.ids["otherLesson"] = id(w.create(t, "lessons", tok("instructor2"), map[string]any{"course": h.ids["course2"], "title": "Other lesson", "position": 1}))
	h.ids["enrollment"] = id(w.create(t, "enrollments", tok("student"), map[string]any{"course": h.ids["course"]}))
	h.ids["review"] = id(w.create(t, "reviews", tok("student"), map[string]any{"course": h.ids["course"], "rating": 4, "body": "base review"}))
	h.ids["topic"] = id(w.create(t, "topics", w.su, map[string]any{"name": "Hostile base topic"}))
	for i := range 40 {
		h.pools["enrollable"] = append(h.pools["enrollable"], id(w.create(t, "courses", tok("instructor2"),
			map[string]any{"title": fmt.Sprintf("Open course %d", i), "durationDays": 3, "status": "published"})))
	}
	h.private = []string{h.ids["draft"], h.ids["draftCourse"], h.ids["hidden"], h.ids["enrollment"], "@reliability.test", "tokenKey", `"password"`, "passwordHash"}
	h.makeTokens()
	return h
}

// fill replaces the placeholders of s.
func (h *hostileRun) fill(s string) string {
	for strings.Contains(s, `"{uniqInt}"`) {
		h.uniq++
		s = strings.Replace(s, `"{uniqInt}"`, strconv.Itoa(1000+h.uniq), 1)
	}
	for strings.Contains(s, "{uniq}") {
		h.uniq++
		s = strings.Replace(s, "{uniq}", "u"+strconv.Itoa(h.uniq), 1)
	}
	for strings.Contains(s, "{enrollable}") {
		pool := h.pools["enrollable"]
		if len(pool) == 0 {
			h.t.Fatal("the enrollable course pool ran out")
		}
		s = strings.Replace(s, "{enrollable}", pool[0], 1)
		h.pools["enrollable"] = pool[1:]
	}
	for k, v := range h.ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// self replaces {self} with the users id of identity who.
func (h *hostileRun) self(s, who string) string {
	return strings.ReplaceAll(s, "{self}", h.selfIDs[who])
}

func rawBody(b []byte) func() (io.Reader, int64) {
	return func() (io.Reader, int64) { return bytes.NewReader(b), int64(len(b)) }
}

// --- expansion of the families

func (h *hostileRun) expand() []hcase {
	var out []hcase
	c := h.c
	// fields × payloads, and over-long values
	for _, tg := range c.Targets {
		for _, field := range slices.Sorted(maps.Keys(tg.Fields)) {
			spec := tg.Fields[field]
			expects := c.Kinds[spec.Kind]
			for _, fam := range slices.Sorted(maps.Keys(expects)) {
				var values []string
				if fam == "long" {
					if spec.Max == 0 {
						continue
					}
					values = []string{strings.Repeat("a", spec.Max+1)}
				} else {
					values = c.Payloads[fam]
				}
				for i, p := range values {
					v := p
					switch spec.Kind {
					case "text", "plain":
						if fam != "long" {
							v = "H " + p + " {uniq}"
						}
					case "html":
						if fam != "long" {
							v = "<p>H {uniq}</p>" + p
						}
					}
					name := fmt.Sprintf("%s.%s %s #%d", tg.Collection, field, fam, i+1)
					out = append(out, h.fieldCase("fields/"+fam, name, tg, field, spec.Kind, v, expects[fam]))
				}
			}
			for _, wt := range c.WrongTypes {
				if len(wt.Kinds) > 0 && !slices.Contains(wt.Kinds, spec.Kind) {
					continue
				}
				hc := h.fieldCaseRaw("wrong types", fmt.Sprintf("%s.%s %s", tg.Collection, field, wt.Name), tg, field, wt.Value, wt.Expect)
				out = append(out, hc)
			}
		}
	}
	// malformed bodies on every collection's create and update
	for _, tg := range c.Targets {
		for _, m := range c.Malformed {
			for _, via := range []string{"create", "update"} {
				hc := hcase{family: "malformed", name: fmt.Sprintf("%s %s: %s", tg.Collection, via, m.Name), expect: "4xx",
					contentType: "application/json"}
				if m.ContentType != "" {
					hc.contentType = m.ContentType
				}
				if via == "create" {
					hc.method, hc.path, hc.as = "POST", "/api/collections/"+tg.Collection+"/records", tg.CreateAs
				} else {
					hc.method, hc.path, hc.as = "PATCH", "/api/collections/"+tg.Collection+"/records/"+h.self(tg.Update, tg.UpdateAs), tg.UpdateAs
					hc.known = m.KnownOnUpdate
				}
				if m.Gen == "bom" {
					hc.expect = "2xx|4xx" // RFC 8259 lets a parser ignore a BOM or refuse it
				}
				hc.body = h.malformedBody(m.Body, m.Gen, tg)
				out = append(out, hc)
			}
		}
	}
	// hostile query strings on every collection's list, as a guest
	for _, tg := range c.Targets {
		for _, q := range c.Queries {
			var query string
			if q.Gen != "" {
				query = genQuery(q.Gen)
			} else {
				var parts []string
				for _, kv := range q.Params {
					parts = append(parts, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
				}
				query = strings.Join(parts, "&")
			}
			out = append(out, hcase{family: "queries", name: fmt.Sprintf("%s list: %s", tg.Collection, q.Name), method: "GET",
				path: "/api/collections/" + tg.Collection + "/records?" + query, as: "guest", expect: q.Expect, private: q.Private})
		}
	}
	// forged tokens on endpoints that need a real one
	for _, tok := range c.Tokens {
		for _, ep := range c.TokenEndpoints {
			hc := hcase{family: "tokens", name: fmt.Sprintf("%s token: %s %s", tok, ep.Method, ep.Path), method: ep.Method,
				path: ep.Path, as: "token:" + tok, expect: ep.Expect, private: ep.Private}
			if len(ep.Body) > 0 {
				body := ep.Body
				hc.body = func() (io.Reader, int64) { b := []byte(h.fill(string(body))); return bytes.NewReader(b), int64(len(b)) }
				hc.contentType = "application/json"
			}
			out = append(out, hc)
		}
	}
	// single cases
	for _, cc := range c.Cases {
		out = append(out, h.singleCase(cc))
	}
	return out
}

func (h *hostileRun) fieldCase(family, name string, tg target, field, kind, value, expect string) hcase {
	raw, _ := json.Marshal(value)
	hc := h.fieldCaseRaw(family, name, tg, field, raw, expect)
	sent := new(string)
	hc.stored = &storedCheck{field: field, kind: kind, sent: sent}
	body := hc.body
	hc.body = func() (io.Reader, int64) {
		r, n := body()
		b, _ := io.ReadAll(r)
		var m map[string]any
		json.Unmarshal(b, &m)
		*sent, _ = m[field].(string)
		return bytes.NewReader(b), n
	}
	return hc
}

// fieldCaseRaw builds a create (or update) of tg whose field holds the raw JSON value.
func (h *hostileRun) fieldCaseRaw(family, name string, tg target, field string, value json.RawMessage, expect string) hcase {
	hc := hcase{family: family, name: name, expect: expect, contentType: "application/json"}
	base := json.RawMessage(`{}`)
	if tg.FieldsVia == "create" {
		hc.method, hc.path, hc.as, hc.createIn = "POST", "/api/collections/"+tg.Collection+"/records", tg.CreateAs, tg.Collection
		base = tg.Create
	} else {
		hc.method, hc.path, hc.as = "PATCH", "/api/collections/"+tg.Collection+"/records/"+h.self(tg.Update, tg.UpdateAs), tg.UpdateAs
	}
	// the value is filled too: a text payload carries {uniq}
	hc.body = func() (io.Reader, int64) {
		m := map[string]json.RawMessage{}
		if err := json.Unmarshal([]byte(h.fill(string(base))), &m); err != nil {
			h.t.Fatalf("target %s: %v", tg.Collection, err)
		}
		m[field] = json.RawMessage(h.fill(string(value)))
		b, _ := json.Marshal(m)
		return bytes.NewReader(b), int64(len(b))
	}
	return hc
}

func (h *hostileRun) malformedBody(body, gen string, tg target) func() (io.Reader, int64) {
	switch {
	case gen == "":
		return rawBody([]byte(body))
	case gen == "invalid-utf8":
		return rawBody([]byte("{\"title\":\"\xff\xfe\xfd\",\"body\":\"\xc3\x28\"}"))
	case gen == "raw-nul":
		return rawBody([]byte("{\"title\":\"a\x00b\"}"))
	case gen == "bom":
		return func() (io.Reader, int64) {
			b := append([]byte("\xEF\xBB\xBF"), h.fill(string(tg.Create))...)
			return bytes.NewReader(b), int64(len(b))
		}
	case strings.HasPrefix(gen, "deep-array:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(gen, "deep-array:"))
		return rawBody([]byte(`{"title":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`))
	case strings.HasPrefix(gen, "deep-object:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(gen, "deep-object:"))
		return rawBody([]byte(`{"title":` + strings.Repeat(`{"a":`, n) + `1` + strings.Repeat("}", n) + `}`))
	case strings.HasPrefix(gen, "huge:"):
		n, _ := strconv.ParseInt(strings.TrimPrefix(gen, "huge:"), 10, 64)
		return func() (io.Reader, int64) {
			r := io.MultiReader(strings.NewReader(`{"title":"`), io.LimitReader(repeatReader('a'), n-12), strings.NewReader(`"}`))
			return r, n
		}
	}
	h.t.Fatalf("unknown generator %q", gen)
	return nil
}

// repeatReader is an endless reader of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func genQuery(gen string) string {
	kind, nStr, _ := strings.Cut(gen, ":")
	n, _ := strconv.Atoi(nStr)
	switch kind {
	case "filter-parens":
		return "filter=" + url.QueryEscape(strings.Repeat("(", n)+`id != ""`+strings.Repeat(")", n))
	case "filter-long":
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(`id != "x" && `)
		}
		b.WriteString(`id != "x"`)
		return "filter=" + url.QueryEscape(b.String())
	case "params-long":
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "p%d=x&", i)
		}
		return b.String() + "perPage=5"
	}
	panic("unknown query generator " + gen)
}

func (h *hostileRun) singleCase(cc corpusCase) hcase {
	hc := hcase{family: "cases", name: cc.Name, method: cc.Method, path: h.self(cc.Path, cc.As), as: cc.As, expect: cc.Expect, known: cc.Known,
		headers: cc.Headers, fields: cc.Fields, private: cc.Private, urlSafe: cc.URLSafe, safeFileName: cc.SafeFileName, then: cc.Then}
	if cc.Method == "POST" && strings.HasPrefix(cc.Path, "/api/collections/") && strings.HasSuffix(cc.Path, "/records") {
		hc.createIn = strings.TrimSuffix(strings.TrimPrefix(cc.Path, "/api/collections/"), "/records")
	}
	switch {
	case strings.HasPrefix(cc.Gen, "long-id:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(cc.Gen, "long-id:"))
		hc.path = strings.ReplaceAll(hc.path, "{gen}", strings.Repeat("a", n))
	case strings.HasPrefix(cc.Gen, "search-long:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(cc.Gen, "search-long:"))
		hc.path = strings.ReplaceAll(hc.path, "{gen}", url.QueryEscape(strings.Repeat("word ", n/5)))
	case strings.HasPrefix(cc.Gen, "long-password:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(cc.Gen, "long-password:"))
		b, _ := json.Marshal(map[string]string{"identity": "hstudent@reliability.test", "password": strings.Repeat("a", n)})
		hc.body, hc.contentType = rawBody(b), "application/json"
	case cc.Gen != "":
		h.t.Fatalf("case %q: unknown generator %q", cc.Name, cc.Gen)
	}
	if len(cc.Body) > 0 {
		body := h.self(string(cc.Body), cc.As)
		hc.body = func() (io.Reader, int64) { b := []byte(h.fill(body)); return bytes.NewReader(b), int64(len(b)) }
		hc.contentType = "application/json"
	}
	if mp := cc.Multipart; mp != nil {
		mw := multipart.NewWriter(io.Discard)
		boundary := mw.Boundary()
		hc.contentType = mw.FormDataContentType()
		hc.body = func() (io.Reader, int64) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.SetBoundary(boundary)
			for k, v := range mp.Fields {
				mw.WriteField(k, h.fill(v))
			}
			for _, f := range mp.Files {
				fw, _ := mw.CreateFormFile(f.Field, f.Name)
				switch f.Content {
				case "png":
					fw.Write(testPNG(h.t))
				case "html":
					fw.Write([]byte("<html><body><script>alert(1)</script></body></html>"))
				case "svg":
					fw.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`))
				}
			}
			mw.Close()
			return bytes.NewReader(buf.Bytes()), int64(buf.Len())
		}
	}
	if cc.Method == "PATCH" {
		if coll, id, ok := recordPath(h.fill(cc.Path)); ok {
			hc.updateTableRow = [2]string{coll, id}
		}
	}
	return hc
}

func recordPath(p string) (collection, id string, ok bool) {
	rest, found := strings.CutPrefix(p, "/api/collections/")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "records" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// --- running and checking one case

var leakPatterns = regexp.MustCompile(`(?i)sqlite|sql logic|no such (table|column)|syntax error|near "|select .* from|/root/|/tmp/|/home/|/work/|\.go:\d|goroutine \d|runtime\.|panic|pb_data|modernc|dbx\.`)
var stackPatterns = regexp.MustCompile(`goroutine \d|\.go:\d+|/root/go/|runtime/debug|panic:`)

func (h *hostileRun) knownCases() int {
	n := 0
	for _, cs := range h.known {
		n += len(cs)
	}
	return n
}

func (h *hostileRun) fail(name, msg string) {
	h.failures = append(h.failures, name+": "+msg)
}

func (h *hostileRun) run(c hcase) {
	h.total++
	h.byFamily[c.family]++
	name := c.family + " / " + c.name
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	path := h.fill(c.path)
	before := h.fingerprint()
	var updatedBefore string
	if c.method == "PATCH" {
		if coll, id, ok := recordPath(path); ok {
			updatedBefore = h.rowUpdated(coll, id)
		}
	}
	r, err := h.send(c, path)
	class := "none"
	if err == nil {
		class = fmt.Sprintf("%dxx", r.Status/100)
	}
	h.classes[class]++
	if os.Getenv("LECTERN_HOSTILE_DUMP") != "" {
		fmt.Printf("%-4s %s %s as %s [%s] → %s\n", class, c.method, tail(path, 140), c.as, name, tail(r.String(), 200))
	}
	switch {
	case err != nil:
		bad("no answer: %v", err)
	case r.Status >= 500:
		bad("5xx: %s", r)
	case !slices.Contains(strings.Split(c.expect, "|"), class):
		bad("want %s, got %s", c.expect, r)
	}

	if err == nil {
		body := string(r.Body)
		if r.Status >= 400 {
			if msg := errorShape(r); msg != "" {
				bad("error shape: %s: %s", msg, r)
			}
			if m := leakPatterns.FindString(body); m != "" {
				bad("error body leaks %q: %s", m, r)
			}
		} else if m := stackPatterns.FindString(body); m != "" {
			bad("body leaks %q", m)
		}
		if c.private || strings.HasPrefix(c.as, "token:") {
			for _, p := range h.private {
				if strings.Contains(body, p) {
					bad("a guest sees private %q: %s", p, r)
				}
			}
		}
	}

	after := h.fingerprint()
	write := c.method != "GET"
	if write && (err != nil || r.Status >= 300) && before != after {
		bad("a refused write changed the database: %s → %s", before, after)
	}
	if c.method == "PATCH" && (err != nil || r.Status >= 300) && updatedBefore != "" {
		if coll, id, ok := recordPath(path); ok && h.rowUpdated(coll, id) != updatedBefore {
			bad("a refused update changed %s/%s", coll, id)
		}
	}
	if err == nil && r.Status < 300 {
		problems = append(problems, h.checkAccepted(c, r, before, after)...)
	}

	if len(problems) == 0 {
		if c.known != "" {
			h.fail(name, fmt.Sprintf("known issue %s no longer reproduces: remove its \"known\" mark", c.known))
		}
		return
	}
	if c.known != "" {
		h.known[c.known] = append(h.known[c.known], c.name+" → "+tail(strings.Join(problems, "; "), 160))
		return
	}
	h.fail(fmt.Sprintf("%s (%s %s as %s)", name, c.method, tail(path, 160), c.as), strings.Join(problems, "; "))
}

func (h *hostileRun) send(c hcase, path string) (reply, error) {
	var body io.Reader
	var n int64 = -1
	if c.body != nil {
		body, n = c.body()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, c.method, h.w.api.base+path, body)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.ContentLength = n
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	switch {
	case strings.HasPrefix(c.as, "token:"):
		req.Header.Set("Authorization", h.tokens[c.as])
	case h.tokens[c.as] != "":
		req.Header.Set("Authorization", h.tokens[c.as])
	case c.as != "guest":
		return reply{}, fmt.Errorf("unknown identity %q", c.as)
	}
	res, err := h.w.api.hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	return reply{Status: res.StatusCode, Body: raw, Header: res.Header}, err
}

// errorShape checks PocketBase's error shape; "" when it is right.
func errorShape(r reply) string {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return "content type " + ct
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return "not a JSON object"
	}
	var status int
	var message string
	var data map[string]any
	if len(m) != 3 || json.Unmarshal(m["status"], &status) != nil || json.Unmarshal(m["message"], &message) != nil ||
		json.Unmarshal(m["data"], &data) != nil || data == nil {
		return "want exactly {status, message, data}"
	}
	if status != r.Status {
		return fmt.Sprintf("status %d in a %d answer", status, r.Status)
	}
	return ""
}

// checkAccepted checks a 2xx answer: stored safely, server fields, one new row.
func (h *hostileRun) checkAccepted(c hcase, r reply, before, after string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var rec map[string]any
	json.Unmarshal(r.Body, &rec)
	if c.createIn != "" && c.method == "POST" {
		if got, want := h.tableCount(c.createIn), fingerprintCount(before, c.createIn)+1; got != want {
			bad("an accepted create left %s with %d rows, want %d", c.createIn, got, want)
		}
	}
	if sc := c.stored; sc != nil {
		got, _ := rec[sc.field].(string)
		sent := *sc.sent
		switch sc.kind {
		// every text field loses control and bidi-override characters
		// (hooks/textclean.go), after the plain-text and HTML passes
		case "text":
			if want := text.StripControls(sent); got != want {
				bad("%s stored %q, want %q (sent %q)", sc.field, got, want, sent)
			}
		case "plain":
			if want := text.StripControls(text.PlainText(sent)); got != want {
				bad("%s stored %q, want the plain text %q", sc.field, got, want)
			}
		case "html":
			if want := text.StripControls(text.SanitizeHTML(sent)); got != want {
				bad("%s stored %q, want the sanitized %q", sc.field, got, want)
			}
			if msg := inertHTML(got); msg != "" {
				bad("%s stored HTML is not inert: %s: %q", sc.field, msg, got)
			}
		case "url":
			if got != sent {
				bad("%s stored %q, sent %q", sc.field, got, sent)
			}
		}
	}
	for k, v := range c.fields {
		want := v
		if s, ok := v.(string); ok {
			want = h.fill(s)
			if s == "{self}" {
				want = h.selfIDs[c.as]
			}
		}
		if fmt.Sprint(rec[k]) != fmt.Sprint(want) {
			bad("server field %s = %v, want %v", k, rec[k], want)
		}
	}
	if f := c.urlSafe; f != "" {
		if v, _ := rec[f].(string); strings.ContainsAny(v, "\"<>` \t\n\r\\") {
			bad("%s stored with characters a URL must percent-encode: %q", f, v)
		}
	}
	if f := c.safeFileName; f != "" {
		if v, _ := rec[f].(string); !regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`).MatchString(v) {
			bad("%s stored file name %q", f, v)
		}
	}
	if c.then == "comment-still-there" {
		if rr, err := h.w.api.do("GET", "/api/collections/comments/records/"+h.ids["comment"], h.w.su, nil); err != nil || rr.Status != 200 {
			bad("the comment is gone after a GET with a method override header")
		}
	}
	return problems
}

// inertHTML reports why stored HTML could run script, or "".
func inertHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tn, hasAttr := z.TagName()
			switch string(tn) {
			case "script", "iframe", "object", "embed", "style", "form", "base", "meta", "link", "svg", "math", "frame", "frameset":
				return "<" + string(tn) + ">"
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key := strings.ToLower(string(k))
				val := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1
					}
					return r
				}, html.UnescapeString(string(v))))
				if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" || key == "formaction" {
					return "attribute " + key
				}
				if (key == "href" || key == "src" || key == "action" || key == "xlink:href" || key == "data") &&
					(strings.HasPrefix(val, "javascript:") || strings.HasPrefix(val, "vbscript:") || strings.HasPrefix(val, "data:text")) {
					return key + "=" + val
				}
			}
		}
	}
}

// --- database fingerprints

var fingerprintTables = []string{"users", "topics", "posts", "comments", "courses", "lessons", "enrollments", "reviews", "_superusers", "_collections", "_params"}

// fingerprint is every table's row count and last update: a refused write
// must not move either.
func (h *hostileRun) fingerprint() string {
	var parts []string
	for _, t := range fingerprintTables {
		var n int
		var last sql.NullString
		if err := h.db.QueryRow("SELECT COUNT(*), MAX(updated) FROM "+t).Scan(&n, &last); err != nil {
			h.t.Fatalf("fingerprint %s: %v", t, err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d@%s", t, n, last.String))
	}
	return strings.Join(parts, " ")
}

func fingerprintCount(fp, table string) int {
	for _, p := range strings.Fields(fp) {
		if name, rest, ok := strings.Cut(p, "="); ok && name == table {
			n, _ := strconv.Atoi(strings.SplitN(rest, "@", 2)[0])
			return n
		}
	}
	return -1
}

func (h *hostileRun) tableCount(table string) int { return tableCount(h.t, h.db, table) }

func (h *hostileRun) rowUpdated(table, id string) string {
	var u string
	h.db.QueryRow("SELECT updated FROM "+table+" WHERE id = ?", id).Scan(&u)
	return u
}

// --- tokens

// makeTokens forges tokens for the admin user: unsigned, signed with a wrong
// key, another user's token with the id swapped, expired (real key), of the
// wrong type (real key), claiming the superusers collection (real key).
func (h *hostileRun) makeTokens() {
	var usersID, secret, superID, adminKey string
	q := func(query string, dest any, args ...any) {
		if err := h.db.QueryRow(query, args...).Scan(dest); err != nil {
			h.t.Fatalf("%s: %v", query, err)
		}
	}
	q(`SELECT id FROM _collections WHERE name = 'users'`, &usersID)
	q(`SELECT json_extract(options, '$.authToken.secret') FROM _collections WHERE name = 'users'`, &secret)
	q(`SELECT id FROM _collections WHERE name = '_superusers'`, &superID)
	q(`SELECT tokenKey FROM users WHERE id = ?`, &adminKey, h.selfIDs["admin"])
	admin := h.selfIDs["admin"]
	claims := func(typ, coll string, exp time.Duration) map[string]any {
		return map[string]any{"id": admin, "type": typ, "collectionId": coll, "refreshable": true, "exp": time.Now().Add(exp).Unix()}
	}
	h.tokens["token:alg-none"] = jwtToken(map[string]any{"alg": "none", "typ": "JWT"}, claims("auth", usersID, time.Hour), "")
	h.tokens["token:forged-key"] = jwtToken(nil, claims("auth", usersID, time.Hour), "secret")
	h.tokens["token:expired"] = jwtToken(nil, claims("auth", usersID, -time.Hour), adminKey+secret)
	h.tokens["token:wrong-type"] = jwtToken(nil, claims("verification", usersID, time.Hour), adminKey+secret)
	h.tokens["token:superuser-claim"] = jwtToken(nil, claims("auth", superID, time.Hour), adminKey+secret)
	// control: the same recipe with a live expiry must sign the admin in,
	// or the expired and wrong-type tokens prove nothing
	control := jwtToken(nil, claims("auth", usersID, time.Hour), adminKey+secret)
	r, err := h.w.api.do("GET", "/api/collections/users/records?perPage=1", control, nil)
	var page struct{ TotalItems int }
	if err != nil || r.json(&page) != nil || page.TotalItems < len(h.selfIDs) {
		h.t.Fatalf("a correctly signed admin token was not accepted, so the forged ones prove nothing: %v %s", err, r)
	}
	h.tokens["token:garbage"] = "not.a.jwt"
	h.tokens["token:empty-bearer"] = "Bearer "
	// a real student token with the payload's id swapped for the admin's
	parts := strings.Split(h.tokens["student"], ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(payload, &m)
	m["id"] = admin
	p2, _ := json.Marshal(m)
	h.tokens["token:tampered-id"] = parts[0] + "." + base64.RawURLEncoding.EncodeToString(p2) + "." + parts[2]
	for _, k := range h.c.Tokens {
		if h.tokens["token:"+k] == "" && k != "empty-bearer" {
			h.t.Fatalf("no token made for %q", k)
		}
	}
}

func jwtToken(header, claims map[string]any, key string) string {
	if header == nil {
		header = map[string]any{"alg": "HS256", "typ": "JWT"}
	}
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	if header["alg"] == "none" {
		return signing + "."
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// --- after the corpus: what the stored payloads look like where the server renders them

func (h *hostileRun) afterChecks() {
	for _, feed := range []string{"/feed.xml", "/atom.xml"} {
		h.total++
		h.byFamily["rendered"]++
		r, err := h.w.api.do("GET", feed, "", nil)
		if err != nil || r.Status != 200 {
			h.classes["none"]++
			h.fail("rendered "+feed, fmt.Sprintf("%v %s", err, r))
			continue
		}
		h.classes["2xx"]++
		if msg := checkFeed(r.Body); msg != "" {
			h.fail("rendered "+feed, msg)
		}
	}
	for _, q := range []string{"alert", "script", "onerror", "hostile"} {
		h.total++
		h.byFamily["rendered"]++
		r, err := h.w.api.do("GET", "/api/search?perPage=50&q="+q, "", nil)
		if err != nil || r.Status != 200 {
			h.classes["none"]++
			h.fail("search "+q, fmt.Sprintf("%v %s", err, r))
			continue
		}
		h.classes["2xx"]++
		var res struct{ Items []struct{ Snippet string } }
		json.Unmarshal(r.Body, &res)
		for _, it := range res.Items {
			rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(it.Snippet)
			if strings.ContainsAny(rest, "<>") {
				h.fail("search "+q, "snippet carries markup other than <mark>: "+it.Snippet)
			}
		}
	}
}

// checkFeed parses an RSS or Atom feed as XML and checks the HTML it carries is inert.
func checkFeed(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var inContent bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return "not valid XML: " + err.Error()
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			inContent = tt.Name.Local == "encoded" || tt.Name.Local == "content" || tt.Name.Local == "description"
		case xml.EndElement:
			inContent = false
		case xml.CharData:
			if inContent {
				if msg := inertHTML(string(tt)); msg != "" {
					return "feed HTML is not inert: " + msg
				}
			}
		}
	}
}
