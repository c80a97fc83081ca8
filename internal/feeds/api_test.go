package feeds_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/feeds"
	"lectern/internal/testkit"
)

// Fixture posts as the feeds show them: PostPublished2 was published after
// PostPublished, so it comes first.
var (
	linkHello  = siteURL + "/posts/hello-lectern"
	linkSecond = siteURL + "/posts/second-author-post"
	// titles of the posts no feed may show
	hiddenTitles = []string{"Draft thoughts", "Coming soon", "Old news"}
	// nothing of a user but the name reaches a feed
	noEmails = []string{"@lectern.test", "email"}
)

func TestFeedsContent(t *testing.T) {
	scenarios := []tests.ApiScenario{
		{
			Name:               "guest reading the RSS feed",
			Method:             http.MethodGet,
			URL:                "/feed.xml",
			ExpectedStatus:     200,
			ExpectedContent:    []string{"Hello Lectern", "Second author post", `<rss version="2.0"`},
			NotExpectedContent: append(hiddenTitles, noEmails...),
			ExpectedEvents:     map[string]int{"*": 0},
			TestAppFactory:     newApp,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, feeds.ContentTypeRSS, res.Header.Get("Content-Type"))
				assert.Equal(t, "public, max-age=60", res.Header.Get("Cache-Control"))
				assert.NotEmpty(t, res.Header.Get("ETag"))
				doc := parseXML[rssDoc](t, readBody(t, res))
				assert.Equal(t, "2.0", doc.Version)
				assert.Equal(t, "Lectern", doc.Channel.Title)
				assert.Equal(t, siteURL+"/", doc.Channel.Link)
				assert.Equal(t, siteURL+"/feed.xml", doc.Channel.Self.Href)
				require.Len(t, doc.Channel.Items, 2)
				second, hello := doc.Channel.Items[0], doc.Channel.Items[1]
				assert.Equal(t, linkSecond, second.Link)
				assert.Equal(t, "Abe Author", second.Creator)
				assert.Empty(t, second.Author, "RSS <author> is an email: not sent")
				assert.Equal(t, linkHello, hello.Link)
				assert.Equal(t, "Hello Lectern", hello.Title)
				assert.Equal(t, "Ada Author", hello.Creator)
				assert.Equal(t, "<p>Published words.</p>", hello.Content)
				assert.Equal(t, "Published words.", hello.Description)
				assert.Equal(t, []string{"Go"}, hello.Categories)
				assert.Equal(t, "false", hello.GUID.IsPermaLink)
				assert.Regexp(t, `^tag:lectern\.example,\d{4}-\d\d-\d\d:posts/`+testkit.PostPublished+`$`, hello.GUID.Value)
				mustTime(t, time.RFC1123Z, hello.PubDate)
			},
		},
		{
			Name:               "admin reading the RSS feed still gets only published posts",
			Method:             http.MethodGet,
			URL:                "/feed.xml",
			Headers:            fixture.Headers(testkit.Admin),
			ExpectedStatus:     200,
			ExpectedContent:    []string{"Hello Lectern", "Second author post"},
			NotExpectedContent: hiddenTitles,
			TestAppFactory:     newApp,
		},
		{
			Name:               "guest reading the Atom feed",
			Method:             http.MethodGet,
			URL:                "/atom.xml",
			ExpectedStatus:     200,
			ExpectedContent:    []string{`<feed xmlns="http://www.w3.org/2005/Atom">`, "Hello Lectern"},
			NotExpectedContent: append(hiddenTitles, noEmails...),
			ExpectedEvents:     map[string]int{"*": 0},
			TestAppFactory:     newApp,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, feeds.ContentTypeAtom, res.Header.Get("Content-Type"))
				doc := parseXML[atomDoc](t, readBody(t, res))
				assert.Equal(t, siteURL+"/", doc.ID)
				mustTime(t, time.RFC3339, doc.Updated)
				require.Len(t, doc.Entries, 2)
				hello := doc.Entries[1]
				assert.Equal(t, "Hello Lectern", hello.Title)
				require.Len(t, hello.Links, 1)
				assert.Equal(t, linkHello, hello.Links[0].Href)
				assert.Equal(t, "Ada Author", hello.Author.Name)
				assert.Equal(t, "html", hello.Content.Type)
				assert.Equal(t, "<p>Published words.</p>", hello.Content.Value)
				assert.Equal(t, "Published words.", hello.Summary.Value)
				require.Len(t, hello.Categories, 1)
				assert.Equal(t, "go", hello.Categories[0].Term)
				assert.Equal(t, "Go", hello.Categories[0].Label)
				assert.True(t, strings.HasPrefix(hello.ID, "tag:lectern.example,"))
				mustTime(t, time.RFC3339, hello.Published)
				assert.Equal(t, linkSecond, doc.Entries[0].Links[0].Href)
			},
		},
		{
			Name:               "guest reading the JSON feed",
			Method:             http.MethodGet,
			URL:                "/feed.json",
			ExpectedStatus:     200,
			ExpectedContent:    []string{`"version":"https://jsonfeed.org/version/1.1"`},
			NotExpectedContent: append(hiddenTitles, noEmails...),
			ExpectedEvents:     map[string]int{"*": 0},
			TestAppFactory:     newApp,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, feeds.ContentTypeJSONFeed, res.Header.Get("Content-Type"))
				doc := parseJSONFeed(t, readBody(t, res))
				assert.Equal(t, "https://jsonfeed.org/version/1.1", doc.Version)
				assert.Equal(t, siteURL+"/", doc.HomePageURL)
				assert.Equal(t, siteURL+"/feed.json", doc.FeedURL)
				require.Len(t, doc.Items, 2)
				hello := doc.Items[1]
				assert.Equal(t, linkHello, hello.URL)
				require.NotNil(t, hello.ContentHTML)
				assert.Equal(t, "<p>Published words.</p>", *hello.ContentHTML)
				assert.Equal(t, "Published words.", hello.Summary)
				assert.Equal(t, []string{"Go"}, hello.Tags)
				require.Len(t, hello.Authors, 1)
				assert.JSONEq(t, `{"name":"Ada Author"}`, string(hello.Authors[0]))
				mustTime(t, time.RFC3339, hello.DatePublished)
				assert.Equal(t, linkSecond, doc.Items[0].URL)
			},
		},
		{
			Name:               "guest reading a topic feed",
			Method:             http.MethodGet,
			URL:                "/topics/go/feed.xml",
			ExpectedStatus:     200,
			ExpectedContent:    []string{"Hello Lectern", "Lectern: Go"},
			NotExpectedContent: append([]string{"Second author post", "Archived Go", "Draft Go", "Rust post"}, hiddenTitles...),
			TestAppFactory:     newApp,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				c, err := app.FindCollectionByNameOrId("topics")
				require.NoError(t, err)
				rust := core.NewRecord(c)
				rust.Set("name", "Rust")
				require.NoError(t, app.Save(rust))
				newPost(t, app, map[string]any{"title": "Archived Go", "status": "archived", "topics": []string{testkit.TopicGo}})
				newPost(t, app, map[string]any{"title": "Draft Go", "status": "draft", "topics": []string{testkit.TopicGo}})
				// a minute older, so the order never hangs on two posts sharing a millisecond
				newPost(t, app, map[string]any{"title": "Rust post", "topics": []string{rust.Id}, "publishedAt": types.NowDateTime().Add(-time.Minute)})
				newPost(t, app, map[string]any{"title": "Go and Rust", "topics": []string{rust.Id, testkit.TopicGo}})
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, feeds.ContentTypeRSS, res.Header.Get("Content-Type"))
				doc := parseXML[rssDoc](t, readBody(t, res))
				assert.Equal(t, siteURL+"/topics/go", doc.Channel.Link)
				assert.Equal(t, siteURL+"/topics/go/feed.xml", doc.Channel.Self.Href)
				require.Len(t, doc.Channel.Items, 2)
				assert.Equal(t, "Go and Rust", doc.Channel.Items[0].Title)
				assert.Equal(t, []string{"Rust", "Go"}, doc.Channel.Items[0].Categories)
				assert.Equal(t, linkHello, doc.Channel.Items[1].Link)

				rust := get(t, app, "/topics/rust/feed.xml", nil)
				require.Equal(t, 200, rust.Code)
				rdoc := parseXML[rssDoc](t, rust.Body.Bytes())
				require.Len(t, rdoc.Channel.Items, 2)
				assert.Equal(t, "Go and Rust", rdoc.Channel.Items[0].Title)
				assert.Equal(t, "Rust post", rdoc.Channel.Items[1].Title)
			},
		},
		{
			Name:            "guest asking for an unknown topic's feed",
			Method:          http.MethodGet,
			URL:             "/topics/no-such-topic/feed.xml",
			ExpectedStatus:  404,
			ExpectedContent: []string{`"status":404`},
			ExpectedEvents:  map[string]int{"*": 0},
			TestAppFactory:  newApp,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Empty(t, res.Header.Get("ETag"))
			},
		},
		{
			Name:            "static site still answers its own paths",
			Method:          http.MethodGet,
			URL:             "/topics/go",
			ExpectedStatus:  200,
			ExpectedContent: []string{staticBody},
			TestAppFactory:  newApp,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				for _, path := range []string{"/index.html", "/sitemap-0.xml", "/sitemap-x.xml", "/feed.xml.bak"} {
					rec := get(t, app, path, nil)
					assert.Equal(t, staticBody, rec.Body.String(), path)
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestFeedsLatestFifty(t *testing.T) {
	s := tests.ApiScenario{
		Name:           "sixty published posts: the fifty latest, newest first, in every format",
		Method:         http.MethodGet,
		URL:            "/feed.xml",
		ExpectedStatus: 200,
		// ExpectedContent must be set for a non-empty body
		NotExpectedContent: hiddenTitles,
		TestAppFactory:     newApp,
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
			// 58 more published posts (2 in the fixture make 60), pairs sharing
			// a publishedAt so the id tie-break shows, plus unpublished ones
			// dated after all of them.
			require.NoError(t, app.RunInTransaction(func(tx core.App) error {
				for i := range 58 {
					newPost(t, tx, map[string]any{"title": fmt.Sprintf("Bulk post %02d", i), "publishedAt": past(i / 2)})
				}
				return nil
			}))
			newPost(t, app, map[string]any{"title": "Archived late", "status": "archived"})
			newPost(t, app, map[string]any{"title": "Draft late", "status": "draft"})
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			want := publishedOrder(t, app)
			require.Len(t, want, 60)
			want = want[:50]

			rss := parseXML[rssDoc](t, readBody(t, res))
			var got []string
			for _, it := range rss.Channel.Items {
				got = append(got, it.Link)
			}
			assert.Equal(t, want, got, "RSS")

			atom := parseXML[atomDoc](t, get(t, app, "/atom.xml", nil).Body.Bytes())
			got = nil
			for _, e := range atom.Entries {
				got = append(got, e.Links[0].Href)
			}
			assert.Equal(t, want, got, "Atom")

			jf := parseJSONFeed(t, get(t, app, "/feed.json", nil).Body.Bytes())
			got = nil
			for _, it := range jf.Items {
				got = append(got, it.URL)
			}
			assert.Equal(t, want, got, "JSON Feed")
			for _, it := range jf.Items {
				assert.NotContains(t, it.Title, "late")
			}
		},
	}
	s.Test(t)
}

func TestSitemap(t *testing.T) {
	// home, 2 published posts, 2 published courses
	want := []string{
		siteURL + "/",
		linkHello,
		linkSecond,
		siteURL + "/courses/node-js",
		siteURL + "/courses/kubernetes",
	}
	scenarios := []tests.ApiScenario{
		{
			Name:               "guest reading the sitemap",
			Method:             http.MethodGet,
			URL:                "/sitemap.xml",
			ExpectedStatus:     200,
			ExpectedContent:    []string{"<urlset", "/courses/node-js"},
			NotExpectedContent: []string{"rust-in-depth", "draft-thoughts", "coming-soon", "old-news", "sitemapindex"},
			ExpectedEvents:     map[string]int{"*": 0},
			TestAppFactory:     newApp,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, feeds.ContentTypeSitemap, res.Header.Get("Content-Type"))
				assert.NotEmpty(t, res.Header.Get("ETag"))
				set := parseXML[urlSet](t, readBody(t, res))
				var got []string
				for _, u := range set.URLs {
					got = append(got, u.Loc)
					// no row date says when a page last changed (see sitemapURL)
					assert.Empty(t, u.LastMod, u.Loc)
				}
				assert.Equal(t, want, got)

				// pages exist only when the sitemap is split
				assert.Equal(t, 404, get(t, app, "/sitemap-1.xml", nil).Code)
			},
		},
		{
			Name:            "guest reading a sitemap above the threshold gets an index",
			Method:          http.MethodGet,
			URL:             "/sitemap.xml",
			ExpectedStatus:  200,
			ExpectedContent: []string{"<sitemapindex"},
			TestAppFactory:  newApp,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				old := feeds.SitemapMaxURLs
				feeds.SitemapMaxURLs = 2
				t.Cleanup(func() { feeds.SitemapMaxURLs = old })
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				index := parseXML[sitemapIndex](t, readBody(t, res))
				require.Len(t, index.Sitemaps, 3) // 5 URLs, 2 a page
				var got []string
				for i, sm := range index.Sitemaps {
					path := fmt.Sprintf("/sitemap-%d.xml", i+1)
					require.Equal(t, siteURL+path, sm.Loc)
					rec := get(t, app, path, nil)
					require.Equal(t, 200, rec.Code, path)
					assert.Equal(t, feeds.ContentTypeSitemap, rec.Header().Get("Content-Type"))
					assert.NotEmpty(t, rec.Header().Get("ETag"))
					set := parseXML[urlSet](t, rec.Body.Bytes())
					assert.LessOrEqual(t, len(set.URLs), 2, path)
					for _, u := range set.URLs {
						got = append(got, u.Loc)
					}
				}
				assert.Equal(t, want, got)
				assert.Equal(t, 404, get(t, app, "/sitemap-4.xml", nil).Code)
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestFeedsHostileContent(t *testing.T) {
	const hostile = `<script>alert("x")</script> & "quotes" 'apos' ]]> <![CDATA[ x`
	var postID string
	s := tests.ApiScenario{
		Name:               "hostile titles are escaped and bodies sanitized in every document",
		Method:             http.MethodGet,
		URL:                "/feed.xml",
		ExpectedStatus:     200,
		NotExpectedContent: []string{"<script", "onerror", "javascript:"},
		TestAppFactory:     newApp,
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
			p := newPost(t, app, map[string]any{"title": hostile, "topics": []string{testkit.TopicGo}})
			postID = p.Id
			// A row written around the hooks (raw SQL, an import) must not carry
			// script into feed readers either.
			_, err := app.DB().NewQuery(`UPDATE posts SET body = {:b}, excerpt = {:x} WHERE id = {:id}`).Bind(map[string]any{
				"b":  `<p onclick="x()">Hi<script>alert(1)</script><img src="x" onerror="alert(2)"><a href="javascript:alert(3)">l</a></p>`,
				"x":  `a < b & "c"`,
				"id": p.Id,
			}).Execute()
			require.NoError(t, err)
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			rss := parseXML[rssDoc](t, readBody(t, res))
			require.NotEmpty(t, rss.Channel.Items)
			it := rss.Channel.Items[0]
			assert.Equal(t, hostile, it.Title)
			assert.Contains(t, it.Content, "Hi")
			assert.NotContains(t, it.Content, "<script")
			assert.NotContains(t, it.Content, "onerror")
			assert.NotContains(t, it.Content, "onclick")
			assert.NotContains(t, it.Content, "javascript:")
			assert.Contains(t, it.GUID.Value, postID)

			for _, path := range []string{"/atom.xml", "/topics/go/feed.xml", "/sitemap.xml"} {
				rec := get(t, app, path, nil)
				require.Equal(t, 200, rec.Code, path)
				wellFormed(t, rec.Body.Bytes())
				assert.NotContains(t, rec.Body.String(), "<script", path)
			}
			atom := parseXML[atomDoc](t, get(t, app, "/atom.xml", nil).Body.Bytes())
			assert.Equal(t, hostile, atom.Entries[0].Title)
			assert.NotContains(t, atom.Entries[0].Content.Value, "<script")
			assert.NotContains(t, atom.Entries[0].Content.Value, "onerror")

			jf := parseJSONFeed(t, get(t, app, "/feed.json", nil).Body.Bytes())
			assert.Equal(t, hostile, jf.Items[0].Title)
			require.NotNil(t, jf.Items[0].ContentHTML)
			assert.NotContains(t, *jf.Items[0].ContentHTML, "<script")
			assert.NotContains(t, *jf.Items[0].ContentHTML, "onerror")
			assert.NotContains(t, *jf.Items[0].ContentHTML, "javascript:")
		},
	}
	s.Test(t)
}
