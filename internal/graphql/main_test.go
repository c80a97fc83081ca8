package graphql_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/graphql"
	"lectern/internal/testkit"
)

var fixture *testkit.Fixture

var ipSeq int

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

// server is the fixture app behind the handler `serve` builds, GraphQL included.
type server struct {
	t   testing.TB
	app *tests.TestApp
	h   http.Handler
}

func newServer(t testing.TB) *server {
	t.Helper()
	app := fixture.NewApp(t)
	t.Cleanup(app.Cleanup)
	graphql.Register(app)
	h, err := testkit.Handler(app)
	if err != nil {
		t.Fatal(err)
	}
	return &server{t: t, app: app, h: h}
}

func (s *server) do(method, target, identity string, body []byte, contentType string) (int, []byte) {
	s.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, target, rd)
	// a client address per request: PocketBase throttles a client's repeated
	// empty filtered lists (a timing-attack guard) with sleeps
	ipSeq++
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", ipSeq>>16&255, ipSeq>>8&255, ipSeq&255)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range fixture.Headers(identity) {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// gqlResponse is a decoded GraphQL answer.
type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (s *server) gql(identity, query string, vars map[string]any) gqlResponse {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	code, out := s.do(http.MethodPost, "/api/graphql", identity, body, "application/json")
	if code != http.StatusOK {
		s.t.Fatalf("graphql as %s: status %d: %s", identity, code, out)
	}
	var r gqlResponse
	if err := json.Unmarshal(out, &r); err != nil {
		s.t.Fatalf("graphql as %s: %v: %s", identity, err, out)
	}
	return r
}

func (s *server) rest(identity, path string, q url.Values) (int, map[string]any) {
	s.t.Helper()
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	code, out := s.do(http.MethodGet, target, identity, nil, "")
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	return code, m
}
