package hooks_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

// Mass assignment: a client forging a field the server owns ("server", "never
// changes", the owner, the role) gets the server's value and a success, per
// DATA_MODEL.md; a value of the wrong JSON type is a 400 naming the field.

// massCase is one forged request and what must be stored afterwards.
type massCase struct {
	name     string
	identity string
	method   string
	path     string // after /api/collections/
	body     string
	status   int
	contains []string
	absent   []string
	// before prepares the app (optional); check inspects the stored state.
	before func(t testing.TB, app *tests.TestApp)
	check  func(t testing.TB, app *tests.TestApp, res *http.Response)
	events map[string]int
	// count, when set, is the collection whose record count must change by
	// delta (0 for a refused write).
	count string
	delta int
}

func (c massCase) scenario() tests.ApiScenario {
	before := 0
	s := tests.ApiScenario{
		Name:               c.identity + " " + c.name,
		Method:             c.method,
		URL:                "/api/collections/" + c.path,
		Headers:            fixture.Headers(c.identity),
		ExpectedStatus:     c.status,
		ExpectedContent:    c.contains,
		NotExpectedContent: c.absent,
		ExpectedEvents:     c.events,
		TestAppFactory:     fixture.Factory,
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
			if c.before != nil {
				c.before(t, app)
			}
			if c.count != "" {
				before = massCount(t, app, c.count)
			}
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			if c.count != "" {
				assert.Equal(t, before+c.delta, massCount(t, app, c.count), "%s records after the request", c.count)
			}
			if c.check != nil {
				c.check(t, app, res)
			}
		},
	}
	if c.body != "" {
		s.Body = strings.NewReader(c.body)
	}
	return s
}

func massCount(t testing.TB, app *tests.TestApp, collection string) int {
	t.Helper()
	n, err := app.CountRecords(collection)
	require.NoError(t, err)
	return int(n)
}

func massStored(t testing.TB, app *tests.TestApp, collection, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	require.NoError(t, err, "load %s %s", collection, id)
	return r
}

// massOnly is the one record of collection matching where.
func massOnly(t testing.TB, app *tests.TestApp, collection string, where dbx.Expression) *core.Record {
	t.Helper()
	rs, err := app.FindAllRecords(collection, where)
	require.NoError(t, err)
	require.Len(t, rs, 1, "%s records matching", collection)
	return rs[0]
}

// massFields asserts stored field values, compared as strings.
func massFields(t testing.TB, r *core.Record, want map[string]any) {
	t.Helper()
	for k, v := range want {
		assert.Equal(t, fmt.Sprint(v), r.GetString(k), "stored %s.%s", r.Collection().Name, k)
	}
}

// massKeeps snapshots fields of a record before the request (in before) and
// checks in check that the request left them as they were.
func massKeeps(collection, id string, fields ...string) (func(testing.TB, *tests.TestApp), func(testing.TB, *tests.TestApp, *http.Response)) {
	snapshot := map[string]string{}
	return func(t testing.TB, app *tests.TestApp) {
			r := massStored(t, app, collection, id)
			for _, f := range fields {
				snapshot[f] = r.GetString(f)
			}
		}, func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			r := massStored(t, app, collection, id)
			for _, f := range fields {
				assert.Equal(t, snapshot[f], r.GetString(f), "%s.%s changed", collection, f)
			}
		}
}

// massThen chains checks.
func massThen(checks ...func(testing.TB, *tests.TestApp, *http.Response)) func(testing.TB, *tests.TestApp, *http.Response) {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		for _, c := range checks {
			c(t, app, res)
		}
	}
}

// massDate formats a time the way a client sends a date.
func massDate(at time.Time) string { return at.UTC().Format("2006-01-02 15:04:05.000Z") }

// massInvalid is the 400 fragment naming field with the type-mismatch code.
func massInvalid(field string) string {
	return fmt.Sprintf(`"%s":{"code":"validation_invalid_type"`, field)
}

