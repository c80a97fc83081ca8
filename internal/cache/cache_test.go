package cache_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/cache"
	"lectern/internal/testkit"
)

var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

// server is a fixture app with Lectern's hooks and a cache, served over real
// HTTP so requests run concurrently like in production.
type server struct {
	t     testing.TB
	app   *tests.TestApp
	cache *cache.Cache
	srv   *httptest.Server
	mux   http.Handler // the router alone
	// handler is what the http.Server runs: the mux wrapped by the cache
	handler http.Handler
}

// allowedOrigin is the one origin the test servers' CORS allows.
const allowedOrigin = "https://lectern.test"

// newServer serves the app the way apis.Serve does: CORS bound before the
// OnServe hooks, and an http.Server whose handler is the router's mux when
// OnServe completes. before binds more router middlewares ahead of OnServe.
func newServer(t testing.TB, opts cache.Options, before ...func(*router.Router[*core.RequestEvent])) *server {
	t.Helper()
	app := fixture.NewApp(t)
	t.Cleanup(app.Cleanup)
	// every test request comes from 127.0.0.1: PocketBase's per-IP limits
	// would refuse the writers
	s := app.Settings()
	s.RateLimits.Enabled = false
	require.NoError(t, app.Save(s))

	c := cache.New(opts)
	c.Bind(app)

	r, err := apis.NewRouter(app)
	require.NoError(t, err)
	r.Bind(apis.CORS(apis.CORSConfig{AllowOrigins: []string{allowedOrigin}}))
	for _, f := range before {
		f(r)
	}
	se := &core.ServeEvent{App: app, Router: r, Server: &http.Server{}}
	var mux http.Handler
	err = app.OnServe().Trigger(se, func(e *core.ServeEvent) error {
		mux, err = e.Router.BuildMux()
		e.Server.Handler = mux
		return err
	})
	require.NoError(t, err)
	srv := httptest.NewServer(se.Server.Handler)
	t.Cleanup(srv.Close)
	return &server{t: t, app: app, cache: c, srv: srv, mux: mux, handler: se.Server.Handler}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *server) do(method, path, identity string, body any, header map[string]string) response {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(s.t, err)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range fixture.Headers(identity) {
		req.Header.Set(k, v)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := s.srv.Client().Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (s *server) get(path, identity string) response {
	return s.do(http.MethodGet, path, identity, nil, nil)
}

func listIDs(t testing.TB, r response) []string {
	t.Helper()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(r.body, &page), string(r.body))
	ids := make([]string, len(page.Items))
	for i, it := range page.Items {
		ids[i] = it.ID
	}
	return ids
}

const postsList = "/api/collections/posts/records?sort=-created&perPage=50"

func TestGuestListIsCachedWithETag(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())

	first := s.get(postsList, testkit.Guest)
	require.Equal(t, http.StatusOK, first.status)
	assert.Equal(t, "MISS", first.header.Get(cache.HeaderStatus))
	etag := first.header.Get("ETag")
	assert.NotEmpty(t, etag)
	assert.Contains(t, first.header.Get("Cache-Control"), "must-revalidate")

	second := s.get(postsList, testkit.Guest)
	assert.Equal(t, "HIT", second.header.Get(cache.HeaderStatus))
	assert.Equal(t, etag, second.header.Get("ETag"))
	assert.Equal(t, first.body, second.body)
	for _, h := range []string{"Content-Type", "X-Frame-Options", "X-Content-Type-Options"} {
		assert.NotEmpty(t, second.header.Get(h), h)
		assert.Equal(t, first.header.Get(h), second.header.Get(h), "a hit replays the handler chain's %s", h)
	}

	notModified := s.do(http.MethodGet, postsList, testkit.Guest, nil, map[string]string{"If-None-Match": etag})
	assert.Equal(t, http.StatusNotModified, notModified.status)
	assert.Empty(t, notModified.body)
	otherTag := s.do(http.MethodGet, postsList, testkit.Guest, nil, map[string]string{"If-None-Match": `"nope"`})
	assert.Equal(t, http.StatusOK, otherTag.status)

	view := "/api/collections/posts/records/" + testkit.PostPublished
	assert.Equal(t, "MISS", s.get(view, testkit.Guest).header.Get(cache.HeaderStatus))
	assert.Equal(t, "HIT", s.get(view, testkit.Guest).header.Get(cache.HeaderStatus))
}

