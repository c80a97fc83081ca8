package hooks_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/require"
)

// limited sets the app's rate limits to rules and spends the one request each
// allows with a GET of url, so the scenario's own request is refused.
func limited(url string, rules ...core.RateLimitRule) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
	return func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		app.Settings().RateLimits.Enabled = true
		app.Settings().RateLimits.Rules = rules
		mux, err := e.Router.BuildMux()
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		require.Equal(t, http.StatusOK, rec.Code)
	}
}

func TestRateLimitedAnswersSayWhenToRetry(t *testing.T) {
	const list = "/api/collections/posts/records"
	scenarios := []tests.ApiScenario{
		{
			Name: "a path rule: its window", Method: http.MethodGet, URL: list,
			BeforeTestFunc: limited(list, core.RateLimitRule{Label: "GET " + list, MaxRequests: 1, Duration: 7}),
			ExpectedStatus: http.StatusTooManyRequests, ExpectedContent: []string{`"status":429`},
			ExpectedEvents: map[string]int{"*": 0},
			AfterTestFunc: func(t testing.TB, _ *tests.TestApp, res *http.Response) {
				require.Equal(t, "7", res.Header.Get("Retry-After"))
			},
			TestAppFactory: fixture.Factory,
		},
		{
			Name: "a collection rule: the longest window, never too soon", Method: http.MethodGet, URL: list,
			BeforeTestFunc: limited(list,
				core.RateLimitRule{Label: "posts:list", MaxRequests: 1, Duration: 3},
				core.RateLimitRule{Label: "/api/other", MaxRequests: 100, Duration: 9}),
			ExpectedStatus: http.StatusTooManyRequests, ExpectedContent: []string{`"status":429`},
			ExpectedEvents: map[string]int{"*": 0},
			AfterTestFunc: func(t testing.TB, _ *tests.TestApp, res *http.Response) {
				require.Equal(t, "9", res.Header.Get("Retry-After"))
			},
			TestAppFactory: fixture.Factory,
		},
		{
			Name: "not limited: no Retry-After", Method: http.MethodGet, URL: list,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"items"`},
			ExpectedEvents: map[string]int{"OnRecordsListRequest": 1, "OnRecordEnrich": 2},
			AfterTestFunc: func(t testing.TB, _ *tests.TestApp, res *http.Response) {
				require.Empty(t, res.Header.Get("Retry-After"))
			},
			TestAppFactory: fixture.Factory,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// The README lists a limit for /api/batch but says batch is off: Lectern's
// hooks (counters, outbox rows, the filter guard) are tested one request at a
// time, not inside PocketBase's batch transaction. Switching it on is an
// operator's choice in Settings.
func TestBatchIsOff(t *testing.T) {
	(&tests.ApiScenario{
		Name: "a batch of creates", Method: http.MethodPost, URL: "/api/batch",
		Body:           strings.NewReader(`{"requests":[{"method":"POST","url":"/api/collections/topics/records","body":{"name":"Batched"}}]}`),
		Headers:        map[string]string{"Authorization": fixture.Tokens["admin"], "Content-Type": "application/json"},
		ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{"Batch requests are not allowed."},
		ExpectedEvents: map[string]int{"*": 0},
		TestAppFactory: fixture.Factory,
	}).Test(t)
}
