package apidocs

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/testkit"
)

// fixture is the data dir (every role, records in every state) the tests clone.
var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

// testServer is a fixture app with Lectern's hooks and this package's routes,
// serving requests in process like tests.ApiScenario, but keeping the app
// (and so the cache) across requests.
type testServer struct {
	app *tests.TestApp
	svc *service
	mux http.Handler
}

// newServer clones the fixture; extra runs on the serve event before the
// mux is built (to add routes).
func newServer(t *testing.T, extra ...func(se *core.ServeEvent)) *testServer {
	t.Helper()
	app := fixture.NewApp(t)
	t.Cleanup(app.Cleanup)
	svc := register(app)

	r, err := apis.NewRouter(app)
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{app: app, svc: svc}
	se := &core.ServeEvent{App: app, Router: r}
	err = app.OnServe().Trigger(se, func(e *core.ServeEvent) error {
		for _, f := range extra {
			f(e)
		}
		mux, err := e.Router.BuildMux()
		s.mux = mux
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// do sends a request as identity (a testkit identity, "" for a guest).
func (s *testServer) do(t *testing.T, method, url, identity, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if identity != "" {
		for k, v := range fixture.Headers(identity) {
			req.Header.Set(k, v)
		}
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	res := rec.Result()
	return res, rec.Body.Bytes()
}

func (s *testServer) get(t *testing.T, url string) []byte {
	t.Helper()
	res, body := s.do(t, http.MethodGet, url, "", "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, body)
	}
	return body
}