func TestWriteInvalidates(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	view := "/api/collections/posts/records/" + testkit.PostPublished
	before := s.get(view, testkit.Guest)
	require.Equal(t, "HIT", s.get(view, testkit.Guest).header.Get(cache.HeaderStatus))

	res := s.do(http.MethodPost, "/api/collections/comments/records", testkit.Student,
		map[string]any{"post": testkit.PostPublished, "body": "fresh"}, nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))

	after := s.get(view, testkit.Guest)
	assert.Equal(t, "MISS", after.header.Get(cache.HeaderStatus))
	assert.NotEqual(t, before.header.Get("ETag"), after.header.Get("ETag"))
	var a, b struct{ CommentsCount int }
	require.NoError(t, json.Unmarshal(before.body, &b))
	require.NoError(t, json.Unmarshal(after.body, &a))
	assert.Equal(t, b.CommentsCount+1, a.CommentsCount)
	// the old ETag no longer revalidates
	stale := s.do(http.MethodGet, view, testkit.Guest, nil, map[string]string{"If-None-Match": before.header.Get("ETag")})
	assert.Equal(t, http.StatusOK, stale.status)
}

func TestAuthenticatedRequestsBypass(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())

	// the author sees their draft; that response is never stored...
	author := s.get(postsList, testkit.Author)
	require.Equal(t, http.StatusOK, author.status)
	assert.Contains(t, listIDs(t, author), testkit.PostDraft)
	assert.Empty(t, author.header.Get(cache.HeaderStatus))
	assert.Empty(t, author.header.Get("ETag"))

	// ...so a guest asking the same URL gets the guest answer
	guest := s.get(postsList, testkit.Guest)
	assert.Equal(t, "MISS", guest.header.Get(cache.HeaderStatus))
	assert.NotContains(t, listIDs(t, guest), testkit.PostDraft)
	assert.Contains(t, listIDs(t, guest), testkit.PostPublished)

	// and a cached guest answer is never served to a signed-in caller
	require.Equal(t, "HIT", s.get(postsList, testkit.Guest).header.Get(cache.HeaderStatus))
	again := s.get(postsList, testkit.Author)
	assert.Empty(t, again.header.Get(cache.HeaderStatus))
	assert.Contains(t, listIDs(t, again), testkit.PostDraft)
	admin := s.get("/api/collections/comments/records?perPage=50", testkit.Admin)
	assert.Contains(t, listIDs(t, admin), testkit.CommentHidden)

	// an invalid token is a 401 from the router (hooks/tokens.go), never a cached guest answer
	bad := s.do(http.MethodGet, postsList, testkit.Guest, nil, map[string]string{"Authorization": "not-a-token"})
	assert.Equal(t, http.StatusUnauthorized, bad.status)
	assert.Empty(t, bad.header.Get(cache.HeaderStatus))

	// nor is anything sent with a cookie
	cookie := s.do(http.MethodGet, postsList, testkit.Guest, nil, map[string]string{"Cookie": "session=1"})
	assert.Empty(t, cookie.header.Get(cache.HeaderStatus))

	// a draft viewed by its author, then by a guest: 404 for the guest, twice
	draft := "/api/collections/posts/records/" + testkit.PostDraft
	assert.Equal(t, http.StatusOK, s.get(draft, testkit.Author).status)
	for range 2 {
		res := s.get(draft, testkit.Guest)
		assert.Equal(t, http.StatusNotFound, res.status)
		assert.NotContains(t, string(res.body), "secret draft")
	}
	hidden := s.get("/api/collections/comments/records?perPage=50", testkit.Guest)
	assert.NotContains(t, listIDs(t, hidden), testkit.CommentHidden)
}

