package hooks_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"

	"lectern/internal/testkit"
)

const lessonsURL = "/api/collections/lessons/records"

// assertEnrollment checks an enrollment's stored progress and status.
func assertEnrollment(t testing.TB, app core.App, id string, progress int, status string) {
	t.Helper()
	e := findRecord(t, app, "enrollments", id)
	assert.Equal(t, progress, e.GetInt("progress"), "progress of %s", id)
	assert.Equal(t, status, e.GetString("status"), "status of %s", id)
}

func TestLessonWrites(t *testing.T) {
	instructor := fixture.Headers(testkit.Instructor)
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "instructor adding a lesson at a taken position gets a 400 on position and course",
			Method:          http.MethodPost,
			URL:             lessonsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished, "title": "Clash", "position": 1}),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"position":{"code":"validation_not_unique"`, `"course":{"code":"validation_not_unique"`},
			ExpectedEvents:  map[string]int{"OnModelAfterCreateSuccess": 0, "OnRecordAfterCreateSuccess": 0, "OnModelAfterUpdateSuccess": 0},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "lessons", "title = 'Clash'", nil))
				assertEnrollment(t, app, testkit.EnrollmentStudent, 50, "active")
			},
		},
		{
			Name:            "instructor moving a lesson onto a taken position gets a 400 on position and course",
			Method:          http.MethodPatch,
			URL:             lessonsURL + "/" + testkit.LessonPaid,
			Body:            jsonBody(map[string]any{"position": 1}),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"position":{"code":"validation_not_unique"`, `"course":{"code":"validation_not_unique"`},
			ExpectedEvents:  map[string]int{"OnModelAfterUpdateSuccess": 0, "OnRecordAfterUpdateSuccess": 0},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, 2, findRecord(t, app, "lessons", testkit.LessonPaid).GetInt("position"))
			},
		},
		{
			Name:            "instructor using position 1 in another course is fine",
			Method:          http.MethodPost,
			URL:             lessonsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CourseDraft, "title": "Borrowing", "position": 2}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"position":2`},
		},
		{
			Name:            "instructor adding a lesson at position 0 gets a 400 on position",
			Method:          http.MethodPost,
			URL:             lessonsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished, "title": "Zero", "position": 0}),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"position":{"code":"validation_required"`},
		},
		{
			Name:            "instructor adding a lesson with hostile HTML has it sanitized",
			Method:          http.MethodPost,
			URL:             lessonsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished, "title": "Hostile", "position": 3, "body": hostileHTML}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"title":"Hostile"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assertSanitized(t, createdRecord(t, app, "lessons", res).GetString("body"))
			},
		},
		{
			Name:            "instructor updating a lesson with hostile HTML has it sanitized",
			Method:          http.MethodPatch,
			URL:             lessonsURL + "/" + testkit.LessonPaid,
			Body:            jsonBody(map[string]any{"body": hostileHTML}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"` + testkit.LessonPaid + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertSanitized(t, findRecord(t, app, "lessons", testkit.LessonPaid).GetString("body"))
			},
		},
		{
			Name:            "superuser updating a lesson from the dashboard has it sanitized",
			Method:          http.MethodPatch,
			URL:             lessonsURL + "/" + testkit.LessonFree,
			Body:            jsonBody(map[string]any{"body": hostileHTML}),
			Headers:         fixture.Headers(testkit.Superuser),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"` + testkit.LessonFree + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertSanitized(t, findRecord(t, app, "lessons", testkit.LessonFree).GetString("body"))
			},
		},
	})
}

