package feeds_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/feeds"
	"lectern/internal/testkit"
)

// countRenders counts document bodies built until the test ends.
func countRenders(t testing.TB) *int {
	n := new(int)
	t.Cleanup(feeds.OnRender(func(string) { *n++ }))
	return n
}

func TestConditionalRequests(t *testing.T) {
	docs := []struct {
		url         string
		contentType string
		split       bool // lower the sitemap threshold so the page exists
	}{
		{"/feed.xml", feeds.ContentTypeRSS, false},
		{"/atom.xml", feeds.ContentTypeAtom, false},
		{"/feed.json", feeds.ContentTypeJSONFeed, false},
		{"/topics/go/feed.xml", feeds.ContentTypeRSS, false},
		{"/sitemap.xml", feeds.ContentTypeSitemap, false},
		{"/sitemap-2.xml", feeds.ContentTypeSitemap, true},
	}
	var scenarios []tests.ApiScenario
	for _, d := range docs {
		scenarios = append(scenarios, tests.ApiScenario{
			Name:               "guest repeating " + d.url + " with If-None-Match gets a 304 without a rebuild",
			Method:             http.MethodGet,
			URL:                d.url,
			ExpectedStatus:     200,
			NotExpectedContent: []string{"Draft thoughts"},
			TestAppFactory:     newApp,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				if d.split {
					old := feeds.SitemapMaxURLs
					feeds.SitemapMaxURLs = 2
					t.Cleanup(func() { feeds.SitemapMaxURLs = old })
				}
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, d.contentType, res.Header.Get("Content-Type"))
				etag := res.Header.Get("ETag")
				require.Regexp(t, `^"[0-9a-f]{32}"$`, etag)
				renders := countRenders(t)

				for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
					rec := get(t, app, d.url, map[string]string{"If-None-Match": inm})
					assert.Equal(t, http.StatusNotModified, rec.Code, inm)
					assert.Empty(t, rec.Body.Bytes(), inm)
					assert.Equal(t, etag, rec.Header().Get("ETag"), inm)
					assert.Equal(t, feeds.CacheControl, rec.Header().Get("Cache-Control"), inm)
				}
				assert.Equal(t, 0, *renders, "a 304 must not build the document")

				// a stale tag gets the document, with the same (unchanged) ETag
				rec := get(t, app, d.url, map[string]string{"If-None-Match": `"stale"`})
				assert.Equal(t, http.StatusOK, rec.Code)
				assert.Equal(t, etag, rec.Header().Get("ETag"))
				assert.NotEmpty(t, rec.Body.Bytes())
				assert.Equal(t, 1, *renders)
			},
		})
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestETagChanges(t *testing.T) {
	changes := []struct {
		name   string
		url    string
		change func(t testing.TB, app core.App)
		// shown/gone: text the new document must (not) contain
		shown, gone string
	}{
		{
			name: "a new post", url: "/feed.xml",
			change: func(t testing.TB, app core.App) { newPost(t, app, map[string]any{"title": "Brand new"}) },
			shown:  "Brand new",
		},
		{
			name: "an edited post", url: "/atom.xml",
			change: func(t testing.TB, app core.App) {
				setField(t, app, "posts", testkit.PostPublished, map[string]any{"title": "Hello again"})
			},
			shown: "Hello again", gone: "Hello Lectern",
		},
		{
			name: "an archived post", url: "/feed.json",
			change: func(t testing.TB, app core.App) {
				setField(t, app, "posts", testkit.PostPublished, map[string]any{"status": "archived"})
			},
			gone: "Hello Lectern",
		},
		{
			name: "an unpublished post", url: "/topics/go/feed.xml",
			change: func(t testing.TB, app core.App) {
				setField(t, app, "posts", testkit.PostPublished, map[string]any{"status": "draft"})
			},
			gone: "Hello Lectern",
		},
		{
			name: "a deleted post", url: "/feed.xml",
			change: func(t testing.TB, app core.App) { deleteRecord(t, app, "posts", testkit.PostPublished2) },
			gone:   "Second author post",
		},
		{
			name: "a renamed author", url: "/feed.xml",
			change: func(t testing.TB, app core.App) {
				setField(t, app, "users", testkit.UserAuthor, map[string]any{"name": "Ada Lovelace"})
			},
			shown: "Ada Lovelace", gone: "Ada Author",
		},
		{
			name: "a renamed topic", url: "/topics/go/feed.xml",
			change: func(t testing.TB, app core.App) {
				setField(t, app, "topics", testkit.TopicGo, map[string]any{"name": "Golang"})
			},
			shown: "Lectern: Golang",
		},
		{
			name: "a new app URL", url: "/feed.xml",
			change: func(t testing.TB, app core.App) {
				s := app.Settings()
				s.Meta.AppURL = "https://blog.example"
				require.NoError(t, app.Save(s))
			},
			shown: "https://blog.example/posts/hello-lectern", gone: siteURL,
		},
		{
			name: "a published course", url: "/sitemap.xml",
			change: func(t testing.TB, app core.App) {
				setField(t, app, "courses", testkit.CourseDraft, map[string]any{"status": "published"})
			},
			shown: "/courses/rust-in-depth",
		},
		{
			name: "a deleted course", url: "/sitemap.xml",
			change: func(t testing.TB, app core.App) {
				// enrollments, reviews and lessons go with it (cascade)
				deleteRecord(t, app, "courses", testkit.CoursePublished2)
			},
			gone: "/courses/kubernetes",
		},
	}
	var scenarios []tests.ApiScenario
	for _, c := range changes {
		scenarios = append(scenarios, tests.ApiScenario{
			Name:               c.url + " after " + c.name + " has a new ETag",
			Method:             http.MethodGet,
			URL:                c.url,
			ExpectedStatus:     200,
			NotExpectedContent: []string{"Draft thoughts"},
			TestAppFactory:     newApp,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				before := res.Header.Get("ETag")
				require.NotEmpty(t, before)
				c.change(t, app)
				rec := get(t, app, c.url, map[string]string{"If-None-Match": before})
				require.Equal(t, http.StatusOK, rec.Code, "the old ETag must not match after %s", c.name)
				after := rec.Header().Get("ETag")
				assert.NotEmpty(t, after)
				assert.NotEqual(t, before, after)
				if c.shown != "" {
					assert.Contains(t, rec.Body.String(), c.shown)
				}
				if c.gone != "" {
					assert.NotContains(t, rec.Body.String(), c.gone)
				}
				// and the new one is stable
				again := get(t, app, c.url, map[string]string{"If-None-Match": after})
				assert.Equal(t, http.StatusNotModified, again.Code)
			},
		})
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestLastModified(t *testing.T) {
	// Last-Modified is withheld within the second it names; move the clock.
	var offset time.Duration
	clock := func() time.Time { return time.Now().Add(offset) }

	s := tests.ApiScenario{
		Name:               "Last-Modified is honest across a deletion and answers If-Modified-Since",
		Method:             http.MethodGet,
		URL:                "/feed.xml",
		ExpectedStatus:     200,
		NotExpectedContent: []string{"Draft thoughts"},
		TestAppFactory: func(t testing.TB) *tests.TestApp {
			t.Cleanup(feeds.SetNow(clock))
			offset = 0
			return newApp(t)
		},
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
			offset = 2 * time.Second
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			lm := res.Header.Get("Last-Modified")
			require.NotEmpty(t, lm, "a settled Last-Modified is sent")
			lmTime, err := http.ParseTime(lm)
			require.NoError(t, err)

			// If-Modified-Since alone
			rec := get(t, app, "/feed.xml", map[string]string{"If-Modified-Since": lm})
			assert.Equal(t, http.StatusNotModified, rec.Code)
			rec = get(t, app, "/feed.xml", map[string]string{"If-Modified-Since": lmTime.Add(-time.Hour).Format(http.TimeFormat)})
			assert.Equal(t, http.StatusOK, rec.Code)
			// If-None-Match wins over If-Modified-Since
			rec = get(t, app, "/feed.xml", map[string]string{"If-Modified-Since": lm, "If-None-Match": `"stale"`})
			assert.Equal(t, http.StatusOK, rec.Code)

			// A deletion leaves every remaining row's updated as it was; the
			// date must still move.
			deleteRecord(t, app, "posts", testkit.PostPublished2)
			rec = get(t, app, "/feed.xml", map[string]string{"If-Modified-Since": lm})
			assert.Equal(t, http.StatusOK, rec.Code)

			offset = 4 * time.Second
			rec = get(t, app, "/feed.xml", map[string]string{"If-Modified-Since": lm})
			assert.Equal(t, http.StatusOK, rec.Code)
			lm2, err := http.ParseTime(rec.Header().Get("Last-Modified"))
			require.NoError(t, err)
			assert.True(t, lm2.After(lmTime), "Last-Modified %v must move past %v after a deletion", lm2, lmTime)
			assert.NotContains(t, rec.Body.String(), "Second author post")

			// a draft edit: nothing moves
			setField(t, app, "posts", testkit.PostDraft, map[string]any{"title": "Draft, edited"})
			offset = 6 * time.Second
			rec = get(t, app, "/feed.xml", nil)
			assert.Equal(t, lm2.Format(http.TimeFormat), rec.Header().Get("Last-Modified"))

			// an edit of a listed post: the date moves with it
			setField(t, app, "posts", testkit.PostPublished, map[string]any{"body": "<p>Revised words.</p>"})
			rec = get(t, app, "/feed.xml", map[string]string{"If-Modified-Since": lm2.Format(http.TimeFormat)})
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Empty(t, rec.Header().Get("Last-Modified"), "withheld within its own second")
			offset = 8 * time.Second
			rec = get(t, app, "/feed.xml", map[string]string{"If-Modified-Since": lm2.Format(http.TimeFormat)})
			assert.Equal(t, http.StatusOK, rec.Code)
			lm3, err := http.ParseTime(rec.Header().Get("Last-Modified"))
			require.NoError(t, err)
			assert.True(t, lm3.After(lm2), "Last-Modified %v must move past %v after an edit", lm3, lm2)
			assert.Contains(t, rec.Body.String(), "Revised words.")
		},
	}
	s.Test(t)
}

