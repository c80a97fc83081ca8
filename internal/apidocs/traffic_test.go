package apidocs

// The spec tells the truth: every exchange the JS SDK suite (e2e/sdk) makes
// with a real server is validated against the /api/openapi.json that server
// serves. e2e/lib/capture.mjs records the exchanges when LECTERN_TRAFFIC_DIR
// is set (scripts/test.sh does it); TestTrafficMatchesSpec checks them.
//
// The rules, per exchange:
//   - the route (method + path) must be in the document. Only PocketBase's
//     superuser API (system collections such as _superusers, settings,
//     collection management, logs, backups, crons) may be missing: the
//     reference leaves it out on purpose. Anything else missing fails.
//   - the response must match the documented response of its status, and the
//     status must be documented (IncludeResponseStatus). Records are checked
//     closed (a field the document does not describe is a mismatch) and, for
//     a request with ?fields=…, without their required list: see
//     responseDocument.
//   - the request must match the operation (parameters, body, auth) whenever
//     the server accepted it (< 400): a request the spec calls invalid that the
//     server answered with an error is the spec and the server agreeing (the
//     suite sends bad input on purpose), counted as "refused as specified".
//     The security check is "an Authorization header was sent" for
//     operations that require authToken; the token itself is not captured.
//
// TestTrafficCheckCatchesWrongSchema runs the same check, in every `go test`,
// on a small committed sample of a real capture (testdata/traffic-sample.jsonl)
// against the document generated in process from the fixture; then corrupts
// one schema entry at a time and expects mismatches.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"
)

// exchange is one line of a capture written by e2e/lib/capture.mjs.
type exchange struct {
	Seq     int    `json:"seq"`
	File    string `json:"file"`
	Spec    string `json:"spec"`
	Method  string `json:"method"`
	URL     string `json:"url"`
	Request struct {
		ContentType   string          `json:"contentType"`
		Authorization bool            `json:"authorization"`
		JSON          json.RawMessage `json:"json"`
		Text          *string         `json:"text"`
		Form          *struct {
			Fields [][2]string `json:"fields"`
			Files  []struct {
				Field string `json:"field"`
				Name  string `json:"name"`
				Type  string `json:"type"`
				Size  int    `json:"size"`
			} `json:"files"`
		} `json:"form"`
	} `json:"request"`
	Response struct {
		Status      int             `json:"status"`
		ContentType string          `json:"contentType"`
		JSON        json.RawMessage `json:"json"`
		Text        *string         `json:"text"`
		Bytes       int             `json:"bytes"`
	} `json:"response"`

	raw []byte // the line as captured
}

func (e *exchange) where() string {
	return fmt.Sprintf("%s#%d %s %s → %d", e.File, e.Seq, e.Method, e.URL, e.Response.Status)
}

// trafficChecker validates exchanges against one OpenAPI document.
type trafficChecker struct {
	doc    *openapi3.T
	router routers.Router
	// responses are checked against the document with closed records (see
	// responseDocument), partial the answers to a request with ?fields=….
	closed, partial routers.Router
}

func newTrafficChecker(t *testing.T, spec []byte) *trafficChecker {
	t.Helper()
	c := &trafficChecker{}
	c.doc, c.router = loadRouter(t, spec)
	_, c.closed = loadRouter(t, responseDocument(t, spec, false))
	_, c.partial = loadRouter(t, responseDocument(t, spec, true))
	return c
}

func loadRouter(t *testing.T, spec []byte) (*openapi3.T, routers.Router) {
	t.Helper()
	doc := loadDoc(t, spec) // parsed, and validated as 3.1
	// the legacy router: gorillamux would need github.com/gorilla/mux in go.sum
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err, "router")
	return doc, router
}

