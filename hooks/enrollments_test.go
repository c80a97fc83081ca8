package hooks_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"

	"lectern/hooks"
	"lectern/internal/testkit"
)

const enrollmentsURL = "/api/collections/enrollments/records"

func TestProgress(t *testing.T) {
	for _, c := range []struct{ done, total, want int }{
		{0, 0, 0}, {3, 0, 0}, {0, 5, 0}, {-1, 5, 0},
		{1, 2, 50}, {1, 3, 33}, {2, 3, 67}, {1, 8, 13}, // 12.5 rounds half away from zero
		{3, 8, 38}, {199, 200, 100}, {1, 200, 1}, {1, 201, 0},
		{2, 2, 100}, {5, 2, 100},
	} {
		t.Run(fmt.Sprintf("%d of %d", c.done, c.total), func(t *testing.T) {
			assert.Equal(t, c.want, hooks.Progress(c.done, c.total))
		})
	}
}

func TestEnrollmentCreate(t *testing.T) {
	student := fixture.Headers(testkit.Student)
	runScenarios(t, []tests.ApiScenario{
		{
			Name:   "student enrolling in a published course",
			Method: http.MethodPost,
			URL:    enrollmentsURL,
			Body: jsonBody(map[string]any{
				"course": testkit.CoursePublished2, "user": testkit.UserStudent2, "progress": 100,
			}),
			Headers:        student,
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`"user":"` + testkit.UserStudent + `"`, `"status":"active"`, `"progress":0`,
			},
			AfterTestFunc: expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 2}),
		},
		{
			Name:   "student enrolling with a client completed status starts active",
			Method: http.MethodPost,
			URL:    enrollmentsURL,
			Body: jsonBody(map[string]any{
				"course": testkit.CoursePublished2, "status": "completed",
			}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"active"`, `"progress":0`},
		},
		{
			Name:   "student enrolling with every lesson done is completed at once",
			Method: http.MethodPost,
			URL:    enrollmentsURL,
			Body: jsonBody(map[string]any{
				"course": testkit.CoursePublished2, "completedLessons": []string{testkit.LessonOther},
			}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"completed"`, `"progress":100`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 2}),
		},
		{
			Name:            "student enrolling as cancelled is not counted",
			Method:          http.MethodPost,
			URL:             enrollmentsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished2, "status": "cancelled"}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"cancelled"`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 1}),
		},
		{
			Name:            "student enrolling in a draft course gets a 400 on course",
			Method:          http.MethodPost,
			URL:             enrollmentsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CourseDraft}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"course":{"code":"validation_course_not_published"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "enrollments", "course = {:c}", dbx.Params{"c": testkit.CourseDraft}))
			},
		},
		{
			Name:            "student enrolling in a missing course gets a 400 on course",
			Method:          http.MethodPost,
			URL:             enrollmentsURL,
			Body:            jsonBody(map[string]any{"course": "nosuchcourse000"}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"course":{"code":`},
		},
		{
			Name:            "student enrolling twice gets a 400 on course",
			Method:          http.MethodPost,
			URL:             enrollmentsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"course":{"code":"validation_already_enrolled"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, 1, countRows(t, app, "enrollments", "course = {:c} AND user = {:u}",
					dbx.Params{"c": testkit.CoursePublished, "u": testkit.UserStudent}))
				assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})
			},
		},
		{
			Name:            "student with a cancelled enrollment enrolling again gets a 400 on course",
			Method:          http.MethodPost,
			URL:             enrollmentsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished}),
			Headers:         fixture.Headers(testkit.Student2),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"course":{"code":"validation_already_enrolled"`},
			ExpectedEvents:  createRefused,
		},
		{
			Name:   "student enrolling with a lesson of another course gets a 400 on completedLessons",
			Method: http.MethodPost,
			URL:    enrollmentsURL,
			Body: jsonBody(map[string]any{
				"course": testkit.CoursePublished2, "completedLessons": []string{testkit.LessonFree},
			}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"completedLessons":{"code":"validation_lesson_other_course"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc:   expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 1}),
		},
	})
}

func TestEnrollmentUpdate(t *testing.T) {
	student := fixture.Headers(testkit.Student)
	url := enrollmentsURL + "/" + testkit.EnrollmentStudent
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "student finishing every lesson is completed",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"completedLessons": []string{testkit.LessonFree, testkit.LessonPaid}}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"completed"`, `"progress":100`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertEnrollment(t, app, testkit.EnrollmentStudent, 100, "completed")
				assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})
			},
		},
		{
			Name:            "student undoing a lesson lowers progress",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"completedLessons": []string{}}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"active"`, `"progress":0`},
		},
		{
			Name:            "student claiming completed halfway has it ignored",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"status": "completed", "progress": 100}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"active"`, `"progress":50`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertEnrollment(t, app, testkit.EnrollmentStudent, 50, "active")
			},
		},
		{
			Name:            "student marking a lesson of another course gets a 400 on completedLessons",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"completedLessons": []string{testkit.LessonFree, testkit.LessonOther}}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"completedLessons":{"code":"validation_lesson_other_course"`},
			ExpectedEvents:  updateRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertEnrollment(t, app, testkit.EnrollmentStudent, 50, "active")
			},
		},
		{
			Name:            "student cancelling is no longer counted",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"status": "cancelled"}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"cancelled"`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 0}),
		},
		{
			Name:            "student reactivating a cancelled enrollment is counted again",
			Method:          http.MethodPatch,
			URL:             enrollmentsURL + "/" + testkit.EnrollmentCancelled,
			Body:            jsonBody(map[string]any{"status": "active"}),
			Headers:         fixture.Headers(testkit.Student2),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"active"`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 2}),
		},
		{
			Name:    "student cancelling a completed enrollment is no longer counted",
			Method:  http.MethodPatch,
			URL:     url,
			Body:    jsonBody(map[string]any{"status": "cancelled"}),
			Headers: student,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				updateRecord(t, app, "enrollments", testkit.EnrollmentStudent, map[string]any{
					"completedLessons": []string{testkit.LessonFree, testkit.LessonPaid},
				})
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"cancelled"`, `"progress":100`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 0}),
		},
		{
			Name:            "student moving an enrollment to another course has it ignored",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished2}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"course":"` + testkit.CoursePublished + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})
				assertCourse(t, app, testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 1})
			},
		},
		{
			Name:           "admin deleting an enrollment uncounts it",
			Method:         http.MethodDelete,
			URL:            url,
			Headers:        fixture.Headers(testkit.Admin),
			ExpectedStatus: 204,
			AfterTestFunc:  expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 0}),
		},
		{
			Name:           "enrolled user deleting their account uncounts their enrollment and review",
			Method:         http.MethodDelete,
			URL:            "/api/collections/users/records/" + testkit.UserStudent2,
			Headers:        fixture.Headers(testkit.Student2),
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})
				assertCourse(t, app, testkit.CoursePublished2, courseAggregates{})
			},
		},
	})
}

func TestEnrollmentWriteRollsBackWithItsCourse(t *testing.T) {
	runScenarios(t, []tests.ApiScenario{
		{
			Name:    "student enrolling while the course cannot be saved stores nothing",
			Method:  http.MethodPost,
			URL:     enrollmentsURL,
			Body:    jsonBody(map[string]any{"course": testkit.CoursePublished2}),
			Headers: fixture.Headers(testkit.Student),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				failUpdatesOf(t, app, "courses")
			},
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			ExpectedEvents:  map[string]int{"OnModelAfterCreateSuccess": 0, "OnModelAfterUpdateSuccess": 0},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "enrollments", "course = {:c} AND user = {:u}",
					dbx.Params{"c": testkit.CoursePublished2, "u": testkit.UserStudent}))
				assertCourse(t, app, testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 1})
			},
		},
	})
}