func TestMassAssignmentUsers(t *testing.T) {
	signUp := func(role string) string {
		return `{"email":"new@lectern.test","password":"` + testkit.Password + `","passwordConfirm":"` + testkit.Password +
			`","name":"New Person","role":"` + role + `","emailVisibility":true}`
	}
	newUser := func(role string) func(testing.TB, *tests.TestApp, *http.Response) {
		return func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			u, err := app.FindAuthRecordByEmail("users", "new@lectern.test")
			require.NoError(t, err)
			assert.Equal(t, role, u.GetString("role"))
			assert.False(t, u.EmailVisibility(), "emailVisibility is forced off")
		}
	}
	roleOf := func(id, role string) func(testing.TB, *tests.TestApp, *http.Response) {
		return func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			u := massStored(t, app, "users", id)
			assert.Equal(t, role, u.GetString("role"))
			assert.False(t, u.EmailVisibility(), "emailVisibility is forced off")
		}
	}
	cases := []massCase{
		// sign-up: the role is ignored unless an admin or a superuser sets it
		{name: "signing up as admin", identity: testkit.Guest, method: http.MethodPost, path: "users/records",
			body: signUp("admin"), status: 200, contains: []string{`"role":"student"`, `"emailVisibility":false`},
			absent: []string{`"role":"admin"`}, check: newUser("student"), count: "users", delta: 1},
		{name: "signing up someone as instructor", identity: testkit.Student, method: http.MethodPost, path: "users/records",
			body: signUp("instructor"), status: 200, contains: []string{`"role":"student"`}, check: newUser("student"), count: "users", delta: 1},
		{name: "signing up someone as admin", identity: testkit.Author, method: http.MethodPost, path: "users/records",
			body: signUp("admin"), status: 200, contains: []string{`"role":"student"`}, check: newUser("student"), count: "users", delta: 1},
		{name: "creating an instructor", identity: testkit.Admin, method: http.MethodPost, path: "users/records",
			body: signUp("instructor"), status: 200, contains: []string{`"role":"instructor"`}, check: newUser("instructor"), count: "users", delta: 1},
		{name: "creating an author", identity: testkit.Superuser, method: http.MethodPost, path: "users/records",
			body: signUp("author"), status: 200, contains: []string{`"role":"author"`}, check: newUser("author"), count: "users", delta: 1},

		// self-update: the role stays
		{name: "promoting themself to admin", identity: testkit.Student, method: http.MethodPatch, path: "users/records/" + testkit.UserStudent,
			body: `{"role":"admin","name":"Sam S."}`, status: 200, contains: []string{`"role":"student"`, `"name":"Sam S."`},
			check: roleOf(testkit.UserStudent, "student")},
		{name: "promoting themself to admin", identity: testkit.Author, method: http.MethodPatch, path: "users/records/" + testkit.UserAuthor,
			body: `{"role":"admin"}`, status: 200, contains: []string{`"role":"author"`}, check: roleOf(testkit.UserAuthor, "author")},
		{name: "promoting themself to admin", identity: testkit.Instructor, method: http.MethodPatch, path: "users/records/" + testkit.UserInstructor,
			body: `{"role":"admin"}`, status: 200, contains: []string{`"role":"instructor"`}, check: roleOf(testkit.UserInstructor, "instructor")},
		{name: "turning on their emailVisibility", identity: testkit.Student2, method: http.MethodPatch, path: "users/records/" + testkit.UserStudent2,
			body: `{"emailVisibility":true}`, status: 200, contains: []string{`"emailVisibility":false`}, check: roleOf(testkit.UserStudent2, "student")},
		{name: "promoting another user", identity: testkit.Author2, method: http.MethodPatch, path: "users/records/" + testkit.UserAuthor,
			body: `{"role":"admin"}`, status: 404, contains: []string{`"data":{}`}, check: roleOf(testkit.UserAuthor, "author")},

		// admins and superusers do set roles, but not emailVisibility
		{name: "making a student an author", identity: testkit.Admin, method: http.MethodPatch, path: "users/records/" + testkit.UserStudent,
			body: `{"role":"author","emailVisibility":true}`, status: 200, contains: []string{`"role":"author"`},
			check: roleOf(testkit.UserStudent, "author")},
		{name: "making an author an instructor", identity: testkit.Superuser, method: http.MethodPatch, path: "users/records/" + testkit.UserAuthor,
			body: `{"role":"instructor"}`, status: 200, contains: []string{`"role":"instructor"`}, check: roleOf(testkit.UserAuthor, "instructor")},
	}
	for _, c := range cases {
		s := c.scenario()
		s.Test(t)
	}
}