// responseDocument is the document the responses are checked against: the
// same, with two deliberate changes to the *Record schemas.
//
// Closed: a record (and its expand object) gets additionalProperties: false,
// so a field the server sends that the document does not describe is a
// mismatch. JSON Schema objects are open by default and the served document
// keeps them open (a new field must not break generated clients), but a
// reference that silently omits a field is not telling the truth.
//
// Partial (for requests with ?fields=…): "required" is dropped. ?fields=id,title
// makes PocketBase answer with only those fields, "whatever the schema marks
// required", as the document's fields parameter says. A response schema cannot
// depend on a query parameter in OpenAPI 3.1, and making every record property
// optional would describe the common answer (all fields) less precisely for
// every client and code generator. So the document keeps "required" and these
// answers are checked without it: the fields present must still have the
// documented types, formats and enums; only their presence is not demanded.
func responseDocument(t *testing.T, spec []byte, partial bool) []byte {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(spec, &doc))
	schemas, _ := dig(t, doc, "components", "schemas").(map[string]any)
	for name, s := range schemas {
		m, ok := s.(map[string]any)
		// a search hit is picked by ?fields like a record (internal/search)
		if !ok || !(strings.HasSuffix(name, "Record") || name == "SearchHit") {
			continue
		}
		if _, set := m["additionalProperties"]; !set {
			m["additionalProperties"] = false
		}
		if exp, ok := dig(t, m, "properties").(map[string]any)["expand"].(map[string]any); ok {
			if _, set := exp["additionalProperties"]; !set {
				exp["additionalProperties"] = false
			}
		}
		if partial {
			delete(m, "required")
		}
	}
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

// specKey identifies a document's text but for info.version.
func specKey(t *testing.T, spec []byte) string {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(spec, &doc))
	if info, ok := doc["info"].(map[string]any); ok {
		delete(info, "version")
	}
	b, err := json.Marshal(doc) // map keys sorted: a stable text
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// picksFields reports whether the request asks for a subset of fields.
func picksFields(req *http.Request) bool { return req.URL.Query().Get("fields") != "" }

// trafficReport holds the figures of a check.
type trafficReport struct {
	exchanges int
	validated int // exchanges whose route is in the document: request and response checked
	refused   int // requests the spec calls invalid, answered with an error status
	refusedBy map[string]int
	// undescribed routes, by "METHOD /path/template": adminOnly are the
	// superuser API the reference leaves out on purpose, missing must be added
	adminOnly  map[string]int
	missing    map[string]int
	operations map[string]int // operationId → exchanges
	mismatches []mismatch
}

type mismatch struct {
	ex    *exchange
	op    string
	side  string // "request" or "response"
	error string
}

func newTrafficReport() *trafficReport {
	return &trafficReport{adminOnly: map[string]int{}, missing: map[string]int{}, operations: map[string]int{}, refusedBy: map[string]int{}}
}

// failures is what fails the check: mismatches and undescribed API paths.
func (r *trafficReport) failures() int {
	n := len(r.mismatches)
	for _, c := range r.missing {
		n += c
	}
	return n
}