// newRecord saves a record of collection through the app (model hooks apply).
func newRecord(t testing.TB, app core.App, collection string, data map[string]any) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(collection)
	require.NoError(t, err)
	r := core.NewRecord(c)
	r.Load(data)
	require.NoError(t, app.Save(r))
	return r
}

// allDocs are the documents whose validators the content alone decides.
var allDocs = []string{"/feed.xml", "/atom.xml", "/feed.json", "/topics/go/feed.xml", "/sitemap.xml"}

// TestValidatorsIgnoreWhatTheyDoNotShow: a write the documents do not show
// leaves every document's ETag and Last-Modified as they were, and a client's
// copy is still answered 304.
func TestValidatorsIgnoreWhatTheyDoNotShow(t *testing.T) {
	changes := []struct {
		name   string
		change func(t testing.TB, app core.App)
		docs   []string // nil: allDocs
	}{
		{name: "an edited draft post", change: func(t testing.TB, app core.App) {
			setField(t, app, "posts", testkit.PostDraft, map[string]any{"title": "Draft rethought", "body": "<p>new secret</p>", "topics": []string{testkit.TopicGo}})
		}},
		{name: "a new draft post", change: func(t testing.TB, app core.App) {
			newPost(t, app, map[string]any{"title": "Another draft", "status": "draft", "topics": []string{testkit.TopicGo}})
		}},
		{name: "a deleted draft post", change: func(t testing.TB, app core.App) { deleteRecord(t, app, "posts", testkit.PostDraft) }},
		{name: "an edited scheduled post", change: func(t testing.TB, app core.App) {
			setField(t, app, "posts", testkit.PostScheduled, map[string]any{"title": "Coming later"})
		}},
		{name: "an edited archived post", change: func(t testing.TB, app core.App) {
			setField(t, app, "posts", testkit.PostArchived, map[string]any{"body": "<p>older</p>"})
		}},
		{name: "a new hidden comment", change: func(t testing.TB, app core.App) {
			newRecord(t, app, "comments", map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "Hidden at once", "status": "hidden"})
		}},
		{name: "an edited hidden comment", change: func(t testing.TB, app core.App) {
			setField(t, app, "comments", testkit.CommentHidden, map[string]any{"body": "Spam edited"})
		}},
		{name: "a deleted hidden comment", change: func(t testing.TB, app core.App) {
			deleteRecord(t, app, "comments", testkit.CommentHidden)
		}},
		{name: "a comment hidden by a moderator", change: func(t testing.TB, app core.App) {
			setField(t, app, "comments", testkit.CommentVisible2, map[string]any{"status": "hidden"})
		}},
		{name: "a new visible comment (feeds show no comments)", change: func(t testing.TB, app core.App) {
			newRecord(t, app, "comments", map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "Me too"})
		}},
		{name: "an edited unpublished course", change: func(t testing.TB, app core.App) {
			setField(t, app, "courses", testkit.CourseDraft, map[string]any{"title": "Rust, deeper", "slug": "rust-deeper"})
		}},
		{name: "a new unpublished course", change: func(t testing.TB, app core.App) {
			newRecord(t, app, "courses", map[string]any{"title": "Zig soon", "instructor": testkit.UserInstructor, "durationDays": 3, "mode": "online", "level": "beginner", "status": "draft"})
		}},
		{name: "a deleted unpublished course", change: func(t testing.TB, app core.App) {
			deleteRecord(t, app, "courses", testkit.CourseDraft)
		}},
		{name: "an enrollment in a published course", change: func(t testing.TB, app core.App) {
			newRecord(t, app, "enrollments", map[string]any{"course": testkit.CoursePublished2, "user": testkit.UserStudent})
		}},
		{name: "a changed review of a published course (its rating moves)", change: func(t testing.TB, app core.App) {
			setField(t, app, "reviews", testkit.ReviewStudent, map[string]any{"rating": 1})
		}},
		{name: "an author's edited bio", change: func(t testing.TB, app core.App) {
			setField(t, app, "users", testkit.UserAuthor, map[string]any{"bio": "Writes things."})
		}},
		{name: "a renamed user who wrote nothing published", change: func(t testing.TB, app core.App) {
			setField(t, app, "users", testkit.UserStudent, map[string]any{"name": "Samantha"})
		}},
		{name: "a new topic no post uses", change: func(t testing.TB, app core.App) {
			newRecord(t, app, "topics", map[string]any{"name": "Rust"})
		}},
		{
			name: "an edited published post not in the topic", docs: []string{"/topics/go/feed.xml"},
			change: func(t testing.TB, app core.App) {
				setField(t, app, "posts", testkit.PostPublished2, map[string]any{"title": "Second, revised"})
			},
		},
		{
			name: "an edited published post's title (the sitemap shows links only)", docs: []string{"/sitemap.xml"},
			change: func(t testing.TB, app core.App) {
				setField(t, app, "posts", testkit.PostPublished, map[string]any{"title": "Hello, Lectern"})
			},
		},
	}

	// Last-Modified is withheld within the second it names: run 2 s ahead.
	var offset time.Duration
	clock := func() time.Time { return time.Now().Add(offset) }

	// the same with the sitemap split (5 URLs, 2 a page): the index and its pages
	splitDocs := []string{"/sitemap.xml", "/sitemap-1.xml", "/sitemap-2.xml", "/sitemap-3.xml"}

	var scenarios []tests.ApiScenario
	for _, split := range []bool{false, true} {
		for _, c := range changes {
			docs := c.docs
			if docs == nil {
				docs = allDocs
			}
			name := "documents after " + c.name + " keep their validators"
			if split {
				if !slices.Contains(docs, "/sitemap.xml") {
					continue
				}
				docs, name = splitDocs, "split sitemap after "+c.name+" keeps its validators"
			}
			scenarios = append(scenarios, unchangedScenario(name, docs, c.change, split, clock, &offset))
		}
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// unchangedScenario checks that docs keep their ETag, Last-Modified and body
// across change, and still answer 304 to the validators sent before it.
func unchangedScenario(name string, docs []string, change func(testing.TB, core.App), split bool,
	clock func() time.Time, offset *time.Duration) tests.ApiScenario {
	c := struct {
		name   string
		change func(testing.TB, core.App)
	}{name, change}
	return tests.ApiScenario{
		Name:               name,
		Method:             http.MethodGet,
		URL:                "/feed.xml",
		ExpectedStatus:     200,
		NotExpectedContent: []string{"Draft thoughts"},
		TestAppFactory: func(t testing.TB) *tests.TestApp {
			t.Cleanup(feeds.SetNow(clock))
			if split {
				old := feeds.SitemapMaxURLs
				feeds.SitemapMaxURLs = 2
				t.Cleanup(func() { feeds.SitemapMaxURLs = old })
			}
			*offset = 0
			app := newApp(t)
			*offset = 2 * time.Second
			return app
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			type seen struct{ etag, lm, body string }
			before := map[string]seen{}
			for _, d := range docs {
				rec := get(t, app, d, nil)
				require.Equal(t, http.StatusOK, rec.Code, d)
				before[d] = seen{rec.Header().Get("ETag"), rec.Header().Get("Last-Modified"), rec.Body.String()}
				require.NotEmpty(t, before[d].etag, d)
				require.NotEmpty(t, before[d].lm, "%s: a settled Last-Modified", d)
			}

			c.change(t, app)
			*offset += 3 * time.Second // a new Last-Modified would be settled by now

			for _, d := range docs {
				b := before[d]
				rec := get(t, app, d, map[string]string{"If-None-Match": b.etag})
				assert.Equal(t, http.StatusNotModified, rec.Code, "%s after %s: If-None-Match", d, c.name)
				rec = get(t, app, d, map[string]string{"If-Modified-Since": b.lm})
				assert.Equal(t, http.StatusNotModified, rec.Code, "%s after %s: If-Modified-Since", d, c.name)
				rec = get(t, app, d, nil)
				assert.Equal(t, b.etag, rec.Header().Get("ETag"), "%s after %s: ETag", d, c.name)
				assert.Equal(t, b.lm, rec.Header().Get("Last-Modified"), "%s after %s: Last-Modified", d, c.name)
				assert.Equal(t, b.body, rec.Body.String(), "%s after %s: the body the ETag stands for", d, c.name)
			}
		},
	}
}

// TestETagSurvivesARestart: the ETag is the content's, not the process's, so
// a feed reader's copy stays current across a restart (a new process over
// the same data).
func TestETagSurvivesARestart(t *testing.T) {
	tags := map[string]string{}
	for run := range 2 {
		app := newApp(t)
		h, err := testkit.Handler(app)
		require.NoError(t, err)
		for _, d := range allDocs {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, d, nil))
			require.Equal(t, http.StatusOK, rec.Code, d)
			if run == 0 {
				tags[d] = rec.Header().Get("ETag")
				continue
			}
			assert.Equal(t, tags[d], rec.Header().Get("ETag"), d)
			rec = httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, d, nil)
			req.Header.Set("If-None-Match", tags[d])
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusNotModified, rec.Code, d)
		}
		app.Cleanup()
	}
}