func TestMassAssignmentPosts(t *testing.T) {
	future := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Millisecond)
	past := "2001-02-03 04:05:06.000Z"
	post := func(id string) string { return "posts/records/" + id }
	newPost := func(check func(t testing.TB, r *core.Record)) func(testing.TB, *tests.TestApp, *http.Response) {
		return func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			check(t, massOnly(t, app, "posts", dbx.HashExp{"title": "Forged post"}))
		}
	}
	keepPublished, keptPublished := massKeeps("posts", testkit.PostPublished, "author", "commentsCount", "readingMinutes", "publishedAt")
	keepDraft, keptDraft := massKeeps("posts", testkit.PostDraft, "publishedAt", "status", "title")
	keepAdminEdit, keptAdminEdit := massKeeps("posts", testkit.PostPublished2, "author", "publishedAt")

	cases := []massCase{
		{name: "creating a post for another author with counters", identity: testkit.Author, method: http.MethodPost, path: "posts/records",
			body: `{"title":"Forged post","body":"<p>two words</p>","author":"` + testkit.UserAuthor2 +
				`","commentsCount":99,"readingMinutes":99,"publishedAt":"` + past + `"}`,
			status: 200, contains: []string{`"author":"` + testkit.UserAuthor + `"`, `"commentsCount":0`, `"readingMinutes":1`, `"publishedAt":""`, `"status":"draft"`},
			check: newPost(func(t testing.TB, r *core.Record) {
				massFields(t, r, map[string]any{"author": testkit.UserAuthor, "commentsCount": 0, "readingMinutes": 1, "publishedAt": "", "status": "draft"})
			}), count: "posts", delta: 1},
		{name: "publishing a post backdated to 2001", identity: testkit.Instructor, method: http.MethodPost, path: "posts/records",
			body:   `{"title":"Forged post","status":"published","publishedAt":"` + past + `"}`,
			status: 200, contains: []string{`"author":"` + testkit.UserInstructor + `"`, `"status":"published"`}, absent: []string{"2001-"},
			check: newPost(func(t testing.TB, r *core.Record) {
				assert.WithinDuration(t, time.Now(), r.GetDateTime("publishedAt").Time(), time.Minute, "publishedAt is the server's now")
			}), count: "posts", delta: 1},
		{name: "scheduling a post for the future", identity: testkit.Author2, method: http.MethodPost, path: "posts/records",
			body:   `{"title":"Forged post","status":"scheduled","publishedAt":"` + massDate(future) + `"}`,
			status: 200, contains: []string{`"status":"scheduled"`, `"publishedAt":"` + massDate(future) + `"`},
			check: newPost(func(t testing.TB, r *core.Record) {
				assert.True(t, future.Equal(r.GetDateTime("publishedAt").Time()), "publishedAt %v, want %v", r.GetDateTime("publishedAt"), future)
			}), count: "posts", delta: 1},
		{name: "scheduling a post in the past", identity: testkit.Author, method: http.MethodPost, path: "posts/records",
			body:   `{"title":"Forged post","status":"scheduled","publishedAt":"` + past + `"}`,
			status: 400, contains: []string{`"publishedAt":{"code":"validation_date_not_future"`}, count: "posts"},
		{name: "scheduling a post without a date", identity: testkit.Admin, method: http.MethodPost, path: "posts/records",
			body:   `{"title":"Forged post","status":"scheduled"}`,
			status: 400, contains: []string{`"publishedAt":{"code":"validation_required"`}, count: "posts"},

		{name: "updating their published post with forged server fields", identity: testkit.Author, method: http.MethodPatch, path: post(testkit.PostPublished),
			body: `{"title":"Hello again","author":"` + testkit.UserAuthor2 + `","commentsCount":99,"readingMinutes":99,"publishedAt":"` + past + `"}`,
			// three visible comments on the post: the fixture's two and one reply
			status: 200, contains: []string{`"title":"Hello again"`, `"author":"` + testkit.UserAuthor + `"`, `"commentsCount":3`},
			absent: []string{"2001-"}, before: keepPublished, check: keptPublished},
		{name: "dating their draft", identity: testkit.Author, method: http.MethodPatch, path: post(testkit.PostDraft),
			body:   `{"publishedAt":"` + massDate(future) + `"}`,
			status: 200, contains: []string{`"publishedAt":""`, `"status":"draft"`}, before: keepDraft, check: keptDraft},
		{name: "scheduling their draft", identity: testkit.Author, method: http.MethodPatch, path: post(testkit.PostDraft),
			body:   `{"status":"scheduled","publishedAt":"` + massDate(future) + `"}`,
			status: 200, contains: []string{`"status":"scheduled"`, `"publishedAt":"` + massDate(future) + `"`},
			check: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				r := massStored(t, app, "posts", testkit.PostDraft)
				assert.True(t, future.Equal(r.GetDateTime("publishedAt").Time()))
			}},
		{name: "scheduling their draft in the past", identity: testkit.Author, method: http.MethodPatch, path: post(testkit.PostDraft),
			body:   `{"status":"scheduled","publishedAt":"` + past + `"}`,
			status: 400, contains: []string{`"publishedAt":{"code":"validation_date_not_future"`}, before: keepDraft, check: keptDraft},
		{name: "scheduling their draft without a date", identity: testkit.Author, method: http.MethodPatch, path: post(testkit.PostDraft),
			body:   `{"status":"scheduled"}`,
			status: 400, contains: []string{`"publishedAt":{"code":"validation_required"`}, before: keepDraft, check: keptDraft},
		{name: "taking over author2's post", identity: testkit.Admin, method: http.MethodPatch, path: post(testkit.PostPublished2),
			body:   `{"author":"` + testkit.UserAdmin + `","publishedAt":"` + massDate(future) + `","title":"Moderated"}`,
			status: 200, contains: []string{`"author":"` + testkit.UserAuthor2 + `"`, `"title":"Moderated"`},
			before: keepAdminEdit, check: keptAdminEdit},
	}
	for _, c := range cases {
		s := c.scenario()
		s.Test(t)
	}
}

