package hooks_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

const postsURL = "/api/collections/posts/records"

// words returns n distinct words separated by spaces.
func words(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("word%d", i+1)
	}
	return strings.Join(w, " ")
}

// expectPostSlug is an AfterTestFunc checking the created post's slug.
func expectPostSlug(slug string) func(testing.TB, *tests.TestApp, *http.Response) {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		assert.Equal(t, slug, createdRecord(t, app, "posts", res).GetString("slug"))
	}
}

func TestPostSlugs(t *testing.T) {
	author := fixture.Headers(testkit.Author)
	longTitle := strings.Repeat("x", 90) // one word: its slug is cut to 80
	savePost := func(title string) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
		return func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
			newRecord(t, app, "posts", map[string]any{"title": title, "author": testkit.UserAuthor})
		}
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:           "author creating a post gets a slug from the title",
			Method:         http.MethodPost,
			URL:            postsURL,
			Body:           jsonBody(map[string]any{"title": "Go Generics, Explained!"}),
			Headers:        author,
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`"slug":"go-generics-explained"`,
			},
			AfterTestFunc: expectPostSlug("go-generics-explained"),
		},
		{
			Name:            "author creating a post with a non-ASCII title gets it transliterated",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Ünïcödé"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"unicode"`},
			AfterTestFunc:   expectPostSlug("unicode"),
		},
		{
			Name:            "author creating a post with an emoji-only title gets the fallback slug",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "🚀🚀🚀"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"post"`},
			AfterTestFunc:   expectPostSlug("post"),
		},
		{
			Name:            "author creating a second emoji-only post gets post-2",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "🎉🎉🎉"}),
			Headers:         author,
			BeforeTestFunc:  savePost("🚀🚀🚀"),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"post-2"`},
			AfterTestFunc:   expectPostSlug("post-2"),
		},
		{
			Name:            "author reusing a taken title gets -2",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Hello Lectern"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"hello-lectern-2"`},
			AfterTestFunc:   expectPostSlug("hello-lectern-2"),
		},
		{
			Name:            "author reusing a title taken twice gets -3",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "hello, lectern"}),
			Headers:         author,
			BeforeTestFunc:  savePost("Hello Lectern"),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"hello-lectern-3"`},
			AfterTestFunc:   expectPostSlug("hello-lectern-3"),
		},
		{
			Name:           "author creating a post with a very long title gets a slug of at most 80 characters",
			Method:         http.MethodPost,
			URL:            postsURL,
			Body:           jsonBody(map[string]any{"title": strings.Repeat("lorem ipsum ", 16)}),
			Headers:        author,
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`"slug":"lorem-ipsum`,
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				slug := createdRecord(t, app, "posts", res).GetString("slug")
				assert.LessOrEqual(t, len(slug), 80)
				assert.False(t, strings.HasSuffix(slug, "-"))
				assert.True(t, strings.HasSuffix(slug, "lorem") || strings.HasSuffix(slug, "ipsum"), slug)
			},
		},
		{
			Name:    "author reusing a long title taken twice gets a free, suffixed slug of at most 80 characters",
			Method:  http.MethodPost,
			URL:     postsURL,
			Body:    jsonBody(map[string]any{"title": longTitle}),
			Headers: author,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				savePost(longTitle)(t, app, e)
				savePost(longTitle)(t, app, e)
			},
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`"slug":"` + strings.Repeat("x", 78) + `-3"`,
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				var slugs []string
				require.NoError(t, app.DB().Select("slug").From("posts").Where(dbx.HashExp{"title": longTitle}).OrderBy("slug").Column(&slugs))
				assert.Equal(t, []string{strings.Repeat("x", 78) + "-2", strings.Repeat("x", 78) + "-3", strings.Repeat("x", 80)}, slugs)
			},
		},
		{
			Name:            "author choosing a valid free slug keeps it",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Whatever", "slug": "my-own-slug-2024"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"my-own-slug-2024"`},
			AfterTestFunc:   expectPostSlug("my-own-slug-2024"),
		},
		{
			Name:            "author choosing a 200-character slug keeps it",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Long slug", "slug": strings.Repeat("a", 200)}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"` + strings.Repeat("a", 200) + `"`},
		},
		{
			Name:            "author choosing a taken slug gets a 400 on slug, not a suffix",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Copycat", "slug": "hello-lectern"}),
			Headers:         author,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"slug":{"code":"validation_not_unique"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "posts", "title = 'Copycat'", nil))
			},
		},
		{
			Name:            "author renaming a post's slug to a taken one gets a 400 on slug",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostDraft,
			Body:            jsonBody(map[string]any{"slug": "hello-lectern"}),
			Headers:         author,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"slug":{"code":"validation_not_unique"`},
			ExpectedEvents:  updateRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, "draft-thoughts", findRecord(t, app, "posts", testkit.PostDraft).GetString("slug"))
			},
		},
		{
			Name:           "author editing a post's title keeps its slug",
			Method:         http.MethodPatch,
			URL:            postsURL + "/" + testkit.PostPublished,
			Body:           jsonBody(map[string]any{"title": "A completely new title"}),
			Headers:        author,
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`"slug":"hello-lectern"`, `"title":"A completely new title"`,
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, "hello-lectern", findRecord(t, app, "posts", testkit.PostPublished).GetString("slug"))
			},
		},
		{
			Name:            "author sending the whole post back with its own slug keeps it",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostPublished,
			Body:            jsonBody(map[string]any{"title": "Hello Lectern", "slug": "hello-lectern", "status": "published"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"hello-lectern"`},
		},
		{
			Name:            "author clearing a post's slug re-derives it from the current title",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostPublished,
			Body:            jsonBody(map[string]any{"title": "Fresh Start", "slug": ""}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"fresh-start"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, "fresh-start", findRecord(t, app, "posts", testkit.PostPublished).GetString("slug"))
			},
		},
	})

	// Every malformed explicit slug is a 400 naming slug.
	var invalid []tests.ApiScenario
	for _, slug := range []string{"Upper-Case", "two  spaces", "trailing-", "-leading", "double--dash", "ünï", "under_score", strings.Repeat("a", 201)} {
		invalid = append(invalid, tests.ApiScenario{
			Name:            fmt.Sprintf("author choosing the invalid slug %.20q gets a 400 on slug", slug),
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Bad slug", "slug": slug}),
			Headers:         author,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"slug":{"code":"validation_invalid_slug"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "posts", "title = 'Bad slug'", nil))
			},
		})
	}
	runScenarios(t, invalid)
}

