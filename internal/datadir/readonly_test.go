package datadir

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

// readOnlyApp is the fixture with its write connection made read-only
// (PRAGMA query_only: writes fail with SQLITE_READONLY, as on a read-only
// file) after the guard was bound.
func readOnlyApp(t testing.TB) *tests.TestApp {
	app := fixture.NewApp(t)
	bindReadOnlyGuard(app)
	_, err := app.NonconcurrentDB().NewQuery("PRAGMA query_only = 1").Execute()
	require.NoError(t, err)
	return app
}

func TestReadOnlyDatabaseAnswers503(t *testing.T) {
	scenarios := []tests.ApiScenario{
		{
			Name:               "author creating a post on a read-only database",
			Method:             http.MethodPost,
			URL:                "/api/collections/posts/records",
			Headers:            fixture.Headers(testkit.Author),
			Body:               strings.NewReader(`{"title":"Read-only","body":"<p>x</p>","status":"draft"}`),
			ExpectedStatus:     http.StatusServiceUnavailable,
			ExpectedContent:    []string{`"status":503`, `not a problem with your request`},
			NotExpectedContent: []string{"Failed to create record"},
			ExpectedEvents: map[string]int{"*": 0, "OnRecordCreateRequest": 1, "OnModelCreate": 1, "OnModelValidate": 1,
				"OnRecordCreate": 1, "OnRecordValidate": 1, "OnModelCreateExecute": 1, "OnRecordCreateExecute": 1,
				"OnModelAfterCreateError": 1, "OnRecordAfterCreateError": 1},
			TestAppFactory: readOnlyApp,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// After a write failed on a read-only database /api/health answers 503,
// until the database is writable again.
func TestHealthFollowsReadOnly(t *testing.T) {
	app := readOnlyApp(t)
	t.Cleanup(app.Cleanup)
	mux, err := testkit.Handler(app)
	require.NoError(t, err)
	send := func(method, path, body string, headers map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusOK, send("GET", "/api/health", "", nil).Code, "healthy before any write failed")
	w := send("POST", "/api/collections/posts/records", `{"title":"Read-only","body":"<p>x</p>","status":"draft"}`, fixture.Headers(testkit.Author))
	require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	h := send("GET", "/api/health", "", nil)
	require.Equal(t, http.StatusServiceUnavailable, h.Code, h.Body.String())

	_, err = app.NonconcurrentDB().NewQuery("PRAGMA query_only = 0").Execute()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, send("GET", "/api/health", "", nil).Code, "healthy once writable again")
}
