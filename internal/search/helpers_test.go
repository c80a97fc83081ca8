package search_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is a decoded /api/search answer.
type result struct {
	Page       int `json:"page"`
	PerPage    int `json:"perPage"`
	TotalItems int `json:"totalItems"`
	TotalPages int `json:"totalPages"`
	Items      []struct {
		Type    string         `json:"type"`
		ID      string         `json:"id"`
		Score   float64        `json:"score"`
		Snippet string         `json:"snippet"`
		Record  map[string]any `json:"record"`
	} `json:"items"`
	Facets struct {
		Type      map[string]int `json:"type"`
		Mode      map[string]int `json:"mode"`
		Level     map[string]int `json:"level"`
		MinRating map[string]int `json:"minRating"`
	} `json:"facets"`
	CorrectedQuery *string `json:"correctedQuery"`
	Approximate    bool    `json:"approximate"`
	// ApproximateRanking: the ranking was bounded (RankLimit)
	ApproximateRanking bool `json:"approximateRanking"`
}

func (r result) ids() []string {
	out := make([]string, len(r.Items))
	for i, it := range r.Items {
		out[i] = it.ID
	}
	return out
}

func (r result) has(id string) bool { return slices.Contains(r.ids(), id) }

func decode(t testing.TB, res *http.Response) result {
	t.Helper()
	var r result
	require.NoError(t, json.NewDecoder(res.Body).Decode(&r))
	return r
}

// searchURL builds /api/search?... from key, value pairs.
func searchURL(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return "/api/search?" + v.Encode()
}

// ok is a 200 scenario whose decoded answer check inspects.
func ok(name, identity, u string, check func(t testing.TB, r result)) tests.ApiScenario {
	return tests.ApiScenario{
		Name:            name,
		Method:          http.MethodGet,
		URL:             u,
		Headers:         fixture.Headers(identity),
		ExpectedStatus:  200,
		ExpectedContent: []string{`"page":`, `"facets":`},
		TestAppFactory:  newApp,
		AfterTestFunc: func(t testing.TB, _ *tests.TestApp, res *http.Response) {
			check(t, decode(t, res))
		},
	}
}

// bad is a 400 scenario naming the offending parameter.
func bad(name, u, param string) tests.ApiScenario {
	return tests.ApiScenario{
		Name:            name,
		Method:          http.MethodGet,
		URL:             u,
		ExpectedStatus:  400,
		ExpectedContent: []string{`"status":400`, `"` + param + `":{"code":`},
		ExpectedEvents:  map[string]int{"*": 0},
		TestAppFactory:  newApp,
	}
}

// wantIDs checks the result holds exactly these ids, in any order, and a
// matching total.
func wantIDs(ids ...string) func(t testing.TB, r result) {
	return func(t testing.TB, r result) {
		assert.ElementsMatch(t, ids, r.ids())
		assert.Equal(t, len(ids), r.TotalItems)
	}
}

func run(t *testing.T, scenarios []tests.ApiScenario) {
	t.Helper()
	for _, s := range scenarios {
		s.Test(t)
	}
}