func TestPostExcerptAndReadingTime(t *testing.T) {
	author := fixture.Headers(testkit.Author)
	longBody := "<h2>Title words</h2><p>" + words(400) + "</p><script>var hidden = 'not counted'</script>"

	runScenarios(t, []tests.ApiScenario{
		{
			Name:           "author creating a long post gets an excerpt of at most 300 characters cut at a word",
			Method:         http.MethodPost,
			URL:            postsURL,
			Body:           jsonBody(map[string]any{"title": "Long read", "body": longBody}),
			Headers:        author,
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`"excerpt":"Title words word1 word2`,
				`"readingMinutes":3`, // 402 visible words; the script is not text
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				post := createdRecord(t, app, "posts", res)
				excerpt := post.GetString("excerpt")
				assert.LessOrEqual(t, utf8.RuneCountInString(excerpt), 300)
				assert.Greater(t, utf8.RuneCountInString(excerpt), 250)
				require.True(t, strings.HasSuffix(excerpt, "…"), excerpt)
				// cut at a word: what precedes the ellipsis is a whole word of the body
				head := strings.TrimSuffix(excerpt, "…")
				assert.True(t, strings.HasPrefix("Title words "+words(400), head+" "), excerpt)
				assert.NotContains(t, excerpt, "<")
				assert.Equal(t, 3, post.GetInt("readingMinutes"))
			},
		},
		{
			Name:            "author creating a short post gets its whole text as excerpt",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Short", "body": "<p>Just <b>a</b> few &amp; words.</p>"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"excerpt":"Just a few & words."`, `"readingMinutes":1`},
		},
		{
			Name:            "author creating a post with an explicit excerpt keeps it",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Teaser", "body": longBody, "excerpt": "My own teaser."}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"excerpt":"My own teaser."`},
		},
		{
			Name:           "author editing the body keeps an explicit excerpt",
			Method:         http.MethodPatch,
			URL:            postsURL + "/" + testkit.PostPublished,
			Body:           jsonBody(map[string]any{"body": "<p>" + words(10) + "</p>"}),
			Headers:        author,
			ExpectedStatus: 200,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				updateRecord(t, app, "posts", testkit.PostPublished, map[string]any{"excerpt": "Hand written."})
			},
			ExpectedContent: []string{`"excerpt":"Hand written."`},
		},
		{
			Name:           "author clearing the excerpt re-derives it from the body",
			Method:         http.MethodPatch,
			URL:            postsURL + "/" + testkit.PostPublished,
			Body:           jsonBody(map[string]any{"excerpt": "", "body": "<p>New body text.</p>"}),
			Headers:        author,
			ExpectedStatus: 200,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				updateRecord(t, app, "posts", testkit.PostPublished, map[string]any{"excerpt": "Hand written."})
			},
			ExpectedContent: []string{`"excerpt":"New body text."`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, "New body text.", findRecord(t, app, "posts", testkit.PostPublished).GetString("excerpt"))
			},
		},
		{
			Name:           "author clearing only the excerpt re-derives it from the stored body",
			Method:         http.MethodPatch,
			URL:            postsURL + "/" + testkit.PostPublished,
			Body:           jsonBody(map[string]any{"excerpt": ""}),
			Headers:        author,
			ExpectedStatus: 200,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				updateRecord(t, app, "posts", testkit.PostPublished, map[string]any{"excerpt": "Hand written."})
			},
			ExpectedContent: []string{`"excerpt":"Published words."`},
		},
		{
			Name:            "author sending readingMinutes and commentsCount has them ignored",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostPublished,
			Body:            jsonBody(map[string]any{"readingMinutes": 99, "commentsCount": 1000}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"readingMinutes":1`, `"commentsCount":3`},
		},
		{
			Name:            "author creating a post without a body reads in 1 minute",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Empty", "readingMinutes": 42}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"readingMinutes":1`, `"excerpt":""`, `"commentsCount":0`},
		},
	})

	// readingMinutes = ceil(words/200), at least 1, on create and on update.
	for _, c := range []struct{ words, minutes int }{{1, 1}, {200, 1}, {201, 2}, {400, 2}, {401, 3}, {1000, 5}} {
		runScenarios(t, []tests.ApiScenario{{
			Name:            fmt.Sprintf("author writing %d words reads in %d minutes", c.words, c.minutes),
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostPublished,
			Body:            jsonBody(map[string]any{"body": "<p>" + words(c.words) + "</p>"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{fmt.Sprintf(`"readingMinutes":%d`, c.minutes)},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, c.minutes, findRecord(t, app, "posts", testkit.PostPublished).GetInt("readingMinutes"))
			},
		}})
	}
}