func TestMassAssignmentComments(t *testing.T) {
	keepPlace, keptPlace := massKeeps("comments", testkit.CommentVisible, "post", "parent", "author")
	keepReply, keptReply := massKeeps("comments", testkit.CommentReply, "post", "parent", "author", "edited")
	cases := []massCase{
		{name: "commenting as student2, hidden and edited", identity: testkit.Student, method: http.MethodPost, path: "comments/records",
			body:   `{"post":"` + testkit.PostPublished + `","body":"Forged comment","author":"` + testkit.UserStudent2 + `","edited":true,"status":"hidden"}`,
			status: 200, contains: []string{`"author":"` + testkit.UserStudent + `"`, `"edited":false`, `"status":"visible"`},
			check: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				r := massOnly(t, app, "comments", dbx.HashExp{"body": "Forged comment"})
				massFields(t, r, map[string]any{"author": testkit.UserStudent, "edited": false, "status": "visible"})
			}, count: "comments", delta: 1},
		{name: "moving their comment to another post and parent", identity: testkit.Student, method: http.MethodPatch,
			path: "comments/records/" + testkit.CommentVisible,
			body: `{"post":"` + testkit.PostPublished2 + `","parent":"` + testkit.CommentVisible2 + `","author":"` + testkit.UserStudent2 +
				`","edited":false,"body":"Rewritten"}`,
			status: 200, contains: []string{`"post":"` + testkit.PostPublished + `"`, `"parent":""`, `"edited":true`, `"body":"Rewritten"`},
			before: keepPlace, check: massThen(keptPlace, func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.True(t, massStored(t, app, "comments", testkit.CommentVisible).GetBool("edited"), "the author changed the body")
			})},
		{name: "detaching their reply and marking it edited", identity: testkit.Student2, method: http.MethodPatch,
			path:   "comments/records/" + testkit.CommentReply,
			body:   `{"parent":"","edited":true}`,
			status: 200, contains: []string{`"parent":"` + testkit.CommentVisible + `"`, `"edited":false`},
			before: keepReply, check: keptReply},
	}
	for _, c := range cases {
		s := c.scenario()
		s.Test(t)
	}
}