func TestLessonsRecomputeProgress(t *testing.T) {
	instructor := fixture.Headers(testkit.Instructor)
	completeStudent := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		updateRecord(t, app, "enrollments", testkit.EnrollmentStudent, map[string]any{
			"completedLessons": []string{testkit.LessonFree, testkit.LessonPaid},
		})
		assertEnrollment(t, app, testkit.EnrollmentStudent, 100, "completed")
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "instructor adding a lesson lowers every enrollment's progress",
			Method:          http.MethodPost,
			URL:             lessonsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished, "title": "Events", "position": 3}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"position":3`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertEnrollment(t, app, testkit.EnrollmentStudent, 33, "active") // 1 of 3
				assertEnrollment(t, app, testkit.EnrollmentCancelled, 0, "cancelled")
				assertEnrollment(t, app, testkit.EnrollmentOther, 0, "active") // other course untouched
				assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})
			},
		},
		{
			Name:            "instructor adding a lesson leaves a completed enrollment completed",
			Method:          http.MethodPost,
			URL:             lessonsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished, "title": "Bonus", "position": 3}),
			Headers:         instructor,
			BeforeTestFunc:  completeStudent,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"position":3`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertEnrollment(t, app, testkit.EnrollmentStudent, 67, "completed") // 2 of 3
			},
		},
		{
			Name:           "instructor removing the lesson a student has not done completes them",
			Method:         http.MethodDelete,
			URL:            lessonsURL + "/" + testkit.LessonPaid,
			Headers:        instructor,
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertEnrollment(t, app, testkit.EnrollmentStudent, 100, "completed") // 1 of 1
				assertEnrollment(t, app, testkit.EnrollmentCancelled, 0, "cancelled")
			},
		},
		{
			Name:           "instructor removing a lesson a student has done drops it from their progress",
			Method:         http.MethodDelete,
			URL:            lessonsURL + "/" + testkit.LessonFree,
			Headers:        instructor,
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				e := findRecord(t, app, "enrollments", testkit.EnrollmentStudent)
				assert.Empty(t, e.GetStringSlice("completedLessons"))
				assertEnrollment(t, app, testkit.EnrollmentStudent, 0, "active") // 0 of 1
			},
		},
		{
			Name:           "instructor removing every lesson leaves progress at 0",
			Method:         http.MethodDelete,
			URL:            lessonsURL + "/" + testkit.LessonOther,
			Headers:        fixture.Headers(testkit.Instr2),
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertEnrollment(t, app, testkit.EnrollmentOther, 0, "active")
			},
		},
	})
}

func TestCancelledEnrollmentHidesPaidLessons(t *testing.T) {
	student := fixture.Headers(testkit.Student)
	cancel := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		updateRecord(t, app, "enrollments", testkit.EnrollmentStudent, map[string]any{"status": "cancelled"})
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "enrolled student viewing a paid lesson",
			Method:          http.MethodGet,
			URL:             lessonsURL + "/" + testkit.LessonPaid,
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"` + testkit.LessonPaid + `"`},
		},
		{
			Name:            "student with a cancelled enrollment viewing a paid lesson gets a 404",
			Method:          http.MethodGet,
			URL:             lessonsURL + "/" + testkit.LessonPaid,
			Headers:         student,
			BeforeTestFunc:  cancel,
			ExpectedStatus:  404,
			ExpectedContent: []string{`"data":{}`},
		},
		{
			Name:               "student with a cancelled enrollment listing lessons sees the free preview only",
			Method:             http.MethodGet,
			URL:                lessonsURL + "?filter=" + "course%3D%22" + testkit.CoursePublished + "%22",
			Headers:            student,
			BeforeTestFunc:     cancel,
			ExpectedStatus:     200,
			ExpectedContent:    []string{`"totalItems":1`, testkit.LessonFree},
			NotExpectedContent: []string{testkit.LessonPaid},
		},
		{
			Name:    "student who reactivated a cancelled enrollment sees paid lessons again",
			Method:  http.MethodGet,
			URL:     lessonsURL + "/" + testkit.LessonPaid,
			Headers: student,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				cancel(t, app, e)
				updateRecord(t, app, "enrollments", testkit.EnrollmentStudent, map[string]any{"status": "active"})
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"` + testkit.LessonPaid + `"`},
		},
		{
			Name:            "student2 with only a cancelled enrollment viewing a paid lesson gets a 404",
			Method:          http.MethodGet,
			URL:             lessonsURL + "/" + testkit.LessonPaid,
			Headers:         fixture.Headers(testkit.Student2),
			ExpectedStatus:  404,
			ExpectedContent: []string{`"data":{}`},
		},
	})
}
