package authrules_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/require"

	"lectern/internal/authrules"
	"lectern/internal/testkit"
)

var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

// server is a fixture app with Lectern's hooks (authrules among them)
// behind PocketBase's router, and the SQL its reads run.
type server struct {
	app     *tests.TestApp
	handler http.Handler

	mu       sync.Mutex
	sqls     []string
	requests int
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{app: fixture.NewApp(t)}
	t.Cleanup(s.app.Cleanup)
	h, err := testkit.Handler(s.app)
	require.NoError(t, err)
	s.handler = h
	for _, b := range []dbx.Builder{s.app.ConcurrentDB(), s.app.NonconcurrentDB()} {
		if db, ok := b.(*dbx.DB); ok {
			db.QueryLogFunc = func(_ context.Context, _ time.Duration, q string, _ *sql.Rows, _ error) {
				s.mu.Lock()
				s.sqls = append(s.sqls, q)
				s.mu.Unlock()
			}
		}
	}
	return s
}

// get answers a GET as identity, with the SQL it ran on the records' table.
func (s *server) get(t *testing.T, identity, path, table string) (int, string, []string) {
	t.Helper()
	s.mu.Lock()
	s.sqls = nil
	s.mu.Unlock()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	// a client address per request: PocketBase sleeps up to 500 ms after a
	// client's third empty filtered list in 3 s (a timing-attack throttle),
	// which would only slow these comparisons down
	s.requests++
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", s.requests>>16&255, s.requests>>8&255, s.requests&255)
	for k, v := range fixture.Headers(identity) {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	var ran []string
	for _, q := range s.sqls {
		if strings.Contains(q, "FROM `"+table+"`") {
			ran = append(ran, q)
		}
	}
	return rec.Code, string(body), ran
}

// bothWays asks path as identity with the specialization and without it
// (PocketBase alone), and describes the difference ("" when the status and
// the JSON answer are the same; a random sort's items compared as a set).
func (s *server) bothWays(t *testing.T, identity, path string, random bool) string {
	t.Helper()
	code, body, _ := s.get(t, identity, path, "")
	authrules.SetDisabled(true)
	code2, body2, _ := s.get(t, identity, path, "")
	authrules.SetDisabled(false)
	if code < 500 && code == code2 && sameAnswer(body, body2, random) {
		return ""
	}
	return fmt.Sprintf("%s GET %s:\n specialized %d %.400s\n PocketBase  %d %.400s", identity, tailOf(path, 300), code, body, code2, body2)
}

func list(collection string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "/api/collections/" + collection + "/records?" + v.Encode()
}

// TestSignedInReadsJoinNoUsersTable: the pages of the issue — a signed-in
// user's post list and course list, and single posts and courses — run
// without the users join and so without SELECT DISTINCT; with the specialization
// off the same requests have both (so the check can see them).
func TestSignedInReadsJoinNoUsersTable(t *testing.T) {
	s := newServer(t)
	reads := []struct{ path, table string }{
		{list("posts", "filter", `(status="published")`, "sort", "-publishedAt", "perPage", "20"), "posts"},
		{list("courses", "sort", "-ratingAvg", "perPage", "20"), "courses"},
		{"/api/collections/posts/records/" + testkit.PostPublished, "posts"},
		{"/api/collections/courses/records/" + testkit.CoursePublished, "courses"},
	}
	for _, who := range []string{testkit.Student, testkit.Author, testkit.Instructor, testkit.Admin} {
		for _, r := range reads {
			code, _, ran := s.get(t, who, r.path, r.table)
			require.Equal(t, http.StatusOK, code, "%s %s", who, r.path)
			require.NotEmpty(t, ran, "%s %s: no query seen", who, r.path)
			for _, q := range ran {
				// (PocketBase counts COUNT(DISTINCT rowid) for guests too)
				if strings.Contains(q, "__auth_") || strings.Contains(q, "SELECT DISTINCT") {
					t.Errorf("%s %s ran a join of the users table:\n%s", who, r.path, q)
				}
			}
		}
	}

	authrules.SetDisabled(true)
	defer authrules.SetDisabled(false)
	_, _, ran := s.get(t, testkit.Student, reads[0].path, "posts")
	require.NotEmpty(t, ran)
	require.Contains(t, strings.Join(ran, "\n"), "__auth_users", "without the specialization PocketBase joins the users table")
	require.Contains(t, strings.Join(ran, "\n"), "SELECT DISTINCT")
}

// TestSameAnswersBothWays: every identity gets byte-identical answers with
// and without the specialization — every collection's list (with totals,
// a filter, a sort across a relation and an expand) and every fixture
// record's view, allowed or not.
func TestSameAnswersBothWays(t *testing.T) {
	s := newServer(t)
	ids := map[string][]string{
		"users":       {testkit.UserStudent, testkit.UserAdmin},
		"topics":      {testkit.TopicGo},
		"posts":       {testkit.PostPublished, testkit.PostDraft, testkit.PostScheduled, testkit.PostArchived, testkit.PostPublished2},
		"comments":    {testkit.CommentVisible, testkit.CommentHidden, testkit.CommentVisible2, testkit.CommentReply, testkit.CommentOther},
		"courses":     {testkit.CoursePublished, testkit.CourseDraft, testkit.CoursePublished2},
		"lessons":     {testkit.LessonFree, testkit.LessonPaid, testkit.LessonDraft, testkit.LessonOther},
		"enrollments": {testkit.EnrollmentStudent, testkit.EnrollmentCancelled, testkit.EnrollmentOther},
		"reviews":     {testkit.ReviewStudent, testkit.ReviewOther},
	}
	var paths []string
	for c, recs := range ids {
		paths = append(paths,
			list(c, "sort", "id", "perPage", "200"),
			list(c, "sort", "-created,id", "perPage", "2", "page", "2"),
			list(c, "filter", `id != ""`, "sort", "id", "skipTotal", "1"),
		)
		for _, id := range recs {
			paths = append(paths, "/api/collections/"+c+"/records/"+id)
		}
	}
	paths = append(paths,
		list("posts", "sort", "id", "expand", "author,topics"),
		list("comments", "filter", `post.status = "published"`, "sort", "post.title,id", "expand", "post"),
		list("lessons", "filter", `course.status = "published"`, "sort", "course.title,position"),
		list("enrollments", "filter", `course.instructor != ""`, "sort", "id", "expand", "course"),
		list("posts", "perPage", "1", "skipTotal", "1", "filter", `status = "draft"`), // getFirstListItem
	)
	for _, who := range testkit.Identities() {
		for _, p := range paths {
			code, body, _ := s.get(t, who, p, "")
			authrules.SetDisabled(true)
			code2, body2, _ := s.get(t, who, p, "")
			authrules.SetDisabled(false)
			if code != code2 || body != body2 {
				t.Errorf("%s GET %s:\n specialized %d %s\n PocketBase  %d %s", who, p, code, body, code2, body2)
			}
		}
	}
}

// TestRuleEditAppliesAtOnce: a superuser's rule change (here as the dashboard
// saves it) decides the very next request.
func TestRuleEditAppliesAtOnce(t *testing.T) {
	s := newServer(t)
	count := func(who string) string {
		code, body, _ := s.get(t, who, list("posts", "perPage", "1"), "posts")
		require.Equal(t, http.StatusOK, code, body)
		_, after, _ := strings.Cut(body, `"totalItems":`)
		n, _, _ := strings.Cut(after, ",")
		return n
	}
	require.Equal(t, "2", count(testkit.Student), "published posts")
	require.Equal(t, "5", count(testkit.Admin))

	c, err := s.app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	rule := `@request.auth.role = "student"`
	c.ListRule = &rule
	require.NoError(t, s.app.Save(c))
	require.Equal(t, "5", count(testkit.Student), "the edited rule lets students list every post")
	require.Equal(t, "0", count(testkit.Admin), "… and nobody else")
}

// TestUserControlledValues: a rule that compares a field the user writes
// (their name) reads it as one text, whatever it holds.
func TestUserControlledValues(t *testing.T) {
	s := newServer(t)
	c, err := s.app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	rule := `@request.auth.name = "Sam Student" || status = "x"`
	c.ListRule = &rule
	require.NoError(t, s.app.Save(c))
	u, err := s.app.FindRecordById("users", testkit.UserStudent)
	require.NoError(t, err)
	for _, name := range []string{"Sam Student", `Sam" || status != "x`, `Sam\" || status != \"x`, `x' || '1' = '1`, `Sam Student\`} {
		u.Set("name", name)
		require.NoError(t, s.app.Save(u))
		want := "0"
		if name == "Sam Student" {
			want = "5"
		}
		code, body, _ := s.get(t, testkit.Student, list("posts", "perPage", "1"), "posts")
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, fmt.Sprintf(`"totalItems":%s`, want), "name %q", name)
	}
}

// TestAnotherAuthCollection: a record of another auth collection (not
// users) is evaluated against its own collection's fields.
func TestAnotherAuthCollection(t *testing.T) {
	staff := core.NewAuthCollection("staff")
	staff.Fields.Add(&core.TextField{Name: "role"})
	u := core.NewRecord(staff)
	u.Id = "s1"
	u.Set("role", "admin")
	c := core.NewBaseCollection("posts")
	rule := `@request.auth.role = "admin"`
	c.ListRule = &rule
	got := authrules.Collection(c, u)
	require.Equal(t, `"admin" = "admin"`, *got.ListRule)
	require.Equal(t, rule, *c.ListRule, "the cached collection is never changed")
}

// pinnedPaths are filtered lists whose filter pins a relation (pin.go), and
// near misses that must not be read as pins.
func pinnedPaths() []string {
	eq := func(f, v string) string { return fmt.Sprintf(`%s = "%s"`, f, v) }
	var out []string
	for _, c := range []string{testkit.CoursePublished, testkit.CourseDraft, testkit.CoursePublished2, "knonexistent001"} {
		out = append(out,
			list("lessons", "filter", eq("course", c), "sort", "position"),
			list("lessons", "filter", fmt.Sprintf(`"%s" = course && freePreview = false`, c)),
			list("reviews", "filter", eq("course", c), "sort", "id"),
			list("enrollments", "filter", eq("course", c), "sort", "id"),
		)
	}
	for _, p := range []string{testkit.PostPublished, testkit.PostDraft, testkit.PostPublished2} {
		out = append(out,
			list("comments", "filter", eq("post", p), "sort", "created,id", "perPage", "50"),
			list("comments", "filter", "("+eq("post", p)+` && status = "hidden")`, "sort", "id"),
		)
	}
	out = append(out,
		// an OR pins nothing: each course's rows keep their own answer
		list("lessons", "filter", eq("course", testkit.CoursePublished)+" || "+eq("course", testkit.CoursePublished2), "sort", "id"),
		list("lessons", "filter", eq("course", testkit.CoursePublished2)+" || "+eq("course", testkit.CoursePublished), "sort", "id"),
		list("lessons", "filter", eq("course", testkit.CoursePublished)+" && freePreview = true || "+eq("course", testkit.CoursePublished2), "sort", "id"),
		list("lessons", "filter", eq("course", testkit.CoursePublished2)+" && (title != \"\" || "+eq("course", testkit.CoursePublished)+")", "sort", "id"),
		// two pins on one field: no row has both
		list("lessons", "filter", eq("course", testkit.CoursePublished)+" && "+eq("course", testkit.CoursePublished2)),
		list("lessons", "filter", `course != "`+testkit.CoursePublished2+`"`, "sort", "id"),
		list("lessons", "filter", `course = ""`, "sort", "id"),
		list("enrollments", "filter", eq("user", testkit.UserStudent), "sort", "id"),
		list("enrollments", "filter", eq("user", testkit.UserStudent2), "sort", "id"),
		list("posts", "filter", eq("author", testkit.UserAuthor), "sort", "id"),
		list("lessons", "filter", eq("course", testkit.CoursePublished), "expand", "course", "fields", "id,title,expand.course.title"),
		list("lessons", "filter", eq("course", testkit.CoursePublished)+` && course.status = "published"`, "sort", "-position"),
	)
	return out
}

// TestPinnedSameAnswers: a filter that pins a relation gets the same answer
// with the pinned-rows rewrite as from PocketBase alone (no specialization at
// all), for every identity.
func TestPinnedSameAnswers(t *testing.T) {
	s := newServer(t)
	check := func(t *testing.T) {
		for _, who := range testkit.Identities() {
			for _, p := range pinnedPaths() {
				if diff := s.bothWays(t, who, p, false); diff != "" {
					t.Error(diff)
				}
			}
		}
	}
	t.Run("fixture", check)

	// the states the rules tell apart, changed under the same server: a
	// cancelled enrollment, a course back to draft, a hidden comment
	e, err := s.app.FindRecordById("enrollments", testkit.EnrollmentStudent)
	require.NoError(t, err)
	e.Set("status", "cancelled")
	require.NoError(t, s.app.Save(e))
	c, err := s.app.FindRecordById("courses", testkit.CoursePublished2)
	require.NoError(t, err)
	c.Set("status", "draft")
	require.NoError(t, s.app.Save(c))
	cm, err := s.app.FindRecordById("comments", testkit.CommentVisible2)
	require.NoError(t, err)
	cm.Set("status", "hidden")
	require.NoError(t, s.app.Save(cm))
	t.Run("changed", check)
}

// TestPinnedLessonsRunNoJoin: an enrolled student's lessons page, a post's
// comments for a signed-in reader — the pages of the issue — are listed by a
// query with no join and no DISTINCT; the rule's relation parts are asked once
// beforehand. A cancelled enrollment applies to the next request.
func TestPinnedLessonsRunNoJoin(t *testing.T) {
	s := newServer(t)
	lessons := list("lessons", "filter", fmt.Sprintf(`course = "%s"`, testkit.CoursePublished), "sort", "position")
	pages := []struct{ who, path, table string }{
		{testkit.Student, lessons, "lessons"},
		{testkit.Student2, lessons, "lessons"},
		{testkit.Author, list("comments", "filter", fmt.Sprintf(`post = "%s"`, testkit.PostPublished), "sort", "created"), "comments"},
		{testkit.Student, list("reviews", "filter", fmt.Sprintf(`course = "%s"`, testkit.CoursePublished)), "reviews"},
	}
	for _, pg := range pages {
		code, body, ran := s.get(t, pg.who, pg.path, pg.table)
		require.Equal(t, http.StatusOK, code, body)
		listed := 0
		for _, q := range ran {
			if strings.Contains(q, "(1) FROM") {
				continue // the check of a rule part
			}
			listed++
			// (PocketBase counts COUNT(DISTINCT rowid) for everyone)
			if strings.Contains(q, "JOIN") || strings.Contains(q, "SELECT DISTINCT") {
				t.Errorf("%s %s listed with a join:\n%s", pg.who, pg.path, q)
			}
		}
		require.Equal(t, 2, listed, "%s %s: the page and its total:\n%s", pg.who, pg.path, strings.Join(ran, "\n"))
	}

	_, body, _ := s.get(t, testkit.Student, lessons, "")
	require.Contains(t, body, testkit.LessonPaid, "enrolled: every lesson")
	e, err := s.app.FindRecordById("enrollments", testkit.EnrollmentStudent)
	require.NoError(t, err)
	e.Set("status", "cancelled")
	require.NoError(t, s.app.Save(e))
	_, body, _ = s.get(t, testkit.Student, lessons, "")
	require.NotContains(t, body, testkit.LessonPaid, "cancelled: the free preview only")
	require.Contains(t, body, testkit.LessonFree)
}

// BenchmarkLessonsPage: an enrolled student's lessons page in process, with
// the pinned-rows rewrite, without it, and as a superuser (no rule at all):
// `go test ./internal/authrules -run '^$' -bench LessonsPage -benchmem`.
func BenchmarkLessonsPage(b *testing.B) {
	s := &server{app: fixture.NewApp(b)}
	defer s.app.Cleanup()
	s.app.Settings().RateLimits.Enabled = false // a load loop from one address
	h, err := testkit.Handler(s.app)
	require.NoError(b, err)
	s.handler = h
	path := list("lessons", "filter", fmt.Sprintf(`course = "%s"`, testkit.CoursePublished), "sort", "position")
	for _, v := range []struct {
		name, who string
		pin       bool
	}{{"student_pinned", testkit.Student, true}, {"student_unpinned", testkit.Student, false}, {"superuser", testkit.Superuser, true}} {
		b.Run(v.name, func(b *testing.B) {
			authrules.SetPinDisabled(!v.pin)
			defer authrules.SetPinDisabled(false)
			b.SetParallelism(8) // concurrent clients, as a server has
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					for k, val := range fixture.Headers(v.who) {
						req.Header.Set(k, val)
					}
					rec := httptest.NewRecorder()
					s.handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Error(rec.Code, rec.Body.String())
						return
					}
				}
			})
		})
	}
}

// TestPinnedRandomFilters: filters built at random from the conditions a
// page combines — pins, near-pins, other columns, paths through the pinned
// relation — under && and || at any depth, answer the same with the
// pinned-rows rewrite as from PocketBase alone, for every identity.
func TestPinnedRandomFilters(t *testing.T) {
	s := newServer(t)
	atoms := map[string][]string{
		"lessons": {
			`course = "` + testkit.CoursePublished + `"`, `course = "` + testkit.CoursePublished2 + `"`, `course = "` + testkit.CourseDraft + `"`,
			`"` + testkit.CoursePublished + `" = course`, `course != "` + testkit.CoursePublished + `"`, `course = ""`,
			`freePreview = true`, `freePreview = false`, `position > 1`, `title != ""`, `course.status = "published"`,
			`course.instructor = "` + testkit.UserInstructor + `"`,
		},
		"comments": {
			`post = "` + testkit.PostPublished + `"`, `post = "` + testkit.PostPublished2 + `"`, `post = "` + testkit.PostDraft + `"`,
			`status = "hidden"`, `status = "visible"`, `author = "` + testkit.UserStudent + `"`, `post.author = "` + testkit.UserAuthor + `"`,
			`parent = "` + testkit.CommentVisible + `"`, `parent = ""`,
		},
		"reviews": {
			`course = "` + testkit.CoursePublished + `"`, `course = "` + testkit.CoursePublished2 + `"`, `rating > 4`, `user = "` + testkit.UserStudent + `"`,
		},
	}
	rng := rand.New(rand.NewPCG(12, 7))
	var gen func(atoms []string, depth int) string
	gen = func(atoms []string, depth int) string {
		if depth == 0 || rng.IntN(3) == 0 {
			return atoms[rng.IntN(len(atoms))]
		}
		n := 2 + rng.IntN(2)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = gen(atoms, depth-1)
			if i > 0 {
				parts[i] = []string{" && ", " || "}[rng.IntN(2)] + parts[i]
			}
		}
		out := strings.Join(parts, "")
		if rng.IntN(2) == 0 {
			out = "(" + out + ")"
		}
		return out
	}
	for _, c := range []string{"lessons", "comments", "reviews"} {
		for range 40 {
			// most filters a page sends start with its pin
			f := gen(atoms[c], 3)
			if rng.IntN(3) > 0 {
				f = atoms[c][rng.IntN(2)] + " && " + f
			}
			p := list(c, "filter", f, "sort", "id")
			for _, who := range testkit.Identities() {
				if diff := s.bothWays(t, who, p, false); diff != "" {
					t.Errorf("filter %s\n%s", f, diff)
				}
			}
		}
	}
}

// TestPinnedSharedJoin: a rule that uses the caller's enrollments both in a
// part the pin decides and in a part that reads the row must not be split —
// "some enrollment of this course that is cancelled, or a free preview" is
// not "some enrollment of this course" and "some cancelled enrollment, or a
// free preview" — and rules the rewrite does not model keep PocketBase's
// answer.
func TestPinnedSharedJoin(t *testing.T) {
	s := newServer(t)
	c, err := s.app.FindCollectionByNameOrId("lessons")
	require.NoError(t, err)
	for _, rule := range []string{
		`(@request.auth.enrollments_via_user.course ?= course) && (freePreview = true || @request.auth.enrollments_via_user.status ?= "cancelled")`,
		`@collection.enrollments.course ?= course && @collection.enrollments.user ?= @request.auth.id && (freePreview = true || @collection.enrollments.status ?= "cancelled")`,
		`course.status = "published" && @request.auth.enrollments_via_user.course:each ?= course`,
		`course.status = "published" && created < @now`,
		`course.title:lower ~ "node" || freePreview = true`,
		`course.instructor.role = "instructor" && (freePreview = true || @request.auth.role = "student")`,
	} {
		c.ListRule = &rule
		require.NoError(t, s.app.Save(c))
		for _, course := range []string{testkit.CoursePublished, testkit.CoursePublished2, testkit.CourseDraft} {
			p := list("lessons", "filter", `course = "`+course+`"`, "sort", "id")
			for _, who := range testkit.Identities() {
				if diff := s.bothWays(t, who, p, false); diff != "" {
					t.Errorf("rule %s\n%s", rule, diff)
				}
			}
		}
	}
}

// TestPinnedAnswersKeptUntilWrite: a page's rule check runs once and its
// answer serves the same caller's next requests until something is written
// — through a model write here, or a commit by another process (which the
// response cache's watcher reports; simulated by its generation) — and never
// another caller's.
func TestPinnedAnswersKeptUntilWrite(t *testing.T) {
	s := newServer(t)
	var external atomic.Uint64
	authrules.UseExternalGeneration(s.app, external.Load)
	lessons := list("lessons", "filter", fmt.Sprintf(`course = "%s"`, testkit.CoursePublished), "sort", "position")
	page := func(who string) (string, int) {
		t.Helper()
		code, body, ran := s.get(t, who, lessons, "lessons")
		require.Equal(t, http.StatusOK, code, body)
		checks := 0
		for _, q := range ran {
			if strings.Contains(q, "(1) FROM") {
				checks++
			}
		}
		return body, checks
	}

	body, checks := page(testkit.Student)
	require.Contains(t, body, testkit.LessonPaid, "enrolled")
	require.Equal(t, 1, checks, "the first request asks")
	body, checks = page(testkit.Student)
	require.Contains(t, body, testkit.LessonPaid)
	require.Equal(t, 0, checks, "the answer is kept")

	body, checks = page(testkit.Student2)
	require.NotContains(t, body, testkit.LessonPaid, "student2's enrollment is cancelled: another caller, another question")
	require.Equal(t, 2, checks, "student2's own checks (the course part, then the preview part)")

	e, err := s.app.FindRecordById("enrollments", testkit.EnrollmentStudent)
	require.NoError(t, err)
	e.Set("status", "cancelled")
	require.NoError(t, s.app.Save(e))
	body, checks = page(testkit.Student)
	require.NotContains(t, body, testkit.LessonPaid, "a write here: asked again")
	require.Equal(t, 2, checks)

	// another process reactivates it: no hook here sees that commit
	_, err = s.app.NonconcurrentDB().NewQuery("UPDATE enrollments SET status = 'active' WHERE id = {:id}").
		Bind(dbx.Params{"id": testkit.EnrollmentStudent}).Execute()
	require.NoError(t, err)
	body, _ = page(testkit.Student)
	require.NotContains(t, body, testkit.LessonPaid, "until the watcher reports the commit, the kept answer stands")
	external.Add(1)
	body, checks = page(testkit.Student)
	require.Contains(t, body, testkit.LessonPaid, "the watcher's report: asked again")
	require.Equal(t, 1, checks)
}

// TestPinnedAnswersOutliveRequestLogs: PocketBase saves its request logs
// (in the auxiliary database, where no rule reads) every few seconds while
// requests come; they must not empty the kept answers, or a busy server
// would ask every check again.
func TestPinnedAnswersOutliveRequestLogs(t *testing.T) {
	s := newServer(t)
	lessons := list("lessons", "filter", fmt.Sprintf(`course = "%s"`, testkit.CoursePublished))
	checks := func() int {
		_, _, ran := s.get(t, testkit.Student, lessons, "lessons")
		n := 0
		for _, q := range ran {
			if strings.Contains(q, "(1) FROM") {
				n++
			}
		}
		return n
	}
	require.Equal(t, 1, checks())
	log := &core.Log{Message: "GET /api/collections/lessons/records", Level: 0, Data: types.JSONMap[any]{}}
	log.Id = "testlog00000001"
	require.NoError(t, s.app.AuxSave(log))
	require.Equal(t, 0, checks(), "a request log is no write a rule reads")
	u, err := s.app.FindRecordById("users", testkit.UserAuthor)
	require.NoError(t, err)
	u.Set("bio", "changed")
	require.NoError(t, s.app.Save(u))
	require.Equal(t, 1, checks(), "any write of data.db asks again")
}

// TestPinnedHostileFilters: the hostile filters of the reliability corpus,
// and pins whose values are hostile (SQL, quotes, NUL, 10 KB, unicode, a
// thousand repeats), asked by every signed-in identity on the collections
// whose rules the pin rewrites: never a 5xx, and the same status and answer
// as PocketBase alone.
func TestPinnedHostileFilters(t *testing.T) {
	s := newServer(t)
	s.app.Settings().RateLimits.Enabled = false
	raw, err := os.ReadFile(filepath.Join("..", "..", "reliability", "testdata", "hostile.json"))
	require.NoError(t, err)
	var corpus struct {
		Queries []struct {
			Name   string
			Params [][2]string
		}
	}
	require.NoError(t, json.Unmarshal(raw, &corpus))
	var queries []url.Values
	for _, q := range corpus.Queries {
		v := url.Values{}
		for _, kv := range q.Params {
			v.Add(kv[0], kv[1])
		}
		if f := v.Get("filter"); f != "" {
			// the same, behind a pin
			v2 := url.Values{}
			v2.Set("filter", `course = "`+testkit.CoursePublished+`" && (`+f+`)`)
			queries = append(queries, v2)
		}
		queries = append(queries, v)
	}
	quote := func(s string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"` }
	for _, value := range []string{
		`'; DROP TABLE lessons; --`, `x" || course != "`, `x\" || 1=1 || \"`, "k\x00published", strings.Repeat("k", 10_000),
		"kpublished00001\u202e", "ｋpublished00001", testkit.CoursePublished + " ", "%", "_", `\`,
	} {
		queries = append(queries, url.Values{"filter": {"course = " + quote(value)}})
	}
	queries = append(queries,
		url.Values{"filter": {strings.Repeat(`course = "`+testkit.CoursePublished+`" && `, 1000) + `id != ""`}},
		url.Values{"filter": {strings.Repeat("(", 200) + `course = "` + testkit.CoursePublished + `"` + strings.Repeat(")", 200)}},
	)
	for _, c := range []string{"lessons", "reviews", "comments"} {
		for _, q := range queries {
			if c == "comments" {
				q = url.Values{"filter": {strings.ReplaceAll(q.Get("filter"), "course = ", "post = ")}}
				q.Set("filter", strings.ReplaceAll(q.Get("filter"), testkit.CoursePublished, testkit.PostPublished))
			}
			p := "/api/collections/" + c + "/records?" + q.Encode()
			for _, who := range []string{testkit.Student, testkit.Student2, testkit.Instructor, testkit.Admin} {
				if diff := s.bothWays(t, who, p, q.Get("sort") == "@random"); diff != "" {
					t.Error(diff)
				}
			}
		}
	}
}

// sameAnswer compares two answers as JSON (PocketBase's `fields` picker
// writes keys in map order), and a random sort's items as a set.
func sameAnswer(a, b string, random bool) bool {
	var x, y map[string]any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	if random {
		for _, m := range []map[string]any{x, y} {
			items, _ := m["items"].([]any)
			slices.SortFunc(items, func(p, q any) int {
				bp, _ := json.Marshal(p)
				bq, _ := json.Marshal(q)
				return strings.Compare(string(bp), string(bq))
			})
		}
	}
	return reflect.DeepEqual(x, y)
}

func tailOf(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
