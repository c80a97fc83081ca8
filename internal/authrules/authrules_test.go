package authrules_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
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

	mu   sync.Mutex
	sqls []string
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