func TestKeyIsTheFullQuery(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	base := "/api/collections/posts/records?sort=created&perPage=1"
	p1 := s.get(base+"&page=1", testkit.Guest)
	p2 := s.get(base+"&page=2", testkit.Guest)
	assert.Equal(t, "MISS", p2.header.Get(cache.HeaderStatus))
	assert.NotEqual(t, listIDs(t, p1), listIDs(t, p2))

	fields := s.get(base+"&page=1&fields=id", testkit.Guest)
	assert.Equal(t, "MISS", fields.header.Get(cache.HeaderStatus))
	assert.NotContains(t, string(fields.body), `"title"`)
	expand := s.get(base+"&page=1&expand=author", testkit.Guest)
	assert.Equal(t, "MISS", expand.header.Get(cache.HeaderStatus))
	assert.Contains(t, string(expand.body), `"expand"`)

	filter := "/api/collections/posts/records?filter=" + url.QueryEscape(`id="`+testkit.PostPublished2+`"`)
	f := s.get(filter, testkit.Guest)
	assert.Equal(t, []string{testkit.PostPublished2}, listIDs(t, f))
	assert.Equal(t, "HIT", s.get(base+"&page=1", testkit.Guest).header.Get(cache.HeaderStatus))
	assert.Equal(t, "HIT", s.get(filter, testkit.Guest).header.Get(cache.HeaderStatus))

	// a different collection under the same query is another entry
	courses := s.get("/api/collections/courses/records?sort=created&perPage=1&page=1", testkit.Guest)
	assert.Equal(t, "MISS", courses.header.Get(cache.HeaderStatus))
}

func TestWhatIsNeverCached(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	twice := func(path string) response {
		s.get(path, testkit.Guest)
		return s.get(path, testkit.Guest)
	}
	// non-200
	missing := twice("/api/collections/posts/records/doesnotexist123")
	assert.Equal(t, http.StatusNotFound, missing.status)
	assert.Empty(t, missing.header.Get(cache.HeaderStatus))
	badFilter := twice("/api/collections/posts/records?filter=" + url.QueryEscape("nope ="))
	assert.Equal(t, http.StatusBadRequest, badFilter.status)
	assert.NotEqual(t, "HIT", badFilter.header.Get(cache.HeaderStatus))
	// macros whose answer moves without a write
	for _, q := range []string{"sort=@random", "filter=" + url.QueryEscape("created < @now")} {
		res := twice("/api/collections/posts/records?" + q)
		assert.Equal(t, http.StatusOK, res.status, q)
		assert.Empty(t, res.header.Get(cache.HeaderStatus), q)
	}
	// collections that are not public, and other routes
	assert.Empty(t, twice("/api/collections/enrollments/records").header.Get(cache.HeaderStatus))
	assert.Empty(t, twice("/api/collections/users/records/"+testkit.UserAuthor).header.Get(cache.HeaderStatus))
	assert.Empty(t, twice("/api/health").header.Get(cache.HeaderStatus))
	assert.Equal(t, int64(0), s.cache.Stats().Hits)
}

func TestSizeCaps(t *testing.T) {
	opts := cache.DefaultOptions()
	opts.MaxEntryBytes = 1000
	opts.MaxBytes = 3000
	s := newServer(t, opts)

	big := s.get("/api/collections/posts/records?perPage=50&expand=author,topics", testkit.Guest)
	require.Equal(t, http.StatusOK, big.status)
	require.Greater(t, len(big.body), 1000)
	var page struct{ Items []any }
	require.NoError(t, json.Unmarshal(big.body, &page), "a passed-through body is whole")
	again := s.get("/api/collections/posts/records?perPage=50&expand=author,topics", testkit.Guest)
	assert.Empty(t, again.header.Get(cache.HeaderStatus))
	assert.Equal(t, big.body, again.body)

	for i := range 20 {
		s.get(fmt.Sprintf("/api/collections/topics/records?perPage=1&page=%d", i+1), testkit.Guest)
	}
	st := s.cache.Stats()
	assert.LessOrEqual(t, st.Bytes, opts.MaxBytes)
	assert.Greater(t, st.Entries, 0)
	assert.Less(t, st.Entries, 20, "the least recently used entries were evicted")
}

