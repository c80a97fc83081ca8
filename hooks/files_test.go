package hooks_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/filesystem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/hooks"
	"lectern/internal/cache"
	"lectern/internal/testkit"
)

// pngBytes is a real w×h PNG, so PocketBase can make thumbs of it.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// attach stores a PNG in collection/id's file field and returns its file name.
func attach(t testing.TB, app core.App, collection, id, field string) string {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	require.NoError(t, err)
	f, err := filesystem.NewFileFromBytes(pngBytes(t, 160, 90), field+".png")
	require.NoError(t, err)
	r.Set(field, f)
	require.NoError(t, app.Save(r))
	return r.GetString(field)
}

// fileTokens returns a file token (what pb.files.getToken() returns) per
// signed-in identity.
func fileTokens(t testing.TB, app core.App) map[string]string {
	t.Helper()
	ids := map[string]string{
		testkit.Student: testkit.UserStudent, testkit.Student2: testkit.UserStudent2,
		testkit.Author: testkit.UserAuthor, testkit.Author2: testkit.UserAuthor2,
		testkit.Instructor: testkit.UserInstructor, testkit.Instr2: testkit.UserInstr2,
		testkit.Admin: testkit.UserAdmin,
	}
	out := map[string]string{}
	for who, id := range ids {
		r, err := app.FindRecordById("users", id)
		require.NoError(t, err)
		tok, err := r.NewFileToken()
		require.NoError(t, err)
		out[who] = tok
	}
	su, err := app.FindAuthRecordByEmail(core.CollectionNameSuperusers, testkit.SuperuserEmail)
	require.NoError(t, err)
	out[testkit.Superuser], err = su.NewFileToken()
	require.NoError(t, err)
	return out
}

