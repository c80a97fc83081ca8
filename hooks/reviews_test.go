package hooks_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"

	"lectern/internal/testkit"
)

const reviewsURL = "/api/collections/reviews/records"

// enrol saves an active enrollment of user in course.
func enrol(t testing.TB, app core.App, course, user string) *core.Record {
	return newRecord(t, app, "enrollments", map[string]any{"course": course, "user": user})
}

// review saves user's rating of course (enrolling them first).
func review(t testing.TB, app core.App, course, user string, rating int) *core.Record {
	enrol(t, app, course, user)
	return newRecord(t, app, "reviews", map[string]any{"course": course, "user": user, "rating": rating})
}

func TestReviewCreate(t *testing.T) {
	author := fixture.Headers(testkit.Author)
	enrolAuthor := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		enrol(t, app, testkit.CoursePublished2, testkit.UserAuthor)
	}
	unchanged2 := expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 2})
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "enrolled user reviewing a course updates its rating: 5,4 is 4.5",
			Method:          http.MethodPost,
			URL:             reviewsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 4, "user": testkit.UserStudent2}),
			Headers:         author,
			BeforeTestFunc:  enrolAuthor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"user":"` + testkit.UserAuthor + `"`, `"rating":4`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 4.5, RatingCount: 2, EnrollmentsCount: 2}),
		},
		{
			Name:    "third review rounds half-up to one decimal: 5,4,5 is 4.7",
			Method:  http.MethodPost,
			URL:     reviewsURL,
			Body:    jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 5}),
			Headers: author,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				review(t, app, testkit.CoursePublished2, testkit.UserStudent, 4)
				enrolAuthor(t, app, e)
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"rating":5`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 4.7, RatingCount: 3, EnrollmentsCount: 3}),
		},
		{
			Name:   "user with a completed enrollment may review",
			Method: http.MethodPost,
			URL:    reviewsURL,
			Body:   jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 3}),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				newRecord(t, app, "enrollments", map[string]any{
					"course": testkit.CoursePublished2, "user": testkit.UserAuthor, "completedLessons": []string{testkit.LessonOther},
				})
				assert.Equal(t, 1, countRows(t, app, "enrollments", "user = {:u} AND status = 'completed'", dbx.Params{"u": testkit.UserAuthor}))
			},
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"rating":3`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 4, RatingCount: 2, EnrollmentsCount: 2}),
		},
		{
			Name:            "enrolled user's review body is stored as plain text",
			Method:          http.MethodPost,
			URL:             reviewsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 4, "body": "<b>hi</b> &amp; bye<script>alert(1)</script>"}),
			Headers:         author,
			BeforeTestFunc:  enrolAuthor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"hi & bye"`},
		},
		{
			Name:            "user without an enrollment reviewing gets a 400",
			Method:          http.MethodPost,
			URL:             reviewsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 1}),
			Headers:         author,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"course":{"code":"validation_not_enrolled"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc:   expectCourse(testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 1}),
		},
		{
			Name:            "user with a cancelled enrollment reviewing gets a 400",
			Method:          http.MethodPost,
			URL:             reviewsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished, "rating": 1}),
			Headers:         fixture.Headers(testkit.Student2),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"course":{"code":"validation_not_enrolled"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1}),
		},
		{
			Name:            "student reviewing a course twice gets a 400",
			Method:          http.MethodPost,
			URL:             reviewsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished, "rating": 1}),
			Headers:         fixture.Headers(testkit.Student),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"course":{"code":"validation_already_reviewed"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1}),
		},
	})

	var badRatings []tests.ApiScenario
	for _, c := range []struct {
		name   string
		rating any
	}{{"0", 0}, {"6", 6}, {"3.5", 3.5}, {"-1", -1}, {"missing", nil}} {
		badRatings = append(badRatings, tests.ApiScenario{
			Name:            "enrolled user rating " + c.name + " gets a 400 on rating",
			Method:          http.MethodPost,
			URL:             reviewsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": c.rating}),
			Headers:         author,
			BeforeTestFunc:  enrolAuthor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"rating":{"code":`},
			ExpectedEvents:  createInvalid,
			AfterTestFunc:   unchanged2,
		})
	}
	runScenarios(t, badRatings)
}

func TestReviewUpdateAndDelete(t *testing.T) {
	student := fixture.Headers(testkit.Student)
	url := reviewsURL + "/" + testkit.ReviewStudent
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "reviewer changing the rating updates the course",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"rating": 2}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"rating":2`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 2, RatingCount: 1, EnrollmentsCount: 1}),
		},
		{
			Name:            "reviewer editing the body has it stored as plain text",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"body": "<p>Still <em>solid</em></p>"}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"Still solid"`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1}),
		},
		{
			Name:            "reviewer changing the rating to 6 gets a 400 on rating",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"rating": 6}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"rating":{"code":`},
			ExpectedEvents:  updateInvalid,
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1}),
		},
		{
			Name:            "reviewer moving the review to another course has it ignored",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 1}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"course":"` + testkit.CoursePublished + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 1, RatingCount: 1, EnrollmentsCount: 1})
				assertCourse(t, app, testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 1})
			},
		},
		{
			Name:    "reviewer whose enrollment was cancelled keeps the review (checked at create)",
			Method:  http.MethodPatch,
			URL:     url,
			Body:    jsonBody(map[string]any{"rating": 5}),
			Headers: student,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				updateRecord(t, app, "enrollments", testkit.EnrollmentStudent, map[string]any{"status": "cancelled"})
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"rating":5`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 0}),
		},
		{
			Name:           "reviewer deleting the review resets the course's rating",
			Method:         http.MethodDelete,
			URL:            url,
			Headers:        student,
			ExpectedStatus: 204,
			AfterTestFunc:  expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 0, RatingCount: 0, EnrollmentsCount: 1}),
		},
		{
			Name:    "admin deleting one of three reviews recomputes the mean",
			Method:  http.MethodDelete,
			URL:     url,
			Headers: fixture.Headers(testkit.Admin),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				review(t, app, testkit.CoursePublished, testkit.UserAuthor, 5)
				review(t, app, testkit.CoursePublished, testkit.UserAuthor2, 2)
				assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 3.7, RatingCount: 3, EnrollmentsCount: 3})
			},
			ExpectedStatus: 204,
			AfterTestFunc:  expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 3.5, RatingCount: 2, EnrollmentsCount: 3}),
		},
		{
			Name:           "reviewer deleting their account takes the review off the course",
			Method:         http.MethodDelete,
			URL:            "/api/collections/users/records/" + testkit.UserStudent,
			Headers:        student,
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				recordGone(t, app, "reviews", testkit.ReviewStudent)
				assertCourse(t, app, testkit.CoursePublished, courseAggregates{})
			},
		},
	})
}

func TestReviewWriteRollsBackWithItsCourse(t *testing.T) {
	// The course's aggregates are written in the review's transaction: when
	// that write fails, the review must not be stored either.
	failCourseSave := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		failUpdatesOf(t, app, "courses")
	}
	unchanged := expectCourse(testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})
	runScenarios(t, []tests.ApiScenario{
		{
			Name:    "enrolled user reviewing while the course cannot be saved stores nothing",
			Method:  http.MethodPost,
			URL:     reviewsURL,
			Body:    jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 1}),
			Headers: fixture.Headers(testkit.Author),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				enrol(t, app, testkit.CoursePublished2, testkit.UserAuthor)
				failCourseSave(t, app, e)
			},
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			ExpectedEvents: map[string]int{
				"OnModelAfterCreateSuccess": 0, "OnRecordAfterCreateSuccess": 0,
				"OnModelAfterUpdateSuccess": 0, "OnRecordAfterUpdateSuccess": 0,
				"OnModelAfterCreateError": 1, "OnRecordAfterCreateError": 1,
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "reviews", "user = {:u}", dbx.Params{"u": testkit.UserAuthor}))
				assertCourse(t, app, testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 2})
			},
		},
		{
			Name:            "reviewer changing the rating while the course cannot be saved changes nothing",
			Method:          http.MethodPatch,
			URL:             reviewsURL + "/" + testkit.ReviewStudent,
			Body:            jsonBody(map[string]any{"rating": 1}),
			Headers:         fixture.Headers(testkit.Student),
			BeforeTestFunc:  failCourseSave,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			ExpectedEvents:  map[string]int{"OnModelAfterUpdateSuccess": 0, "OnRecordAfterUpdateSuccess": 0},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, 4, findRecord(t, app, "reviews", testkit.ReviewStudent).GetInt("rating"))
				unchanged(t, app, res)
			},
		},
		{
			Name:            "reviewer deleting while the course cannot be saved keeps the review",
			Method:          http.MethodDelete,
			URL:             reviewsURL + "/" + testkit.ReviewStudent,
			Headers:         fixture.Headers(testkit.Student),
			BeforeTestFunc:  failCourseSave,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			ExpectedEvents:  map[string]int{"OnModelAfterDeleteSuccess": 0, "OnRecordAfterDeleteSuccess": 0},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				findRecord(t, app, "reviews", testkit.ReviewStudent)
				unchanged(t, app, res)
			},
		},
	})
}