func TestWhichWritesBump(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	app := s.app
	gen := s.cache.Generation()

	su := core.NewRecord(mustCollection(t, app, core.CollectionNameSuperusers))
	su.SetEmail("another@lectern.test")
	su.SetPassword(testkit.Password)
	require.NoError(t, app.Save(su))
	otp := core.NewOTP(app)
	otp.SetCollectionRef(su.Collection().Id)
	otp.SetRecordRef(su.Id)
	otp.SetPassword("123456")
	require.NoError(t, app.Save(otp))
	assert.Equal(t, gen, s.cache.Generation(), "private writes keep the cache")

	topic := core.NewRecord(mustCollection(t, app, "topics"))
	topic.Set("name", "Rust")
	require.NoError(t, app.Save(topic))
	assert.Greater(t, s.cache.Generation(), gen, "a record write bumps")

	gen = s.cache.Generation()
	require.NoError(t, app.Delete(topic))
	assert.Greater(t, s.cache.Generation(), gen, "a delete bumps")

	gen = s.cache.Generation()
	posts := mustCollection(t, app, "posts")
	posts.Fields.Add(&core.TextField{Name: "subtitle"})
	require.NoError(t, app.Save(posts))
	assert.Greater(t, s.cache.Generation(), gen, "a schema change bumps")
}

// TestBumpFollowsTheCommit checks the ordering the cache relies on: inside a
// transaction nothing is bumped (a reader there would still see the old rows
// and could store them under the new generation), and the bump has happened
// by the time the transaction returns, before an API response could be sent.
func TestBumpFollowsTheCommit(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	app := s.app
	gen := s.cache.Generation()

	err := app.RunInTransaction(func(tx core.App) error {
		r := core.NewRecord(mustCollection(t, tx, "comments"))
		r.Load(map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "in a tx"})
		if err := tx.Save(r); err != nil {
			return err
		}
		assert.Equal(t, gen, s.cache.Generation(), "no bump before the commit")
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, s.cache.Generation(), gen)

	// a rolled-back write bumps nothing
	gen = s.cache.Generation()
	_ = app.RunInTransaction(func(tx core.App) error {
		r := core.NewRecord(mustCollection(t, tx, "topics"))
		r.Set("name", "Zig")
		require.NoError(t, tx.Save(r))
		return fmt.Errorf("roll back")
	})
	assert.Equal(t, gen, s.cache.Generation())
}

