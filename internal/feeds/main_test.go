package feeds_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/require"

	"lectern/internal/feeds"
	"lectern/internal/testkit"
)

// fixture is the data dir every scenario in this package clones.
var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

// siteURL is the AppURL the test apps run with; appURL is how an operator
// might type it (trailing slash).
const (
	appURL  = "https://lectern.example/"
	siteURL = "https://lectern.example"
)

// staticBody is what the stand-in for main.go's static site answers.
const staticBody = "static site"

// routers holds each test app's router, for get.
var routers sync.Map // core.App → *router.Router[*core.RequestEvent]

// newApp clones the fixture, binds the hooks and feeds as main.go does and,
// like main.go, a GET catch-all at priority 999 standing in for the static
// site, so the scenarios prove the feed routes are not shadowed by it.
func newApp(t testing.TB) *tests.TestApp {
	app := fixture.NewApp(t)
	feeds.Register(app)
	app.Settings().Meta.AppURL = appURL
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(e *core.ServeEvent) error {
			routers.Store(core.App(app), e.Router)
			if !e.Router.HasRoute(http.MethodGet, "/{path...}") {
				e.Router.GET("/{path...}", func(re *core.RequestEvent) error {
					return re.String(http.StatusOK, staticBody)
				})
			}
			return e.Next()
		},
		Priority: 999,
	})
	t.Cleanup(func() { routers.Delete(core.App(app)) })
	return app
}

// get sends one more request to app (after the scenario's own) through the
// scenario's router: apis.NewRouter may be called only once per app (it binds
// the UI extension routes in OnServe each time).
func get(t testing.TB, app core.App, url string, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r, ok := routers.Load(app)
	require.True(t, ok, "no router: was the app made by newApp and served?")
	mux, err := r.(*router.Router[*core.RequestEvent]).BuildMux()
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func readBody(t testing.TB, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return b
}

// ---

// newPost saves a post through the app (model hooks apply; request hooks do
// not, so publishedAt set here is kept for a published post in the past).
func newPost(t testing.TB, app core.App, data map[string]any) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	r := core.NewRecord(c)
	r.Load(map[string]any{"author": testkit.UserAuthor, "status": "published", "body": "<p>Body.</p>"})
	r.Load(data)
	require.NoError(t, app.Save(r))
	return r
}

func setField(t testing.TB, app core.App, collection, id string, data map[string]any) {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	require.NoError(t, err)
	r.Load(data)
	require.NoError(t, app.Save(r))
}

func deleteRecord(t testing.TB, app core.App, collection, id string) {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	require.NoError(t, err)
	require.NoError(t, app.Delete(r))
}

// publishedOrder returns the links of every published post, newest first
// with the id as tie-break, computed here independently of the package.
func publishedOrder(t testing.TB, app core.App) []string {
	t.Helper()
	posts, err := app.FindAllRecords("posts")
	require.NoError(t, err)
	type p struct {
		at       time.Time
		id, slug string
	}
	var ps []p
	for _, r := range posts {
		if r.GetString("status") == "published" {
			ps = append(ps, p{r.GetDateTime("publishedAt").Time(), r.Id, r.GetString("slug")})
		}
	}
	for i := 1; i < len(ps); i++ { // insertion sort: small and obviously right
		for j := i; j > 0; j-- {
			a, b := ps[j-1], ps[j]
			if a.at.After(b.at) || (a.at.Equal(b.at) && a.id > b.id) {
				break
			}
			ps[j-1], ps[j] = b, a
		}
	}
	links := make([]string, len(ps))
	for i, x := range ps {
		links[i] = siteURL + "/posts/" + x.slug
	}
	return links
}

// ---

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title string `xml:"title"`
		// before Link: the first matching field wins, and "link" matches
		// <atom:link> too
		Self struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		Link        string    `xml:"link"`
		Description string    `xml:"description"`
		Items       []rssItem `xml:"item"`
	} `xml:"channel"`
}

type rssItem struct {
	Title string `xml:"title"`
	Link  string `xml:"link"`
	GUID  struct {
		IsPermaLink string `xml:"isPermaLink,attr"`
		Value       string `xml:",chardata"`
	} `xml:"guid"`
	PubDate     string   `xml:"pubDate"`
	Creator     string   `xml:"http://purl.org/dc/elements/1.1/ creator"`
	Author      string   `xml:"author"`
	Description string   `xml:"description"`
	Content     string   `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
	Categories  []string `xml:"category"`
}

type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		Title string `xml:"title"`
		ID    string `xml:"id"`
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Published string `xml:"published"`
		Updated   string `xml:"updated"`
		Author    struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Summary struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"summary"`
		Content struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"content"`
		Categories []struct {
			Term  string `xml:"term,attr"`
			Label string `xml:"label,attr"`
		} `xml:"category"`
	} `xml:"entry"`
}

type jsonFeed struct {
	Version     string `json:"version"`
	Title       string `json:"title"`
	HomePageURL string `json:"home_page_url"`
	FeedURL     string `json:"feed_url"`
	Items       []struct {
		ID            string            `json:"id"`
		URL           string            `json:"url"`
		Title         string            `json:"title"`
		ContentHTML   *string           `json:"content_html"`
		Summary       string            `json:"summary"`
		DatePublished string            `json:"date_published"`
		Authors       []json.RawMessage `json:"authors"`
		Tags          []string          `json:"tags"`
	} `json:"items"`
}

type urlSet struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	} `xml:"url"`
}

type sitemapIndex struct {
	XMLName  xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
	Sitemaps []struct {
		Loc string `xml:"loc"`
	} `xml:"sitemap"`
}

// wellFormed reads every token of an XML document: encoding/xml's decoder
// checks nesting, attribute syntax, entities and characters.
func wellFormed(t testing.TB, body []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "document not well-formed:\n%s", body)
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	require.Equal(t, 0, depth, "unclosed elements")
	require.Equal(t, 1, roots, "exactly one root element")
}

func parseXML[T any](t testing.TB, body []byte) T {
	t.Helper()
	wellFormed(t, body)
	var v T
	require.NoError(t, xml.Unmarshal(body, &v), "%s", body)
	return v
}

func parseJSONFeed(t testing.TB, body []byte) jsonFeed {
	t.Helper()
	var v jsonFeed
	require.NoError(t, json.Unmarshal(body, &v), "%s", body)
	return v
}

func mustTime(t testing.TB, layout, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(layout, s)
	require.NoError(t, err, "time %q", s)
	return tm
}

// past is a publishedAt n minutes after a fixed point before the fixture.
func past(n int) types.DateTime {
	dt, _ := types.ParseDateTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute))
	return dt
}