func TestMassAssignmentCourses(t *testing.T) {
	past := "2001-02-03 04:05:06.000Z"
	keepCourse, keptCourse := massKeeps("courses", testkit.CoursePublished, "instructor", "ratingAvg", "ratingCount", "enrollmentsCount", "publishedAt")
	keepLesson, keptLesson := massKeeps("lessons", testkit.LessonPaid, "course")
	keepLessonAdmin, keptLessonAdmin := massKeeps("lessons", testkit.LessonOther, "course")
	cases := []massCase{
		{name: "creating a course for instructor2 with ratings", identity: testkit.Instructor, method: http.MethodPost, path: "courses/records",
			body: `{"title":"Forged course","durationDays":3,"instructor":"` + testkit.UserInstr2 +
				`","ratingAvg":5,"ratingCount":100,"enrollmentsCount":100,"publishedAt":"` + past + `"}`,
			status: 200, contains: []string{`"instructor":"` + testkit.UserInstructor + `"`, `"ratingAvg":0`, `"ratingCount":0`, `"enrollmentsCount":0`, `"publishedAt":""`},
			check: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				r := massOnly(t, app, "courses", dbx.HashExp{"title": "Forged course"})
				massFields(t, r, map[string]any{"instructor": testkit.UserInstructor, "ratingAvg": 0, "ratingCount": 0, "enrollmentsCount": 0, "publishedAt": ""})
			}, count: "courses", delta: 1},
		{name: "scheduling a course in the past", identity: testkit.Instr2, method: http.MethodPost, path: "courses/records",
			body:   `{"title":"Forged course","durationDays":3,"status":"scheduled","publishedAt":"` + past + `"}`,
			status: 400, contains: []string{`"publishedAt":{"code":"validation_date_not_future"`}, count: "courses"},
		{name: "updating their course with forged aggregates", identity: testkit.Instructor, method: http.MethodPatch,
			path: "courses/records/" + testkit.CoursePublished,
			body: `{"summary":"Still Node","instructor":"` + testkit.UserInstr2 + `","ratingAvg":1,"ratingCount":9,"enrollmentsCount":9,"publishedAt":"` + past + `"}`,
			// the fixture: one 4-star review, one active enrollment (student2's is cancelled)
			status: 200, contains: []string{`"instructor":"` + testkit.UserInstructor + `"`, `"ratingAvg":4`, `"ratingCount":1`, `"enrollmentsCount":1`, `"summary":"Still Node"`},
			absent: []string{"2001-"}, before: keepCourse, check: keptCourse},
		{name: "moving their lesson into instructor2's course", identity: testkit.Instructor, method: http.MethodPatch,
			path: "lessons/records/" + testkit.LessonPaid, body: `{"course":"` + testkit.CoursePublished2 + `","title":"Moved"}`,
			status: 200, contains: []string{`"course":"` + testkit.CoursePublished + `"`, `"title":"Moved"`}, before: keepLesson, check: keptLesson},
		{name: "moving a lesson to another course", identity: testkit.Admin, method: http.MethodPatch,
			path: "lessons/records/" + testkit.LessonOther, body: `{"course":"` + testkit.CoursePublished + `"}`,
			status: 200, contains: []string{`"course":"` + testkit.CoursePublished2 + `"`}, before: keepLessonAdmin, check: keptLessonAdmin},
	}
	for _, c := range cases {
		s := c.scenario()
		s.Test(t)
	}
}