// TestBumpPrecedesRealtime checks that the bump runs before PocketBase's
// realtime broadcast (an after-success hook at priority -99): a subscriber
// that refetches on an event gets the new data.
func TestBumpPrecedesRealtime(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	var seen atomic.Uint64
	s.app.OnModelAfterCreateSuccess("comments").Bind(&hook.Handler[*core.ModelEvent]{
		Func: func(e *core.ModelEvent) error {
			seen.Store(s.cache.Generation())
			return e.Next()
		},
		Priority: -99,
	})
	gen := s.cache.Generation()
	res := s.do(http.MethodPost, "/api/collections/comments/records", testkit.Student,
		map[string]any{"post": testkit.PostPublished, "body": "live"}, nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Greater(t, seen.Load(), gen)
}

func TestRulesOutsideTheKeyTurnItOff(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	posts := mustCollection(t, s.app, "posts")
	posts.ListRule = types.Pointer(`status = "published" && publishedAt <= @now`)
	require.NoError(t, s.app.Save(posts))
	assert.Contains(t, s.cache.Stats().Disabled, "@now")
	s.get(postsList, testkit.Guest)
	assert.Empty(t, s.get(postsList, testkit.Guest).header.Get(cache.HeaderStatus))

	posts.ListRule = types.Pointer(`status = "published"`)
	require.NoError(t, s.app.Save(posts))
	assert.Empty(t, s.cache.Stats().Disabled)
	s.get(postsList, testkit.Guest)
	assert.Equal(t, "HIT", s.get(postsList, testkit.Guest).header.Get(cache.HeaderStatus))
}

// TestReadsAfterAcknowledgedWritesSeeThem runs comment writers and guest
// readers concurrently over HTTP. A reader notes how many writes were
// acknowledged before it sends its request; the post's commentsCount, the
// post list's commentsCount and the post's comment list it gets back must
// all reflect at least that many.
func TestReadsAfterAcknowledgedWritesSeeThem(t *testing.T) {
	const writers, perWriter, readers = 4, 15, 6
	s := newServer(t, cache.DefaultOptions())
	post := testkit.PostPublished
	view := "/api/collections/posts/records/" + post
	list := "/api/collections/posts/records?perPage=10&sort=created&fields=id,commentsCount"
	comments := "/api/collections/comments/records?perPage=200&skipTotal=1&filter=" + url.QueryEscape(`post="`+post+`"`)

	var base struct{ CommentsCount int }
	require.NoError(t, json.Unmarshal(s.get(view, testkit.Guest).body, &base))
	baseComments := len(listIDs(t, s.get(comments, testkit.Guest)))

	var acked atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	identities := []string{testkit.Student, testkit.Student2, testkit.Author2, testkit.Instructor}
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				res := s.do(http.MethodPost, "/api/collections/comments/records", identities[w%len(identities)],
					map[string]any{"post": post, "body": fmt.Sprintf("w%d-%d", w, i)}, nil)
				if !assert.Equal(t, http.StatusOK, res.status, string(res.body)) {
					return
				}
				acked.Add(1)
			}
		})
	}
	var rg sync.WaitGroup
	var reads, violations atomic.Int64
	for r := range readers {
		rg.Go(func() {
			for !done.Load() {
				floor := int(acked.Load())
				switch r % 3 {
				case 0:
					var got struct{ CommentsCount int }
					res := s.get(view, testkit.Guest)
					require.NoError(t, json.Unmarshal(res.body, &got))
					if got.CommentsCount < base.CommentsCount+floor {
						violations.Add(1)
						t.Errorf("view: commentsCount %d after %d acknowledged writes (base %d, %s)",
							got.CommentsCount, floor, base.CommentsCount, res.header.Get(cache.HeaderStatus))
					}
				case 1:
					var page struct {
						Items []struct {
							ID            string
							CommentsCount int
						}
					}
					res := s.get(list, testkit.Guest)
					require.NoError(t, json.Unmarshal(res.body, &page))
					for _, it := range page.Items {
						if it.ID == post && it.CommentsCount < base.CommentsCount+floor {
							violations.Add(1)
							t.Errorf("list: commentsCount %d after %d acknowledged writes (%s)",
								it.CommentsCount, floor, res.header.Get(cache.HeaderStatus))
						}
					}
				case 2:
					res := s.get(comments, testkit.Guest)
					if n := len(listIDs(t, res)); n < baseComments+floor {
						violations.Add(1)
						t.Errorf("comments: %d listed after %d acknowledged writes (%s)", n, floor, res.header.Get(cache.HeaderStatus))
					}
				}
				reads.Add(1)
			}
		})
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond) // a few reads after the last write
	done.Store(true)
	rg.Wait()

	st := s.cache.Stats()
	t.Logf("%d reads, %d hits (%d in front of the router), %d misses, %d bumps", reads.Load(), st.Hits, st.Early, st.Misses, st.Bumps)
	assert.Zero(t, violations.Load())
	assert.Equal(t, int64(writers*perWriter), acked.Load())
	assert.Positive(t, st.Hits, "the readers were served from the cache some of the time")
	assert.Positive(t, st.Early, "some hits were answered in front of the router")

	var final struct{ CommentsCount int }
	require.NoError(t, json.Unmarshal(s.get(view, testkit.Guest).body, &final))
	assert.Equal(t, base.CommentsCount+writers*perWriter, final.CommentsCount)
}

// withoutDate drops the headers that differ between any two responses.
func withoutDate(h http.Header, more ...string) http.Header {
	h = h.Clone()
	h.Del("Date")
	for _, k := range more {
		h.Del(k)
	}
	return h
}

