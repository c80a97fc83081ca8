package site_test

import (
	"net/http"
	"testing"
	"testing/fstest"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/site"
	"lectern/internal/testkit"
)

var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

func TestPostPagesAnswer404ForUnknownSlugs(t *testing.T) {
	public := fstest.MapFS{
		"index.html":      {Data: []byte("<!doctype html><title>Lectern</title>")},
		"assets/site.css": {Data: []byte("body{}")},
	}
	route := func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		e.Router.GET("/{path...}", site.Handler(public, "default-src 'self'"))
	}
	scenarios := []tests.ApiScenario{
		{Name: "a published post", URL: "/posts/hello-lectern", ExpectedStatus: http.StatusOK, ExpectedContent: []string{"<title>Lectern</title>"}},
		{Name: "no such post", URL: "/posts/no-such-post", ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{"<title>Lectern</title>"}},
		// its author still sees it: the page is the same, only the status tells crawlers
		{Name: "a draft", URL: "/posts/draft-thoughts", ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{"<title>Lectern</title>"}},
		{Name: "the blog index", URL: "/", ExpectedStatus: http.StatusOK, ExpectedContent: []string{"<title>Lectern</title>"}},
		{Name: "a course page", URL: "/courses/node-js", ExpectedStatus: http.StatusOK, ExpectedContent: []string{"<title>Lectern</title>"}},
		{Name: "a file", URL: "/assets/site.css", ExpectedStatus: http.StatusOK, ExpectedContent: []string{"body{}"}},
		{Name: "an unknown API path", URL: "/api/nope", ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`}},
	}
	for _, s := range scenarios {
		s.Method = http.MethodGet
		s.BeforeTestFunc = route
		s.TestAppFactory = fixture.Factory
		s.Test(t)
	}
}