// log writes the figures; detail is how many mismatches are shown in full.
func (r *trafficReport) log(t *testing.T, detail int, totalOps int) {
	t.Helper()
	adminOnly, missing := 0, 0
	for _, c := range r.adminOnly {
		adminOnly += c
	}
	for _, c := range r.missing {
		missing += c
	}
	var b strings.Builder
	fmt.Fprintf(&b, "traffic vs spec:\n")
	fmt.Fprintf(&b, "  exchanges:              %d\n", r.exchanges)
	fmt.Fprintf(&b, "  validated:              %d (request and response checked against the document)\n", r.validated)
	fmt.Fprintf(&b, "  refused as specified:   %d (invalid per the spec, and answered with an error)\n", r.refused)
	for _, k := range sortedKeys(r.refusedBy) {
		fmt.Fprintf(&b, "      %5d  %s\n", r.refusedBy[k], k)
	}
	fmt.Fprintf(&b, "  operations exercised:   %d of %d documented\n", len(r.operations), totalOps)
	fmt.Fprintf(&b, "  undescribed, admin API: %d (superuser endpoints the reference leaves out on purpose)\n", adminOnly)
	for _, k := range sortedKeys(r.adminOnly) {
		fmt.Fprintf(&b, "      %5d  %s\n", r.adminOnly[k], k)
	}
	fmt.Fprintf(&b, "  undescribed, must be:   %d\n", missing)
	for _, k := range sortedKeys(r.missing) {
		fmt.Fprintf(&b, "      %5d  %s\n", r.missing[k], k)
	}
	fmt.Fprintf(&b, "  mismatches:             %d\n", len(r.mismatches))
	if len(r.mismatches) > 0 {
		groups := map[string]int{}
		for _, m := range r.mismatches {
			groups[fmt.Sprintf("%s %s %d: %s", m.side, m.op, m.ex.Response.Status, firstLine(m.error, 160))]++
		}
		fmt.Fprintf(&b, "  mismatches by operation and reason:\n")
		for _, k := range sortedKeys(groups) {
			fmt.Fprintf(&b, "      %5d  %s\n", groups[k], k)
		}
		fmt.Fprintf(&b, "  the first %d in full:\n", min(detail, len(r.mismatches)))
		for i, m := range r.mismatches {
			if i == detail {
				break
			}
			fmt.Fprintf(&b, "  --- %d. %s (%s, %s)\n%s\n      exchange: %s\n", i+1, m.ex.where(), m.op, m.side,
				indent(truncate(m.error, 2000), "      "), truncate(string(m.ex.raw), 1500))
		}
	}
	t.Log(b.String())
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// schemaErrorAt finds the instance location of a JSON Schema error.
var schemaErrorAt = regexp.MustCompile(`(?:error at "[^"]*": )?at '([^']*)': ([^\n]*)`)

// compactError shortens a validation error to "where: what".
func compactError(err error) string {
	msg := err.Error()
	head, _, _ := strings.Cut(msg, ":")
	if m := schemaErrorAt.FindStringSubmatch(msg); m != nil {
		return truncate(fmt.Sprintf("%s %s: %s", head, m[1], m[2]), 140)
	}
	return firstLine(msg, 140)
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	return truncate(s, n)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func indent(s, pre string) string { return pre + strings.ReplaceAll(s, "\n", "\n"+pre) }

// idSegment is a PocketBase record id in a path, for grouping undescribed routes.
var idSegment = regexp.MustCompile(`/[a-z0-9]{15}(/|$)`)

// adminOnly reports whether path belongs to PocketBase's superuser API, which
// the reference documents nowhere: the system collections (_superusers,
// _mfas, _otps, _externalAuths, _authOrigins), settings, collection
// management, logs, backups and crons. Everything else a client reaches —
// records and auth of the app's collections, realtime, files, health,
// Lectern's own routes — must be in the document.
func adminOnly(path string) bool {
	for _, p := range []string{"/api/settings", "/api/logs", "/api/backups", "/api/crons"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	if path == "/api/collections" || strings.HasPrefix(path, "/api/collections/_") {
		return true
	}
	if rest, ok := strings.CutPrefix(path, "/api/collections/"); ok {
		segs := strings.Split(rest, "/")
		// /api/collections/{name}, /import, /meta/scaffolds, /{name}/truncate
		return len(segs) == 1 || segs[0] == "meta" || (len(segs) == 2 && segs[1] == "truncate")
	}
	return false
}

// presentAuthorization is the security check of a capture: a requirement of
// the apiKey scheme is met when an Authorization header was sent (the token
// itself is never captured).
func presentAuthorization(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "apiKey" || s.In != "header" {
		return nil
	}
	if in.RequestValidationInput.Request.Header.Get(s.Name) == "" {
		return fmt.Errorf("no %s header", s.Name)
	}
	return nil
}

// request rebuilds the HTTP request of an exchange.
func (e *exchange) request() (*http.Request, error) {
	var body io.Reader
	contentType := e.Request.ContentType
	switch {
	case e.Request.Form != nil:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, f := range e.Request.Form.Fields {
			if err := mw.WriteField(f[0], f[1]); err != nil {
				return nil, err
			}
		}
		for _, f := range e.Request.Form.Files {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.Field, f.Name))
			h.Set("Content-Type", f.Type)
			w, err := mw.CreatePart(h)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(w, "[a %d-byte %s file, content not captured]", f.Size, f.Type)
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		body, contentType = &buf, mw.FormDataContentType()
	case len(e.Request.JSON) > 0:
		body = bytes.NewReader(e.Request.JSON)
	case e.Request.Text != nil:
		body = strings.NewReader(*e.Request.Text)
	}
	// a relative URL, as the document's server ("/") is relative
	req, err := http.NewRequest(e.Method, e.URL, body)
	if err != nil {
		return nil, err
	}
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if e.Request.Authorization {
		req.Header.Set("Authorization", "[redacted]")
	}
	return req, nil
}

func (e *exchange) responseBody() []byte {
	switch {
	case len(e.Response.JSON) > 0:
		return e.Response.JSON
	case e.Response.Text != nil:
		return []byte(*e.Response.Text)
	case e.Response.Bytes > 0:
		return bytes.Repeat([]byte{0}, e.Response.Bytes)
	}
	return nil
}

// check validates one exchange and adds it to r.
func (c *trafficChecker) check(ctx context.Context, e *exchange, r *trafficReport) {
	r.exchanges++
	req, err := e.request()
	if err != nil {
		r.mismatches = append(r.mismatches, mismatch{e, "?", "request", "cannot rebuild the request: " + err.Error()})
		return
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		key := e.Method + " " + idSegment.ReplaceAllString(req.URL.Path, "/{id}$1")
		var re *routers.RouteError
		if errors.As(err, &re) && (re.Reason == routers.ErrPathNotFound.Error() || re.Reason == routers.ErrMethodNotAllowed.Error()) {
			if adminOnly(req.URL.Path) {
				r.adminOnly[key]++
			} else {
				r.missing[key]++
			}
			return
		}
		r.mismatches = append(r.mismatches, mismatch{e, "?", "request", "route: " + err.Error()})
		return
	}
	r.validated++
	op := route.Operation.OperationID
	r.operations[op]++

	opts := &openapi3filter.Options{
		AuthenticationFunc:    presentAuthorization,
		IncludeResponseStatus: true, // an undocumented status is a mismatch
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		if e.Response.Status < 400 {
			r.mismatches = append(r.mismatches, mismatch{e, op, "request", "the server accepted a request the spec refuses: " + err.Error()})
		} else {
			r.refused++
			r.refusedBy[fmt.Sprintf("%s → %d: %s", op, e.Response.Status, compactError(err))]++
		}
	}

	header := http.Header{}
	if e.Response.ContentType != "" {
		header.Set("Content-Type", e.Response.ContentType)
	}
	responses := c.closed
	if picksFields(req) {
		responses = c.partial
	}
	route, params, err = responses.FindRoute(req)
	if err != nil {
		r.mismatches = append(r.mismatches, mismatch{e, op, "response", "route in the response document: " + err.Error()})
		return
	}
	respIn := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: respIn, Status: e.Response.Status, Header: header, Options: opts}
	out.SetBodyBytes(e.responseBody())
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		r.mismatches = append(r.mismatches, mismatch{e, op, "response", err.Error()})
	}
}