// TestHitsInFrontOfTheRouter checks that a hit answered before PocketBase's
// router sends what the router's own hit (and the miss) sends, CORS per
// Origin included, and keeps every rule of the router path.
func TestHitsInFrontOfTheRouter(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	early := func() int64 { return s.cache.Stats().Early }
	withOrigin := func(path, origin string, more ...string) response {
		h := map[string]string{"Origin": origin}
		for i := 0; i+1 < len(more); i += 2 {
			h[more[i]] = more[i+1]
		}
		return s.do(http.MethodGet, path, testkit.Guest, nil, h)
	}

	// no Origin: the miss teaches the vantage, the next hit skips the router
	miss := s.get(postsList, testkit.Guest)
	require.Equal(t, "MISS", miss.header.Get(cache.HeaderStatus))
	hit := s.get(postsList, testkit.Guest)
	require.Equal(t, "HIT", hit.header.Get(cache.HeaderStatus))
	assert.Equal(t, int64(1), early())
	assert.Equal(t, miss.body, hit.body)
	assert.Equal(t, withoutDate(miss.header, cache.HeaderStatus), withoutDate(hit.header, cache.HeaderStatus))
	assert.Equal(t, "strict-origin-when-cross-origin", hit.header.Get("Referrer-Policy"), "the hooks' headers are replayed")
	assert.Equal(t, []string{"Origin", "Authorization", "Accept-Encoding"}, hit.header.Values("Vary"))
	assert.Empty(t, hit.header.Get("Access-Control-Allow-Origin"))

	for _, origin := range []string{allowedOrigin, "https://elsewhere.test"} {
		// the first request from an Origin is answered by the router's
		// middleware, after CORS; the next ones in front of the router
		n := early()
		viaRouter := withOrigin(postsList, origin)
		require.Equal(t, "HIT", viaRouter.header.Get(cache.HeaderStatus))
		require.Equal(t, n, early(), origin)
		inFront := withOrigin(postsList, origin)
		require.Equal(t, "HIT", inFront.header.Get(cache.HeaderStatus))
		require.Equal(t, n+1, early(), origin)
		assert.Equal(t, withoutDate(viaRouter.header), withoutDate(inFront.header), origin)
		assert.Equal(t, viaRouter.body, inFront.body)

		// and the same as a miss from that Origin
		view := "/api/collections/posts/records/" + testkit.PostPublished + "?o=" + url.QueryEscape(origin)
		m := withOrigin(view, origin)
		require.Equal(t, "MISS", m.header.Get(cache.HeaderStatus))
		h := withOrigin(view, origin)
		require.Equal(t, "HIT", h.header.Get(cache.HeaderStatus))
		assert.Equal(t, withoutDate(m.header, cache.HeaderStatus), withoutDate(h.header, cache.HeaderStatus), origin)
	}
	assert.Equal(t, allowedOrigin, withOrigin(postsList, allowedOrigin).header.Get("Access-Control-Allow-Origin"))
	assert.Empty(t, withOrigin(postsList, "https://elsewhere.test").header.Get("Access-Control-Allow-Origin"))

	// If-None-Match
	n := early()
	nm := s.do(http.MethodGet, postsList, testkit.Guest, nil, map[string]string{"If-None-Match": hit.header.Get("ETag")})
	assert.Equal(t, http.StatusNotModified, nm.status)
	assert.Equal(t, n+1, early())
	assert.Empty(t, nm.body)
	assert.Empty(t, nm.header.Get("Content-Type"))
	assert.Equal(t, hit.header.Get("ETag"), nm.header.Get("ETag"))
	assert.Equal(t, hit.header.Get("Cache-Control"), nm.header.Get("Cache-Control"))
	other := s.do(http.MethodGet, postsList, testkit.Guest, nil, map[string]string{"If-None-Match": `W/"nope", "other"`})
	assert.Equal(t, http.StatusOK, other.status)
	assert.Equal(t, hit.body, other.body)

	// an Authorization header, valid, invalid or empty, never gets the guest response
	n = early()
	author := s.get(postsList, testkit.Author)
	assert.Empty(t, author.header.Get(cache.HeaderStatus))
	assert.Contains(t, listIDs(t, author), testkit.PostDraft)
	for tok, status := range map[string]int{"not-a-token": http.StatusUnauthorized, "": http.StatusOK} {
		res := s.do(http.MethodGet, postsList, testkit.Guest, nil, map[string]string{"Authorization": tok})
		assert.Equal(t, status, res.status, "Authorization %q", tok)
		assert.Empty(t, res.header.Get(cache.HeaderStatus), "Authorization %q", tok)
	}
	assert.Equal(t, n, early())

	// a write is seen by the next read
	view := "/api/collections/posts/records/" + testkit.PostPublished
	s.get(view, testkit.Guest)
	cached := s.get(view, testkit.Guest)
	require.Equal(t, "HIT", cached.header.Get(cache.HeaderStatus))
	res := s.do(http.MethodPost, "/api/collections/comments/records", testkit.Student,
		map[string]any{"post": testkit.PostPublished, "body": "fresh"}, nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	fresh := s.get(view, testkit.Guest)
	assert.Equal(t, "MISS", fresh.header.Get(cache.HeaderStatus))
	var a, b struct{ CommentsCount int }
	require.NoError(t, json.Unmarshal(cached.body, &b))
	require.NoError(t, json.Unmarshal(fresh.body, &a))
	assert.Equal(t, b.CommentsCount+1, a.CommentsCount)
	stale := s.do(http.MethodGet, view, testkit.Guest, nil, map[string]string{"If-None-Match": cached.header.Get("ETag")})
	assert.Equal(t, http.StatusOK, stale.status)
}

// TestVaryingPrefaceStaysInTheRouter: when a middleware other than CORS runs
// before the cache, it may set headers that change from one request to the
// next, so the hits keep going through the router and get them.
func TestVaryingPrefaceStaysInTheRouter(t *testing.T) {
	var n atomic.Int64
	s := newServer(t, cache.DefaultOptions(), func(r *router.Router[*core.RequestEvent]) {
		r.Bind(&hook.Handler[*core.RequestEvent]{
			Func: func(e *core.RequestEvent) error {
				e.Response.Header().Set("X-Request-Number", strconv.FormatInt(n.Add(1), 10))
				return e.Next()
			},
			Priority: apis.DefaultCorsMiddlewarePriority - 1,
		})
	})
	for i := range 4 {
		res := s.get(postsList, testkit.Guest)
		assert.Equal(t, strconv.Itoa(i+1), res.header.Get("X-Request-Number"))
	}
	st := s.cache.Stats()
	assert.Equal(t, int64(3), st.Hits)
	assert.Equal(t, int64(0), st.Early)
}

func mustCollection(t testing.TB, app core.App, name string) *core.Collection {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(name)
	require.NoError(t, err)
	return c
}

// A shared cache (CDN, nginx) may keep a guest read for SharedMaxAge and must
// then revalidate; nothing signed in is ever offered to it.
func TestCacheControlForSharedCaches(t *testing.T) {
	s := newServer(t, cache.DefaultOptions())
	guest := s.get(postsList, testkit.Guest)
	assert.Equal(t, "public, max-age=0, s-maxage=1, must-revalidate", guest.header.Get("Cache-Control"))
	hit := s.get(postsList, testkit.Guest)
	assert.Equal(t, "HIT", hit.header.Get(cache.HeaderStatus))
	assert.Equal(t, guest.header.Get("Cache-Control"), hit.header.Get("Cache-Control"))

	student := s.get(postsList, testkit.Student)
	assert.Equal(t, http.StatusOK, student.status)
	assert.Equal(t, "private, no-cache", student.header.Get("Cache-Control"))
	assert.Empty(t, student.header.Get(cache.HeaderStatus))

	opts := cache.DefaultOptions()
	opts.SharedMaxAge = 0
	s0 := newServer(t, opts)
	assert.Equal(t, "public, max-age=0, must-revalidate", s0.get(postsList, testkit.Guest).header.Get("Cache-Control"))
}
