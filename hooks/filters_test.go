package hooks_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/testkit"
)

// The filter guard's answers to the filters a frontend writes: what keeps
// working, what is refused (a 400 naming the field path), and that
// superusers are never refused. TestFilterLeaks proves the refusals are
// enough; these pin the messages and the forms that must keep working.
func TestFilterGuard(t *testing.T) {
	list := func(collection, filter, sort string) string {
		q := url.Values{}
		if filter != "" {
			q.Set("filter", filter)
		}
		if sort != "" {
			q.Set("sort", sort)
		}
		return "/api/collections/" + collection + "/records?" + q.Encode()
	}
	refusedFilter := func(path string) []string {
		return []string{`"status":400`, `"filter":{"code":"validation_filter_`, strings.ReplaceAll(path, `"`, `\"`)}
	}
	scenarios := []tests.ApiScenario{
		{
			Name: "guest: the blog's topic filter (any-match over a public collection)", Method: http.MethodGet,
			URL:            list("posts", `status = "published" && topics.slug ?= "go"`, "-publishedAt"),
			ExpectedStatus: 200, ExpectedContent: []string{`"totalItems":1`, testkit.PostPublished},
		},
		{
			Name: "guest: ?~ over visible comments", Method: http.MethodGet,
			URL:            list("posts", `comments_via_post.body ?~ "Great"`, ""),
			ExpectedStatus: 200, ExpectedContent: []string{`"totalItems":1`, testkit.PostPublished},
		},
		{
			Name: "guest: ?~ never matches a hidden comment", Method: http.MethodGet,
			URL:            list("posts", `comments_via_post.body ?~ "Spam"`, ""),
			ExpectedStatus: 200, ExpectedContent: []string{`"totalItems":0`},
		},
		{
			Name: "guest: a single relation with any operator", Method: http.MethodGet,
			URL:            list("comments", `post.title != "nothing" && parent.body != "x"`, "post.title"),
			ExpectedStatus: 200, ExpectedContent: []string{`"page":1`},
		},
		{
			Name: "guest: every-match over a back-relation", Method: http.MethodGet,
			URL:            list("topics", `posts_via_topics.body !~ "codename"`, ""),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`posts_via_topics.body`), ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "student: every-match over other students' enrollments", Method: http.MethodGet,
			URL:            list("courses", `enrollments_via_course.user != "`+testkit.UserStudent+`"`, ""),
			Headers:        fixture.Headers(testkit.Student),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`enrollments_via_course.user`), ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "student: every-match over a multiple relation", Method: http.MethodGet,
			URL:            list("enrollments", `completedLessons.body ~ "x"`, ""),
			Headers:        fixture.Headers(testkit.Student),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`completedLessons.body`),
		},
		{
			Name: "guest: ?!= also matches records with no related rows", Method: http.MethodGet,
			URL:            list("courses", `lessons_via_course.title ?!= "x"`, ""),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`lessons_via_course.title`),
		},
		{
			Name: "guest: an any-match that || makes optional", Method: http.MethodGet,
			URL:            list("topics", `posts_via_topics.title ?= "x" || id != ""`, ""),
			ExpectedStatus: 400, ExpectedContent: []string{`validation_filter_optional_relation`, `posts_via_topics.title`},
		},
		{
			Name: "guest: both || branches require the relation", Method: http.MethodGet,
			URL:            list("topics", `(posts_via_topics.title ?= "x" || posts_via_topics.title ?= "Hello Lectern")`, ""),
			ExpectedStatus: 200, ExpectedContent: []string{`"totalItems":1`},
		},
		{
			Name: "guest: compared with another field, not a literal", Method: http.MethodGet,
			URL:            list("posts", `comments_via_post.body ?= title`, ""),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`comments_via_post.body`),
		},
		{
			Name: "guest: @collection every-match", Method: http.MethodGet,
			URL:            list("topics", `@collection.posts.body ~ "secret"`, ""),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`@collection.posts.body`),
		},
		{
			Name: "guest: sort through a back-relation", Method: http.MethodGet,
			URL:            list("posts", "", "-comments_via_post.created"),
			ExpectedStatus: 400, ExpectedContent: []string{`"sort":{"code":"validation_sort_path"`, `comments_via_post.created`},
		},
		{
			Name: "guest: :each through a single relation", Method: http.MethodGet,
			URL:            list("enrollments", `course.topics:each != "x"`, ""),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`course.topics:each`),
		},
		{
			Name: "guest: a relation followed from @request.auth", Method: http.MethodGet,
			URL:            list("posts", `@request.auth.avatar.x = "y"`, ""),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`@request.auth.avatar.x`),
		},
		{
			Name: "superuser: every form is allowed", Method: http.MethodGet,
			URL:            list("topics", `posts_via_topics.body !~ "codename"`, "-posts_via_topics.created"),
			Headers:        fixture.Headers(testkit.Superuser),
			ExpectedStatus: 200, ExpectedContent: []string{`"totalItems":1`},
		},
		{
			Name: "guest: a malformed filter is still PocketBase's own 400", Method: http.MethodGet,
			URL:            list("posts", `title = `, ""),
			ExpectedStatus: 400, NotExpectedContent: []string{`validation_filter_`},
		},
		{
			Name: "admin user: no exception for the admin role (rules, not roles, decide)", Method: http.MethodGet,
			URL:            list("courses", `enrollments_via_course.user = "x"`, ""),
			Headers:        fixture.Headers(testkit.Admin),
			ExpectedStatus: 400, ExpectedContent: refusedFilter(`enrollments_via_course.user`),
		},
	}
	for _, s := range scenarios {
		s.TestAppFactory = fixture.Factory
		s.Test(t)
	}
}

// The realtime form: a subscription whose filter the guard refuses is a 400
// at subscribe time, naming the path; an allowed one subscribes.
func TestFilterGuardRealtime(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()
	h, err := testkit.Handler(app)
	if err != nil {
		t.Fatal(err)
	}
	s := newLeakSchema(t, app)
	subs := []string{
		`posts/*?options=` + url.QueryEscape(`{"query":{"filter":"comments_via_post.body !~ \"x\""}}`),
		`comments/*?options=` + url.QueryEscape(`{"query":{"filter":"post = \"`+testkit.PostPublished+`\""}}`),
	}
	got := realtimeAnswers(t, app, h, s, testkit.Guest, subs)
	if got[0] != "refused" {
		t.Errorf("every-match realtime filter: want refused, got events %q", got[0])
	}
	if got[1] == "refused" || !strings.Contains(got[1], testkit.CommentVisible) || strings.Contains(got[1], testkit.CommentHidden) {
		t.Errorf("the README's live comments filter: want the post's visible comments only, got %q", got[1])
	}
}