func TestMassAssignmentEnrollmentsAndReviews(t *testing.T) {
	keepEnrollment, keptEnrollment := massKeeps("enrollments", testkit.EnrollmentStudent, "course", "user", "progress", "status")
	keepReview, keptReview := massKeeps("reviews", testkit.ReviewStudent, "course", "user")
	cases := []massCase{
		{name: "enrolling student2 as completed at 100%", identity: testkit.Student, method: http.MethodPost, path: "enrollments/records",
			body:   `{"course":"` + testkit.CoursePublished2 + `","user":"` + testkit.UserStudent2 + `","progress":100,"status":"completed"}`,
			status: 200, contains: []string{`"user":"` + testkit.UserStudent + `"`, `"progress":0`, `"status":"active"`},
			check: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				r := massOnly(t, app, "enrollments", dbx.HashExp{"course": testkit.CoursePublished2, "user": testkit.UserStudent})
				massFields(t, r, map[string]any{"user": testkit.UserStudent, "progress": 0, "status": "active"})
				assert.Equal(t, testkit.UserStudent2, massStored(t, app, "enrollments", testkit.EnrollmentOther).GetString("user"))
			}, count: "enrollments", delta: 1},
		{name: "moving their enrollment and completing it", identity: testkit.Student, method: http.MethodPatch,
			path:   "enrollments/records/" + testkit.EnrollmentStudent,
			body:   `{"course":"` + testkit.CoursePublished2 + `","user":"` + testkit.UserStudent2 + `","progress":100,"status":"completed"}`,
			status: 200, contains: []string{`"course":"` + testkit.CoursePublished + `"`, `"user":"` + testkit.UserStudent + `"`, `"progress":50`, `"status":"active"`},
			before: keepEnrollment, check: keptEnrollment},
		{name: "reviewing as student2", identity: testkit.Student, method: http.MethodPost, path: "reviews/records",
			body: `{"course":"` + testkit.CoursePublished + `","user":"` + testkit.UserStudent2 + `","rating":3}`,
			before: func(t testing.TB, app *tests.TestApp) {
				require.NoError(t, app.Delete(massStored(t, app, "reviews", testkit.ReviewStudent)))
			},
			status: 200, contains: []string{`"user":"` + testkit.UserStudent + `"`, `"rating":3`},
			check: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				r := massOnly(t, app, "reviews", dbx.HashExp{"course": testkit.CoursePublished})
				assert.Equal(t, testkit.UserStudent, r.GetString("user"))
			}, count: "reviews", delta: 1},
		{name: "moving their review to another course and user", identity: testkit.Student, method: http.MethodPatch,
			path:   "reviews/records/" + testkit.ReviewStudent,
			body:   `{"course":"` + testkit.CoursePublished2 + `","user":"` + testkit.UserStudent2 + `","rating":3}`,
			status: 200, contains: []string{`"course":"` + testkit.CoursePublished + `"`, `"user":"` + testkit.UserStudent + `"`, `"rating":3`},
			before: keepReview, check: massThen(keptReview, func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, 3, massStored(t, app, "reviews", testkit.ReviewStudent).GetInt("rating"))
			})},
	}
	for _, c := range cases {
		s := c.scenario()
		s.Test(t)
	}
}

