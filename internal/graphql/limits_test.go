package graphql_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/apidocs"
	"lectern/internal/graphql"
	"lectern/internal/testkit"
)

// countQueries counts the SQL statements that return rows, from now on.
func countQueries(t *testing.T, app core.App) (count func() int64) {
	t.Helper()
	db, ok := app.ConcurrentDB().(*dbx.DB)
	require.True(t, ok)
	var n atomic.Int64
	prev := db.QueryLogFunc
	db.QueryLogFunc = func(ctx context.Context, d time.Duration, q string, rows *sql.Rows, err error) {
		n.Add(1)
		if prev != nil {
			prev(ctx, d, q, rows, err)
		}
	}
	t.Cleanup(func() { db.QueryLogFunc = prev })
	return n.Load
}

// TestBatching: a page of posts with their authors, topics and comments (and
// the comments' authors) costs the same number of queries for 2 posts as for 20.
func TestBatching(t *testing.T) {
	s := newServer(t)
	posts, err := s.app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	authors := []string{testkit.UserAuthor, testkit.UserAuthor2, testkit.UserInstructor}
	for i := range 20 {
		p := core.NewRecord(posts)
		p.Load(map[string]any{"title": fmt.Sprintf("Batch post %02d", i), "body": "<p>x</p>", "status": "published",
			"author": authors[i%3], "topics": []string{testkit.TopicGo}})
		require.NoError(t, s.app.Save(p))
	}
	query := `query($n: Int) { posts(perPage: $n, sort: "-created") { items { title author { name } topics { name }
		comments { totalItems items { body author { name } } } } } }`
	count := countQueries(t, s.app)
	measure := func(n int) (int64, int) {
		before := count()
		r := s.gql(testkit.Student, query, map[string]any{"n": n})
		require.Empty(t, r.Errors)
		items := r.Data["posts"].(map[string]any)["items"].([]any)
		for _, it := range items {
			require.NotNil(t, it.(map[string]any)["author"], "author of every published post")
		}
		return count() - before, len(items)
	}
	two, n2 := measure(2)
	twenty, n20 := measure(20)
	t.Logf("queries: %d for %d posts, %d for %d posts", two, n2, twenty, n20)
	require.Equal(t, 20, n20)
	assert.Equal(t, two, twenty, "the query count does not grow with the page")
	assert.LessOrEqual(t, twenty, int64(12), "a bounded number of queries")
}

// TestLimitsBeforeDatabase: queries over the depth, cost or size limits are
// refused with a GraphQL error and run no SQL.
func TestLimitsBeforeDatabase(t *testing.T) {
	s := newServer(t)
	count := countQueries(t, s.app)
	deep := `{ comments { items { post { author { posts { items { comments { items { author { name } } } } } } } } } }`
	cases := []struct{ name, query, want string }{
		{"depth 9", deep, "levels deep"},
		{"cost of nested pages", `{ posts(perPage: 200) { items { comments(perPage: 200) { items { id } } } } }`, "may load"},
		{"cost through a variable", `query($n: Int) { posts(perPage: $n) { items { comments(perPage: $n) { items { id } } } } }`, "may load"},
		{"cost of many root fields", strings.Repeat(`a: posts(perPage: 200) { totalItems } `, 1), ""},
		{"aliases multiplying a list", "{" + func() string {
			var b strings.Builder
			for i := range 60 {
				fmt.Fprintf(&b, " p%d: posts(perPage: 200) { totalItems }", i)
			}
			return b.String()
		}() + " }", "may load"},
		{"fragments hiding depth", `{ comments { items { ...C } } } fragment C on Comment { post { author { posts { items { comments { items { author { name } } } } } } } }`, "levels deep"},
		{"too many braces", strings.Repeat("{ ", 40) + strings.Repeat("} ", 40), "nests braces"},
		{"selection too wide", "{ posts { items { " + strings.Repeat("id ", 1500) + "} } }", "more than 1000 fields"},
		{"fragments spread wide", "{ posts { items { " + strings.Repeat("...F ", 300) + "} } } fragment F on Post { id title slug status }", "more than 1000 fields"},
		{"too long", "{ " + strings.Repeat("posts { totalItems } ", 2000) + "}", "longer than"},
	}
	for _, c := range cases {
		if c.want == "" {
			continue
		}
		before := count()
		r := s.gql(testkit.Guest, c.query, map[string]any{"n": 200})
		require.NotEmpty(t, r.Errors, c.name)
		assert.Contains(t, r.Errors[0].Message, c.want, c.name)
		assert.Nil(t, r.Data, c.name)
		assert.Equal(t, int64(0), count()-before, "%s: no SQL before the refusal", c.name)
	}

	// at the limit is fine: depth 8
	r := s.gql(testkit.Guest, `{ comments(perPage: 5) { items { post { author { posts(perPage: 5) { items { comments(perPage: 5) { totalItems } } } } } } } }`, nil)
	assert.Empty(t, r.Errors)
	assert.Equal(t, 8, graphql.MaxDepth)

	// introspection is exempt (GraphiQL's query nests ofType deeper than 8)
	r = s.gql(testkit.Guest, `{ __schema { queryType { name } types { name kind fields { name type { kind ofType { kind ofType { kind ofType { kind ofType { name } } } } } } } } }`, nil)
	require.Empty(t, r.Errors)
	var names []string
	for _, ty := range r.Data["__schema"].(map[string]any)["types"].([]any) {
		names = append(names, ty.(map[string]any)["name"].(string))
	}
	for _, want := range []string{"Post", "PostList", "Course", "User", "Topic", "Comment", "Lesson", "Enrollment", "Review"} {
		assert.Contains(t, names, want)
	}
}