func (c *trafficChecker) operationCount() int {
	n := 0
	for _, item := range c.doc.Paths.Map() {
		n += len(item.Operations())
	}
	return n
}

// readExchanges parses a capture file.
func readExchanges(t *testing.T, path string) []*exchange {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []*exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e := &exchange{raw: append([]byte(nil), line...)}
		require.NoError(t, json.Unmarshal(line, e), "%s:%d", path, n)
		out = append(out, e)
	}
	require.NoError(t, sc.Err(), path)
	return out
}

// TestTrafficMatchesSpec validates a capture of the SDK suite (see the top of
// this file). scripts/test.sh runs it after the suite:
//
//	cd e2e && LECTERN_TRAFFIC_DIR=$PWD/artifacts/traffic node --test sdk/
//	LECTERN_TRAFFIC_DIR=$PWD/e2e/artifacts/traffic go test ./internal/apidocs -run TestTrafficMatchesSpec -count=1 -v
//
// With LECTERN_TRAFFIC_SAMPLE_OUT=<file> it also writes a sample of the
// capture (the smallest exchange of each operation, status and kind of
// request): that is how testdata/traffic-sample.jsonl is refreshed.
func TestTrafficMatchesSpec(t *testing.T) {
	dir := os.Getenv("LECTERN_TRAFFIC_DIR")
	if dir == "" {
		t.Skip("LECTERN_TRAFFIC_DIR is not set: no capture of the SDK suite to check (scripts/test.sh runs the suite with it, then this test)")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no *.jsonl capture in %s: run the SDK suite with LECTERN_TRAFFIC_DIR=%s first", dir, dir)
	sort.Strings(files)

	ctx := context.Background()
	checkers := map[string]*trafficChecker{} // by spec file
	byText := map[string]*trafficChecker{}   // by specKey
	report := newTrafficReport()
	var all []*exchange
	totalOps := 0
	for _, file := range files {
		exchanges := readExchanges(t, file)
		t.Logf("%s: %d exchanges", filepath.Base(file), len(exchanges))
		for _, e := range exchanges {
			require.NotEmpty(t, e.Spec, "%s: the capture has no /api/openapi.json for its server", e.where())
			c := checkers[e.Spec]
			if c == nil {
				spec, err := os.ReadFile(filepath.Join(dir, e.Spec))
				require.NoError(t, err, "%s: its server's document", e.where())
				// the servers' documents differ only in info.version (a hash
				// of the collections, timestamps included): load each text once
				key := specKey(t, spec)
				if c = byText[key]; c == nil {
					c = newTrafficChecker(t, spec)
					byText[key] = c
				}
				checkers[e.Spec] = c
				totalOps = c.operationCount()
			}
			c.check(ctx, e, report)
			all = append(all, e)
		}
	}
	require.Positive(t, report.exchanges, "the capture holds no exchange")
	t.Logf("documents: %d (one per server; %d distinct but for info.version), %d operations each", len(checkers), len(byText), totalOps)
	report.log(t, 20, totalOps)

	if out := os.Getenv("LECTERN_TRAFFIC_SAMPLE_OUT"); out != "" {
		writeSample(t, out, all, checkers)
	}
	if n := report.failures(); n > 0 {
		t.Fatalf("%d exchanges of the SDK suite disagree with /api/openapi.json (mismatches: %d, undescribed API routes: %d); see above",
			n, len(report.mismatches), n-len(report.mismatches))
	}
}

// writeSample writes the smallest exchange of each (operation, status,
// request valid or not, request encoding, ?fields or not), plus one of each
// admin API route. The sample is checked against the document of the
// in-process test server, which routes none of Lectern's optional routes
// (search, feeds): drop their lines from a refreshed sample.
func writeSample(t *testing.T, out string, all []*exchange, checkers map[string]*trafficChecker) {
	t.Helper()
	type pick struct {
		key string
		e   *exchange
	}
	best := map[string]*exchange{}
	var order []string
	for _, e := range all {
		c := checkers[e.Spec]
		req, err := e.request()
		require.NoError(t, err)
		key := ""
		if route, params, err := c.router.FindRoute(req); err == nil {
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: presentAuthorization}}
			valid := openapi3filter.ValidateRequest(context.Background(), in) == nil
			enc := "none"
			switch {
			case e.Request.Form != nil:
				enc = "form"
			case len(e.Request.JSON) > 0:
				enc = "json"
			}
			key = fmt.Sprintf("%s %d %v %s %v", route.Operation.OperationID, e.Response.Status, valid, enc, picksFields(req))
		} else if adminOnly(req.URL.Path) {
			key = "admin " + e.Method + " " + idSegment.ReplaceAllString(req.URL.Path, "/{id}$1")
		} else {
			continue
		}
		if prev, ok := best[key]; !ok {
			order = append(order, key)
			best[key] = e
		} else if len(e.raw) < len(prev.raw) {
			best[key] = e
		}
	}
	sort.Strings(order)
	var b bytes.Buffer
	for _, k := range order {
		var line map[string]any
		require.NoError(t, json.Unmarshal(best[k].raw, &line))
		line["spec"] = "" // the sample is checked against a generated document
		raw, err := marshal(line)
		require.NoError(t, err)
		b.Write(raw)
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(out, b.Bytes(), 0o644))
	t.Logf("sample: %d exchanges written to %s", len(order), out)
}