// TestMassAssignmentTypeMismatch: PocketBase would store {"x":1} in a text
// field as "" and "abc" in a number as 0; Lectern refuses such values with a
// 400 naming the field and writes nothing.
func TestMassAssignmentTypeMismatch(t *testing.T) {
	keepPost, keptPost := massKeeps("posts", testkit.PostPublished, "title", "body", "updated")
	keepCourse, keptCourse := massKeeps("courses", testkit.CoursePublished, "durationDays", "price", "status", "updated")
	keepReview, keptReview := massKeeps("reviews", testkit.ReviewStudent, "rating", "updated")
	// a type mismatch is refused by the request guard, before any model hook
	refused := func(event string) map[string]int { return map[string]int{"*": 0, event: 1} }
	createRefused, updateRefused := refused("OnRecordCreateRequest"), refused("OnRecordUpdateRequest")
	cases := []massCase{
		{name: "creating a post with an object title", identity: testkit.Author, method: http.MethodPost, path: "posts/records",
			body: `{"title":{"x":1},"body":"<p>fine</p>"}`, status: 400, contains: []string{massInvalid("title")}, absent: []string{`"body":{`},
			events: createRefused, count: "posts"},
		{name: "creating a post with an array body", identity: testkit.Author, method: http.MethodPost, path: "posts/records",
			body: `{"title":"Arrays","body":["a"]}`, status: 400, contains: []string{massInvalid("body")}, absent: []string{`"title":{`},
			events: createRefused, count: "posts"},
		{name: "creating a post with a numeric title", identity: testkit.Author, method: http.MethodPost, path: "posts/records",
			body: `{"title":123}`, status: 200, contains: []string{`"title":"123"`},
			check: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				massOnly(t, app, "posts", dbx.HashExp{"title": "123"})
			}, count: "posts", delta: 1},
		{name: "creating a post with a body that is not JSON", identity: testkit.Author, method: http.MethodPost, path: "posts/records",
			body: `{"title":"Broken",`, status: 400, contains: []string{`"data":{}`, `"status":400`}, count: "posts"},
		{name: "updating a post with a body that is not JSON", identity: testkit.Author, method: http.MethodPatch, path: "posts/records/" + testkit.PostPublished,
			body: `title=Broken`, status: 400, contains: []string{`"data":{}`, `"status":400`}, before: keepPost, check: keptPost},
		{name: "updating a post with an object title and array body", identity: testkit.Author, method: http.MethodPatch, path: "posts/records/" + testkit.PostPublished,
			body: `{"title":{"x":1},"body":["a"]}`, status: 400, contains: []string{massInvalid("title"), massInvalid("body")},
			events: updateRefused, before: keepPost, check: keptPost},

		{name: "creating a course lasting abc days", identity: testkit.Instructor, method: http.MethodPost, path: "courses/records",
			body: `{"title":"Typed","durationDays":"abc"}`, status: 400, contains: []string{massInvalid("durationDays")},
			events: createRefused, count: "courses"},
		{name: "creating a course priced true", identity: testkit.Instructor, method: http.MethodPost, path: "courses/records",
			body: `{"title":"Typed","durationDays":3,"price":true}`, status: 400, contains: []string{massInvalid("price")}, absent: []string{massInvalid("durationDays")},
			events: createRefused, count: "courses"},
		{name: "creating a course with an array status", identity: testkit.Admin, method: http.MethodPost, path: "courses/records",
			body: `{"title":"Typed","durationDays":3,"status":["draft"]}`, status: 400, contains: []string{massInvalid("status")},
			events: createRefused, count: "courses"},
		{name: "updating a course with abc days, price true and an array status", identity: testkit.Instructor, method: http.MethodPatch,
			path: "courses/records/" + testkit.CoursePublished, body: `{"durationDays":"abc","price":true,"status":["draft"]}`,
			status: 400, contains: []string{massInvalid("durationDays"), massInvalid("price"), massInvalid("status")},
			events: updateRefused, before: keepCourse, check: keptCourse},
		{name: "creating a course lasting \"7\" days", identity: testkit.Instructor, method: http.MethodPost, path: "courses/records",
			body: `{"title":"Typed","durationDays":"7"}`, status: 200, contains: []string{`"durationDays":7`}, count: "courses", delta: 1},

		{name: "commenting with an object body", identity: testkit.Student, method: http.MethodPost, path: "comments/records",
			body: `{"post":"` + testkit.PostPublished + `","body":{"text":"hi"}}`, status: 400, contains: []string{massInvalid("body")},
			events: createRefused, count: "comments"},
		{name: "adding a lesson at position abc", identity: testkit.Instructor, method: http.MethodPost, path: "lessons/records",
			body: `{"course":"` + testkit.CoursePublished + `","title":"Typed","position":"abc"}`, status: 400, contains: []string{massInvalid("position")},
			events: createRefused, count: "lessons"},
		{name: "enrolling with an array status", identity: testkit.Student, method: http.MethodPost, path: "enrollments/records",
			body: `{"course":"` + testkit.CoursePublished2 + `","status":["active"]}`, status: 400, contains: []string{massInvalid("status")},
			events: createRefused, count: "enrollments"},
		{name: "rating their review five", identity: testkit.Student, method: http.MethodPatch, path: "reviews/records/" + testkit.ReviewStudent,
			body: `{"rating":"five"}`, status: 400, contains: []string{massInvalid("rating")},
			events: updateRefused, before: keepReview, check: keptReview},
		{name: "signing up with an object name", identity: testkit.Guest, method: http.MethodPost, path: "users/records",
			body:   `{"email":"typed@lectern.test","password":"` + testkit.Password + `","passwordConfirm":"` + testkit.Password + `","name":{"first":"A"}}`,
			status: 400, contains: []string{massInvalid("name")}, events: createRefused, count: "users"},
	}
	for _, c := range cases {
		s := c.scenario()
		s.Test(t)
	}
}