// TestPerPageCap: perPage above 200 is clamped as REST clamps it.
func TestPerPageCap(t *testing.T) {
	s := newServer(t)
	r := s.gql(testkit.Admin, `{ users(perPage: 5000, page: -3) { page perPage totalItems } }`, nil)
	require.Empty(t, r.Errors)
	_, rest := s.rest(testkit.Admin, "/api/collections/users/records", url.Values{"perPage": {"5000"}, "page": {"-3"}})
	got := r.Data["users"].(map[string]any)
	assert.EqualValues(t, 200, got["perPage"])
	assert.Equal(t, rest["perPage"], got["perPage"])
	assert.Equal(t, rest["page"], got["page"])
	assert.Equal(t, rest["totalItems"], got["totalItems"])
}

// TestBadRequests: what is not a GraphQL request is REST's 400; a GraphQL
// request that is wrong is a 200 with errors; nothing is a 500.
func TestBadRequests(t *testing.T) {
	s := newServer(t)
	for _, c := range []struct {
		name, method, target, body, ct string
		status                         int
	}{
		{"not JSON", "POST", "/api/graphql", "query { posts }", "application/json", 400},
		{"form body", "POST", "/api/graphql", "query=x", "application/x-www-form-urlencoded", 400},
		{"JSON array", "POST", "/api/graphql", `[{"query":"{ posts { totalItems } }"}]`, "application/json", 400},
		{"query not a string", "POST", "/api/graphql", `{"query": 5}`, "application/json", 400},
		{"no query", "POST", "/api/graphql", `{"variables": {}}`, "application/json", 400},
		{"variables not an object", "POST", "/api/graphql", `{"query": "{ posts { totalItems } }", "variables": [1]}`, "application/json", 400},
		{"unknown key", "POST", "/api/graphql", `{"query": "{ posts { totalItems } }", "sql": "x"}`, "application/json", 400},
		{"trailing garbage", "POST", "/api/graphql", `{"query": "{ posts { totalItems } }"} x`, "application/json", 400},
		{"GET without query", "GET", "/api/graphql", "", "", 400},
		{"GET bad variables", "GET", "/api/graphql?query=" + url.QueryEscape("{ posts { totalItems } }") + "&variables=nope", "", "", 400},
		{"GET mutation", "GET", "/api/graphql?query=" + url.QueryEscape("mutation { x }"), "", "", 405},
		{"GET query", "GET", "/api/graphql?query=" + url.QueryEscape("{ posts { totalItems } }"), "", "", 200},
		{"POST without content type", "POST", "/api/graphql", `{"query": "{ posts { totalItems } }"}`, "", 200},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		code, out := s.do(c.method, c.target, testkit.Guest, body, c.ct)
		assert.Equal(t, c.status, code, "%s: %s", c.name, out)
		var m map[string]any
		require.NoError(t, json.Unmarshal(out, &m), c.name)
		if c.status >= 400 {
			assert.EqualValues(t, c.status, m["status"], "%s: PocketBase's error shape", c.name)
			assert.Contains(t, m, "message")
			assert.Contains(t, m, "data")
		}
	}

	for _, c := range []struct {
		name, who, query, want string
		status                 float64
	}{
		{"syntax error", testkit.Guest, `{ posts { items { id }`, "Syntax Error", 0},
		{"unknown field", testkit.Guest, `{ posts { items { password } } }`, `Cannot query field "password"`, 0},
		{"unknown collection", testkit.Guest, `{ secrets { totalItems } }`, `Cannot query field "secrets"`, 0},
		{"bad argument type", testkit.Guest, `{ posts(perPage: "ten") { totalItems } }`, "perPage", 0},
		{"missing id", testkit.Guest, `{ post { id } }`, "id", 0},
		{"unknown filter field", testkit.Guest, `{ posts(filter: "nope = 1") { totalItems } }`, "Invalid filter or sort", 400},
		{"bad filter syntax", testkit.Student, `{ posts(filter: "title = ") { totalItems } }`, "Invalid filter or sort", 400},
		{"unknown sort field", testkit.Guest, `{ posts(sort: "-nope") { totalItems } }`, "Invalid filter or sort", 400},
		{"hidden field in a filter", testkit.Student, `{ users(filter: "password != ''") { totalItems } }`, "Invalid filter or sort", 400},
		{"@collection in a filter", testkit.Student, `{ posts(filter: "@collection.posts.status = 'draft'") { totalItems } }`, "Only superusers can filter by @collection.", 403},
		{"@request in a sort", testkit.Guest, `{ posts(sort: "@request.auth.id") { totalItems } }`, "Only superusers can filter by @request.", 403},
		{"filter guard: every-match over a back-relation", testkit.Student, `{ posts(filter: "comments_via_post.body !~ 'spam'") { totalItems } }`, "", 400},
		{"filter guard in a back-relation's filter", testkit.Student, `{ courses { items { lessons(filter: "course.reviews_via_course.body != 'x'") { totalItems } } } }`, "", 400},
		{"bad filter in a back-relation", testkit.Guest, `{ posts { items { comments(filter: "nope ~ 1") { totalItems } } } }`, "Invalid filter or sort", 400},
		{"a variable without a type (graphql-go's validator panics on it)", testkit.Guest, `query($A:){A}`, "The query could not be read.", 0},
		{"fragment cycle", testkit.Guest, `{ posts { ...A } } fragment A on PostList { ...B } fragment B on PostList { ...A }`, "Cannot spread fragment", 0},
		{"unknown operation", testkit.Guest, `query A { posts { totalItems } }`, "", 0},
	} {
		body, _ := json.Marshal(map[string]any{"query": c.query, "operationName": map[bool]any{true: "B", false: nil}[c.name == "unknown operation"]})
		code, out := s.do(http.MethodPost, "/api/graphql", c.who, body, "application/json")
		require.Equal(t, http.StatusOK, code, "%s: %s", c.name, out)
		var r gqlResponse
		require.NoError(t, json.Unmarshal(out, &r), c.name)
		require.NotEmpty(t, r.Errors, "%s: %s", c.name, out)
		assert.Contains(t, r.Errors[0].Message, c.want, c.name)
		if strings.HasPrefix(c.name, "filter guard") {
			data, _ := r.Errors[0].Extensions["data"].(map[string]any)
			f, _ := data["filter"].(map[string]any)
			assert.Equal(t, "validation_filter_every_match", f["code"], "%s: the guard's refusal naming the path: %s", c.name, out)
		}
		if c.status != 0 {
			assert.Equal(t, c.status, r.Errors[0].Extensions["status"], "%s: REST's status in extensions", c.name)
			// the field REST refused is null; nothing else leaked into data
			if r.Data != nil {
				if list, ok := r.Data[map[bool]string{true: "courses", false: "posts"}[r.Data["courses"] != nil]].(map[string]any); ok {
					// a refused back-relation: null under every parent
					for _, it := range list["items"].([]any) {
						for k, v := range it.(map[string]any) {
							assert.Nil(t, v, "%s: %s", c.name, k)
						}
					}
				} else {
					for k, v := range r.Data {
						assert.Nil(t, v, "%s: %s", c.name, k)
					}
				}
			}
		}
	}
}

// TestDocumented: the OpenAPI document describes both methods of the endpoint
// and the docs page links it.
func TestDocumented(t *testing.T) {
	app := fixture.NewApp(t)
	t.Cleanup(app.Cleanup)
	apidocs.Register(app)
	graphql.Register(app)
	h, err := testkit.Handler(app)
	require.NoError(t, err)
	s := &server{t: t, app: app, h: h}

	code, body := s.do(http.MethodGet, "/api/openapi.json", testkit.Guest, nil, "")
	require.Equal(t, http.StatusOK, code)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string         `json:"operationId"`
			Responses   map[string]any `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	ops := doc.Paths["/api/graphql"]
	require.Contains(t, ops, "post")
	require.Contains(t, ops, "get")
	assert.Contains(t, ops["post"].Responses, "200")
	assert.Contains(t, ops["post"].Responses, "400")

	code, page := s.do(http.MethodGet, "/api/docs", testkit.Guest, nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(page), `href="/api/docs#/graphql"`)
}