// ---

const trafficSample = "testdata/traffic-sample.jsonl"

// TestTrafficCheckCatchesWrongSchema: the committed sample of a real capture
// matches the document generated from the fixture (the same migrations as the
// binary), and a deliberately wrong schema entry makes the check fail.
func TestTrafficCheckCatchesWrongSchema(t *testing.T) {
	s := newServer(t)
	res, spec := s.do(t, http.MethodGet, PathOpenAPI, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	sample := readExchanges(t, trafficSample)
	require.GreaterOrEqual(t, len(sample), 20, "the sample is too small to mean anything")

	run := func(t *testing.T, spec []byte) *trafficReport {
		t.Helper()
		c := newTrafficChecker(t, spec)
		r := newTrafficReport()
		for _, e := range sample {
			c.check(context.Background(), e, r)
		}
		r.log(t, 1, c.operationCount())
		return r
	}

	t.Run("sample matches the generated document", func(t *testing.T) {
		r := run(t, spec)
		require.Equal(t, len(sample), r.exchanges)
		require.Zero(t, r.failures(), "the sample disagrees with the document (see the log); refresh it with LECTERN_TRAFFIC_SAMPLE_OUT if the capture is stale")
		require.Positive(t, r.refused, "the sample should hold requests the spec refuses and the server refused")
		require.Positive(t, len(r.adminOnly), "the sample should hold a superuser API exchange")
	})

	schema := func(t *testing.T, doc map[string]any, name string) map[string]any {
		t.Helper()
		s, ok := dig(t, doc, "components", "schemas", name).(map[string]any)
		require.True(t, ok, name)
		return s
	}
	corruptions := []struct {
		name, want string
		corrupt    func(t *testing.T, doc map[string]any)
	}{
		{"posts.status enum is [live]", `'/status': value must be 'live'`, func(t *testing.T, doc map[string]any) {
			schemaProp(t, schema(t, doc, "PostsRecord"), "status")["enum"] = []any{"live"}
		}},
		{"posts.commentsCount is a string", `'/commentsCount': got number, want string`, func(t *testing.T, doc map[string]any) {
			schemaProp(t, schema(t, doc, "PostsRecord"), "commentsCount")["type"] = "string"
		}},
		{"posts.excerpt is not documented", "excerpt", func(t *testing.T, doc map[string]any) {
			delete(dig(t, schema(t, doc, "PostsRecord"), "properties").(map[string]any), "excerpt")
		}},
		{"a created post needs a subtitle (request side)", "subtitle", func(t *testing.T, doc map[string]any) {
			s := schema(t, doc, "PostsCreate")
			s["required"] = append(asSlice(s["required"]), "subtitle")
		}},
		{"viewing a post never answers 404", "status is not supported", func(t *testing.T, doc map[string]any) {
			delete(dig(t, doc, "paths", "/api/collections/posts/records/{id}", "get", "responses").(map[string]any), "404")
		}},
	}
	for _, tc := range corruptions {
		t.Run("wrong schema: "+tc.name, func(t *testing.T) {
			var doc map[string]any
			require.NoError(t, json.Unmarshal(spec, &doc))
			tc.corrupt(t, doc)
			wrong, err := json.Marshal(doc)
			require.NoError(t, err)

			r := run(t, wrong)
			require.GreaterOrEqual(t, len(r.mismatches), 1, "the wrong document went unnoticed")
			named := false
			for _, m := range r.mismatches {
				named = named || strings.Contains(m.error, tc.want)
			}
			require.True(t, named, "no mismatch says %q", tc.want)
		})
	}
}

func schemaProp(t *testing.T, schema map[string]any, name string) map[string]any {
	t.Helper()
	p, ok := dig(t, schema, "properties", name).(map[string]any)
	require.True(t, ok, "property %s", name)
	return p
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