func TestPostBodySanitized(t *testing.T) {
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "author creating a post with hostile HTML has it sanitized",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Hostile", "body": hostileHTML}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"title":"Hostile"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assertSanitized(t, createdRecord(t, app, "posts", res).GetString("body"))
			},
		},
		{
			Name:            "author updating a post with hostile HTML has it sanitized",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostPublished,
			Body:            jsonBody(map[string]any{"body": hostileHTML}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"` + testkit.PostPublished + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertSanitized(t, findRecord(t, app, "posts", testkit.PostPublished).GetString("body"))
			},
		},
		{
			Name:            "superuser creating a post from the dashboard has it sanitized",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Dashboard post", "author": testkit.UserAuthor2, "body": hostileHTML}),
			Headers:         fixture.Headers(testkit.Superuser),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"author":"` + testkit.UserAuthor2 + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assertSanitized(t, createdRecord(t, app, "posts", res).GetString("body"))
			},
		},
		{
			Name:            "superuser updating a post from the dashboard has it sanitized",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostDraft,
			Body:            jsonBody(map[string]any{"body": hostileHTML}),
			Headers:         fixture.Headers(testkit.Superuser),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"` + testkit.PostDraft + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertSanitized(t, findRecord(t, app, "posts", testkit.PostDraft).GetString("body"))
			},
		},
	})

	t.Run("a post saved by Go code is sanitized too", func(t *testing.T) {
		app := fixture.NewApp(t)
		defer app.Cleanup()
		post := newRecord(t, app, "posts", map[string]any{"title": "Seeded", "author": testkit.UserAuthor, "body": hostileHTML})
		assertSanitized(t, findRecord(t, app, "posts", post.Id).GetString("body"))
	})
}
