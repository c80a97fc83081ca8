package hooks_test

import (
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/hooks"
	"lectern/internal/testkit"
)

// courseAggregates is what a course's derived fields must equal.
type courseAggregates struct {
	RatingAvg        float64
	RatingCount      int
	EnrollmentsCount int
}

// freshCourseAggregates recomputes a course's derived fields from its rows
// with plain SQL, independently of the hooks.
func freshCourseAggregates(t testing.TB, app core.App, courseID string) courseAggregates {
	t.Helper()
	var row struct {
		Avg      float64 `db:"avg"`
		Count    int     `db:"count"`
		Enrolled int     `db:"enrolled"`
	}
	err := app.DB().NewQuery(`SELECT
		COALESCE((SELECT AVG(rating) FROM reviews WHERE course = {:c}), 0) AS avg,
		(SELECT COUNT(*) FROM reviews WHERE course = {:c}) AS count,
		(SELECT COUNT(*) FROM enrollments WHERE course = {:c} AND status IN ('active', 'completed')) AS enrolled`).
		Bind(dbx.Params{"c": courseID}).One(&row)
	require.NoError(t, err)
	// half-up to one decimal; the epsilon absorbs AVG's binary error (4.65 → 4.6499…)
	return courseAggregates{math.Floor(row.Avg*10+0.5+1e-9) / 10, row.Count, row.Enrolled}
}

func storedCourseAggregates(t testing.TB, app core.App, courseID string) courseAggregates {
	t.Helper()
	c := findRecord(t, app, "courses", courseID)
	return courseAggregates{c.GetFloat("ratingAvg"), c.GetInt("ratingCount"), c.GetInt("enrollmentsCount")}
}

// assertCourse checks a course's stored aggregates against want and against
// a fresh recount.
func assertCourse(t testing.TB, app core.App, courseID string, want courseAggregates) {
	t.Helper()
	assert.Equal(t, want, storedCourseAggregates(t, app, courseID), "stored aggregates of %s", courseID)
	assert.Equal(t, want, freshCourseAggregates(t, app, courseID), "fresh aggregates of %s", courseID)
}

func expectCourse(courseID string, want courseAggregates) func(testing.TB, *tests.TestApp, *http.Response) {
	return func(t testing.TB, app *tests.TestApp, _ *http.Response) { assertCourse(t, app, courseID, want) }
}

func TestRatingAvg(t *testing.T) {
	for _, c := range []struct {
		sum, count int
		want       float64
	}{
		{0, 0, 0},
		{10, 0, 0},
		{5, -1, 0},
		{4, 1, 4},
		{14, 3, 4.7},  // 5,4,5 = 4.666…
		{9, 2, 4.5},   // 4,5
		{13, 3, 4.3},  // 4.333…
		{93, 20, 4.7}, // exactly 4.65: half-up, where float rounding gives 4.6
		{81, 20, 4.1}, // exactly 4.05
		{17, 4, 4.3},  // exactly 4.25
		{1, 3, 0.3},
		{2, 3, 0.7},
		{3, 2, 1.5},
		{5_000_000, 1_000_000, 5},
		{4_999_999, 1_000_000, 5},
		{4_949_999, 1_000_000, 4.9},
	} {
		t.Run(fmt.Sprintf("%d/%d", c.sum, c.count), func(t *testing.T) {
			assert.Equal(t, c.want, hooks.RatingAvg(c.sum, c.count))
		})
	}
}

func TestHasAtMostTwoDecimals(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want bool
	}{
		{0, true}, {1, true}, {99.5, true}, {99.95, true}, {19.99, true}, {0.01, true},
		{1234567.89, true}, {134499878.95, true}, {99999999999.99, true}, {1e20, true}, {-4.25, true},
		{1.234, false}, {0.001, false}, {99.999, false}, {0.125, false}, {1e-5, false},
		{0.30000000000000004, false}, // 0.1 + 0.2 computed by a client: not a price it meant
		{math.NaN(), false}, {math.Inf(1), false},
	} {
		t.Run(fmt.Sprint(c.v), func(t *testing.T) {
			assert.Equal(t, c.want, hooks.HasAtMostTwoDecimals(c.v))
		})
	}
}