func do(t testing.TB, h http.Handler, target string, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = "127.0.0.1:1234"
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// filesApp is a fixture clone whose public and hidden records carry files,
// with the response cache bound as in main.go, and its handler.
type filesApp struct {
	app    *tests.TestApp
	h      http.Handler
	tokens map[string]string
	files  map[string]fileCase
}

type fileCase struct {
	collection, id, name, thumb string
	viewers                     []string // who may view the record; nil: everyone
}

func newFilesApp(t testing.TB) *filesApp {
	app := fixture.NewApp(t)
	t.Cleanup(app.Cleanup)
	cache.Register(app)
	owners := func(who ...string) []string { return append(who, testkit.Admin, testkit.Superuser) }
	fa := &filesApp{app: app, files: map[string]fileCase{
		"published post cover": {collection: "posts", id: testkit.PostPublished, thumb: "640x360"},
		"draft post cover": {collection: "posts", id: testkit.PostDraft, thumb: "640x360",
			viewers: owners(testkit.Author)},
		"scheduled post cover": {collection: "posts", id: testkit.PostScheduled, thumb: "1280x720",
			viewers: owners(testkit.Author)},
		"published course cover": {collection: "courses", id: testkit.CoursePublished, thumb: "640x360"},
		"draft course cover": {collection: "courses", id: testkit.CourseDraft, thumb: "1280x720",
			viewers: owners(testkit.Instructor)},
		"avatar": {collection: "users", id: testkit.UserStudent, thumb: "100x100"},
	}}
	for k, f := range fa.files {
		field := "cover"
		if f.collection == "users" {
			field = "avatar"
		}
		f.name = attach(t, app, f.collection, f.id, field)
		fa.files[k] = f
	}
	fa.tokens = fileTokens(t, app)
	h, err := testkit.Handler(app)
	require.NoError(t, err)
	fa.h = h
	return fa
}

func (f fileCase) url(thumb bool, token string) string {
	q := url.Values{}
	if thumb {
		q.Set("thumb", f.thumb)
	}
	if token != "" {
		q.Set("token", token)
	}
	u := "/api/files/" + f.collection + "/" + f.id + "/" + f.name
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (f fileCase) visibleTo(who string) bool {
	if f.viewers == nil {
		return true
	}
	for _, v := range f.viewers {
		if v == who {
			return true
		}
	}
	return false
}

// sameNotFound asserts rec is indistinguishable from missing: status, body
// and every header but Date.
func sameNotFound(t testing.TB, missing, rec *httptest.ResponseRecorder, msg string) {
	t.Helper()
	assert.Equal(t, http.StatusNotFound, rec.Code, msg)
	assert.Equal(t, missing.Body.String(), rec.Body.String(), msg)
	want, got := missing.Header().Clone(), rec.Header().Clone()
	want.Del("Date")
	got.Del("Date")
	assert.Equal(t, want, got, msg)
}

func TestFileDownloadsFollowTheViewRule(t *testing.T) {
	fa := newFilesApp(t)
	// how each identity authenticates the download
	modes := []struct {
		name    string
		headers func(who string) map[string]string
		token   func(who string) string
	}{
		{"Authorization header", func(who string) map[string]string { return fixture.Headers(who) }, func(string) string { return "" }},
		{"file token", func(string) map[string]string { return nil }, func(who string) string { return fa.tokens[who] }},
	}
	for what, f := range fa.files {
		missing := do(t, fa.h, "/api/files/"+f.collection+"/"+f.id+"/nope_0123456789.png", nil)
		require.Equal(t, http.StatusNotFound, missing.Code)
		for _, who := range testkit.Identities() {
			for _, m := range modes {
				if who == testkit.Guest && m.name == "file token" {
					continue // a guest has none
				}
				for _, thumb := range []bool{false, true} {
					kind := "original"
					if thumb {
						kind = "thumb " + f.thumb
					}
					name := who + " by " + m.name + ": " + what + " (" + kind + ")"
					rec := do(t, fa.h, f.url(thumb, m.token(who)), m.headers(who))
					if !f.visibleTo(who) {
						sameNotFound(t, missing, rec, name)
						continue
					}
					if !assert.Equal(t, http.StatusOK, rec.Code, name) {
						continue
					}
					cfg, format, err := image.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
					if assert.NoError(t, err, name) {
						assert.Equal(t, "png", format, name)
						if thumb {
							assert.NotEqual(t, [2]int{160, 90}, [2]int{cfg.Width, cfg.Height}, "%s: a thumb, not the original", name)
						}
					}
					cc := rec.Header().Get("Cache-Control")
					if f.viewers == nil {
						// as PocketBase serves any public file: long-lived, shareable
						assert.Equal(t, "max-age=2592000, stale-while-revalidate=86400", cc, name)
					} else {
						assert.Equal(t, hooks.CacheControlPrivateFile, cc, name)
					}
					assert.Empty(t, rec.Header().Get(cache.HeaderStatus), "%s: never handled by the response cache", name)
				}
			}
		}
	}
}

func TestFileDownloadsRefuseWrongTokens(t *testing.T) {
	fa := newFilesApp(t)
	draft := fa.files["draft post cover"]
	missing := do(t, fa.h, "/api/files/posts/"+draft.id+"/nope_0123456789.png", nil)

	authTok := fixture.Tokens[testkit.Author] // an auth token is not a file token
	cases := []struct {
		name    string
		token   string
		headers map[string]string
	}{
		{"the author's auth token in ?token=", authTok, nil},
		{"a malformed token", "not-a-token", nil},
		{"another author's file token", fa.tokens[testkit.Author2], nil},
		{"a student's file token with the student's header", fa.tokens[testkit.Student], fixture.Headers(testkit.Student)},
	}
	for _, c := range cases {
		for _, thumb := range []bool{false, true} {
			sameNotFound(t, missing, do(t, fa.h, draft.url(thumb, c.token), c.headers), c.name)
		}
	}
	// a bad token does not hide what the header grants
	rec := do(t, fa.h, draft.url(false, "not-a-token"), fixture.Headers(testkit.Author))
	assert.Equal(t, http.StatusOK, rec.Code)
}

func TestHiddenFileNeverReachesTheResponseCache(t *testing.T) {
	fa := newFilesApp(t)
	draft := fa.files["draft post cover"]
	// the author's request with a token first; then the same file for a
	// guest, with the very URL and without the token
	tokenURL := draft.url(false, fa.tokens[testkit.Author])
	require.Equal(t, http.StatusOK, do(t, fa.h, tokenURL, nil).Code)
	require.Equal(t, http.StatusOK, do(t, fa.h, draft.url(false, ""), fixture.Headers(testkit.Author)).Code)
	assert.Equal(t, http.StatusNotFound, do(t, fa.h, draft.url(false, ""), nil).Code)

	// and once the post is published, the same file is public
	r, err := fa.app.FindRecordById("posts", draft.id)
	require.NoError(t, err)
	r.Set("status", "published")
	require.NoError(t, fa.app.Save(r))
	rec := do(t, fa.h, draft.url(false, ""), nil)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "max-age=2592000, stale-while-revalidate=86400", rec.Header().Get("Cache-Control"))

	// unpublished again: hidden again, whatever was served before
	r.Set("status", "archived")
	require.NoError(t, fa.app.Save(r))
	rec = do(t, fa.h, draft.url(true, ""), nil)
	assert.Equal(t, http.StatusNotFound, rec.Code)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.EqualValues(t, 404, body["status"])
}