func TestCourseCreate(t *testing.T) {
	instructor := fixture.Headers(testkit.Instructor)
	course := func(extra map[string]any) map[string]any {
		data := map[string]any{"title": "Go in practice", "durationDays": 14}
		for k, v := range extra {
			data[k] = v
		}
		return data
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:           "instructor creating a course gets the server's defaults",
			Method:         http.MethodPost,
			URL:            coursesURL,
			Body:           jsonBody(course(map[string]any{"price": 99.95, "ratingAvg": 5, "ratingCount": 1000, "enrollmentsCount": 1e6})),
			Headers:        instructor,
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`"slug":"go-in-practice"`, `"currency":"USD"`, `"price":99.95`, `"status":"draft"`,
				`"ratingAvg":0`, `"ratingCount":0`, `"enrollmentsCount":0`,
				`"instructor":"` + testkit.UserInstructor + `"`,
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				c := createdRecord(t, app, "courses", res)
				assert.Equal(t, "USD", c.GetString("currency"))
				assertCourse(t, app, c.Id, courseAggregates{})
			},
		},
		{
			Name:            "instructor pricing a course at 134499878.95 keeps the price",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"price": 134499878.95})),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"price":134499878.95`},
		},
		{
			Name:            "instructor giving a lowercase currency has it normalised",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"currency": " eur "})),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"currency":"EUR"`},
		},
		{
			Name:            "instructor giving a malformed currency gets a 400 on currency",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"currency": "EURO"})),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"currency":{"code":"validation_invalid_format"`},
			ExpectedEvents:  createInvalid,
		},
		{
			Name:            "instructor reusing a course title gets -2",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"title": "Node.JS"})),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"node-js-2"`},
		},
		{
			Name:            "instructor choosing a taken course slug gets a 400 on slug",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"slug": "node-js"})),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"slug":{"code":"validation_not_unique"`},
			ExpectedEvents:  createRefused,
		},
		{
			Name:            "instructor choosing an invalid course slug gets a 400 on slug",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"slug": "Node JS"})),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"slug":{"code":"validation_invalid_slug"`},
			ExpectedEvents:  createRefused,
		},
		{
			Name:            "instructor creating a course with an emoji-only title gets the course fallback slug",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"title": "📚📚📚"})),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"course"`},
		},
		{
			Name:            "instructor creating a course with a description has it sanitized",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"description": hostileHTML, "summary": "<b>Short</b> &amp; sweet"})),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"summary":"Short & sweet"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assertSanitized(t, createdRecord(t, app, "courses", res).GetString("description"))
			},
		},
		{
			Name:            "superuser creating a course from the dashboard has its description sanitized",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(map[string]any{"description": hostileHTML, "instructor": testkit.UserInstr2})),
			Headers:         fixture.Headers(testkit.Superuser),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"instructor":"` + testkit.UserInstr2 + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assertSanitized(t, createdRecord(t, app, "courses", res).GetString("description"))
			},
		},
	})

	var invalid []tests.ApiScenario
	for _, c := range []struct {
		name  string
		data  map[string]any
		field string
		hook  bool // refused by Lectern's hook rather than by field validation
	}{
		{"a price with 3 decimals", map[string]any{"price": 99.999}, "price", true},
		{"a price of 0.001", map[string]any{"price": 0.001}, "price", true},
		{"a negative price", map[string]any{"price": -1}, "price", false},
		{"durationDays 0", map[string]any{"durationDays": 0}, "durationDays", false},
		{"no durationDays", map[string]any{"durationDays": nil}, "durationDays", false},
		{"a fractional durationDays", map[string]any{"durationDays": 1.5}, "durationDays", false},
		{"an unknown mode", map[string]any{"mode": "offline"}, "mode", false},
	} {
		events := createInvalid
		if c.hook {
			events = createRefused
		}
		invalid = append(invalid, tests.ApiScenario{
			Name:            "instructor creating a course with " + c.name + " gets a 400 on " + c.field,
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(course(c.data)),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"` + c.field + `":{"code":`},
			ExpectedEvents:  events,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "courses", "title = 'Go in practice'", nil))
			},
		})
	}
	runScenarios(t, invalid)
}

func TestCourseUpdate(t *testing.T) {
	instructor := fixture.Headers(testkit.Instructor)
	url := coursesURL + "/" + testkit.CoursePublished
	fixtureAggregates := courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "instructor editing the title keeps the slug",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"title": "Node.JS, the good parts"}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"node-js"`},
		},
		{
			Name:            "instructor sending aggregates has them ignored",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"ratingAvg": 5, "ratingCount": 99, "enrollmentsCount": 99}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"ratingAvg":4`, `"ratingCount":1`, `"enrollmentsCount":1`},
			AfterTestFunc:   expectCourse(testkit.CoursePublished, fixtureAggregates),
		},
		{
			Name:            "instructor changing the price to 3 decimals gets a 400 on price",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"price": 10.005}),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"price":{"code":"validation_price_precision"`},
			ExpectedEvents:  updateRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, 0.0, findRecord(t, app, "courses", testkit.CoursePublished).GetFloat("price"))
			},
		},
		{
			Name:            "instructor setting durationDays to 0 gets a 400 on durationDays",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"durationDays": 0}),
			Headers:         instructor,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"durationDays":{"code":"validation_required"`},
			ExpectedEvents:  updateInvalid,
		},
		{
			Name:            "instructor lowercasing the currency has it normalised",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"currency": "gbp"}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"currency":"GBP"`},
		},
		{
			Name:            "instructor clearing the currency gets USD back",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"currency": ""}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"currency":"USD"`},
		},
		{
			Name:            "instructor updating the description has it sanitized",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"description": hostileHTML}),
			Headers:         instructor,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"` + testkit.CoursePublished + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertSanitized(t, findRecord(t, app, "courses", testkit.CoursePublished).GetString("description"))
			},
		},
		{
			Name:            "superuser updating the description from the dashboard has it sanitized",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"description": hostileHTML}),
			Headers:         fixture.Headers(testkit.Superuser),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"` + testkit.CoursePublished + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertSanitized(t, findRecord(t, app, "courses", testkit.CoursePublished).GetString("description"))
				assertCourse(t, app, testkit.CoursePublished, fixtureAggregates)
			},
		},
		{
			Name:           "instructor deleting a course takes its lessons, enrollments and reviews",
			Method:         http.MethodDelete,
			URL:            url,
			Headers:        instructor,
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				for _, c := range []string{"lessons", "enrollments", "reviews"} {
					assert.Zero(t, countRows(t, app, c, "course = {:c}", dbx.Params{"c": testkit.CoursePublished}), c)
				}
				assertCourse(t, app, testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 1})
			},
		},
	})
}

func TestFixtureCourseAggregates(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()
	assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})
	assertCourse(t, app, testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 1})
	assertCourse(t, app, testkit.CourseDraft, courseAggregates{})
}
