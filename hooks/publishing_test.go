package hooks_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/hooks"
	"lectern/internal/testkit"
)

const coursesURL = "/api/collections/courses/records"

// dateIn formats now+d the way PocketBase stores dates.
func dateIn(d time.Duration) string {
	return types.NowDateTime().Add(d).String()
}

// assertRecent checks that a stored date is set and within a minute of now.
func assertRecent(t testing.TB, dt types.DateTime) {
	t.Helper()
	require.False(t, dt.IsZero(), "date not set")
	assert.WithinDuration(t, time.Now(), dt.Time(), time.Minute)
}

func TestPublishedAt(t *testing.T) {
	author := fixture.Headers(testkit.Author)
	longAgo := "2001-02-03 04:05:06.000Z"
	nextMonth := dateIn(30 * 24 * time.Hour)
	firstPublish := "2020-01-01 10:00:00.000Z"
	// publishedOnce gives PostPublished a known first-publish date.
	publishedOnce := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		_, err := app.DB().NewQuery("UPDATE posts SET publishedAt = {:at} WHERE id = {:id}").
			Bind(map[string]any{"at": firstPublish, "id": testkit.PostPublished}).Execute()
		require.NoError(t, err)
	}
	publishedAtOf := func(collection, id string) func(testing.TB, core.App) types.DateTime {
		return func(t testing.TB, app core.App) types.DateTime {
			return findRecord(t, app, collection, id).GetDateTime("publishedAt")
		}
	}
	postPublishedAt := publishedAtOf("posts", testkit.PostPublished)

	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "author creating a published post gets publishedAt now",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Live now", "status": "published"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assertRecent(t, createdRecord(t, app, "posts", res).GetDateTime("publishedAt"))
			},
		},
		{
			Name:            "author creating a published post with a backdated publishedAt has it ignored",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Backdated", "status": "published", "publishedAt": longAgo}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assertRecent(t, createdRecord(t, app, "posts", res).GetDateTime("publishedAt"))
			},
		},
		{
			Name:            "author creating a draft with a publishedAt has it ignored",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Drafty", "status": "draft", "publishedAt": nextMonth}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"draft"`, `"publishedAt":""`},
		},
		{
			Name:            "author creating a post without a status gets a draft",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "No status"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"draft"`, `"publishedAt":""`},
		},
		{
			Name:            "author publishing a draft stamps publishedAt",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostDraft,
			Body:            jsonBody(map[string]any{"status": "published", "publishedAt": longAgo}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertRecent(t, publishedAtOf("posts", testkit.PostDraft)(t, app))
			},
		},
		{
			Name:            "author editing a published post keeps its publishedAt",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostPublished,
			Body:            jsonBody(map[string]any{"title": "Edited title", "status": "published", "publishedAt": longAgo}),
			Headers:         author,
			BeforeTestFunc:  publishedOnce,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"publishedAt":"` + firstPublish + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, firstPublish, postPublishedAt(t, app).String())
			},
		},
		{
			Name:            "author unpublishing a post keeps its publishedAt",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostPublished,
			Body:            jsonBody(map[string]any{"status": "draft"}),
			Headers:         author,
			BeforeTestFunc:  publishedOnce,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"draft"`, `"publishedAt":"` + firstPublish + `"`},
		},
		{
			Name:    "author re-publishing a post keeps the first publishedAt",
			Method:  http.MethodPatch,
			URL:     postsURL + "/" + testkit.PostPublished,
			Body:    jsonBody(map[string]any{"status": "published"}),
			Headers: author,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				publishedOnce(t, app, e)
				updateRecord(t, app, "posts", testkit.PostPublished, map[string]any{"status": "draft"})
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`, `"publishedAt":"` + firstPublish + `"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, firstPublish, postPublishedAt(t, app).String())
			},
		},
		{
			Name:            "author scheduling a post for next month keeps that publishedAt",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Later", "status": "scheduled", "publishedAt": nextMonth}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"scheduled"`, `"publishedAt":"` + nextMonth + `"`},
		},
		{
			Name:            "author scheduling a post without publishedAt gets a 400 on publishedAt",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Someday", "status": "scheduled"}),
			Headers:         author,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"publishedAt":{"code":"validation_required"`},
			ExpectedEvents:  createRefused,
		},
		{
			Name:            "author scheduling a post in the past gets a 400 on publishedAt",
			Method:          http.MethodPost,
			URL:             postsURL,
			Body:            jsonBody(map[string]any{"title": "Yesterday", "status": "scheduled", "publishedAt": longAgo}),
			Headers:         author,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"publishedAt":{"code":"validation_date_not_future"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "posts", "title = 'Yesterday'", nil))
			},
		},
		{
			Name:            "author rescheduling a draft into the past gets a 400 on publishedAt",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostDraft,
			Body:            jsonBody(map[string]any{"status": "scheduled", "publishedAt": dateIn(-time.Minute)}),
			Headers:         author,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"publishedAt":{"code":"validation_date_not_future"`},
			ExpectedEvents:  updateRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, "draft", findRecord(t, app, "posts", testkit.PostDraft).GetString("status"))
			},
		},
		{
			Name:            "author publishing a scheduled post early gets publishedAt now, not the future date",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostScheduled,
			Body:            jsonBody(map[string]any{"status": "published"}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertRecent(t, publishedAtOf("posts", testkit.PostScheduled)(t, app))
			},
		},
		{
			Name:    "author publishing a once-scheduled draft gets publishedAt now",
			Method:  http.MethodPatch,
			URL:     postsURL + "/" + testkit.PostScheduled,
			Body:    jsonBody(map[string]any{"status": "published"}),
			Headers: author,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				updateRecord(t, app, "posts", testkit.PostScheduled, map[string]any{"status": "draft"})
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertRecent(t, publishedAtOf("posts", testkit.PostScheduled)(t, app))
			},
		},
		{
			Name:            "author moving a scheduled post to next month keeps the new date",
			Method:          http.MethodPatch,
			URL:             postsURL + "/" + testkit.PostScheduled,
			Body:            jsonBody(map[string]any{"status": "scheduled", "publishedAt": nextMonth}),
			Headers:         author,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"scheduled"`, `"publishedAt":"` + nextMonth + `"`},
		},
		{
			Name:            "instructor creating a published course gets publishedAt now",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(map[string]any{"title": "Go basics", "durationDays": 5, "status": "published", "publishedAt": longAgo}),
			Headers:         fixture.Headers(testkit.Instructor),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assertRecent(t, createdRecord(t, app, "courses", res).GetDateTime("publishedAt"))
			},
		},
		{
			Name:            "instructor scheduling a course in the past gets a 400 on publishedAt",
			Method:          http.MethodPost,
			URL:             coursesURL,
			Body:            jsonBody(map[string]any{"title": "Go basics", "durationDays": 5, "status": "scheduled", "publishedAt": longAgo}),
			Headers:         fixture.Headers(testkit.Instructor),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"publishedAt":{"code":"validation_date_not_future"`},
			ExpectedEvents:  createRefused,
		},
		{
			Name:            "instructor scheduling a course for next month keeps that publishedAt",
			Method:          http.MethodPatch,
			URL:             coursesURL + "/" + testkit.CourseDraft,
			Body:            jsonBody(map[string]any{"status": "scheduled", "publishedAt": nextMonth}),
			Headers:         fixture.Headers(testkit.Instructor),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"scheduled"`, `"publishedAt":"` + nextMonth + `"`},
		},
		{
			Name:    "instructor re-publishing a course keeps the first publishedAt",
			Method:  http.MethodPatch,
			URL:     coursesURL + "/" + testkit.CoursePublished,
			Body:    jsonBody(map[string]any{"status": "published", "publishedAt": longAgo}),
			Headers: fixture.Headers(testkit.Instructor),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				_, err := app.DB().NewQuery("UPDATE courses SET publishedAt = {:at}, status = 'draft' WHERE id = {:id}").
					Bind(map[string]any{"at": firstPublish, "id": testkit.CoursePublished}).Execute()
				require.NoError(t, err)
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`, `"publishedAt":"` + firstPublish + `"`},
		},
	})
}

// comeDue moves a scheduled record's publishedAt into the past, as the clock
// passing it would (a client cannot schedule into the past), and returns it.
func comeDue(t testing.TB, app core.App, collection, id string, ago time.Duration) string {
	t.Helper()
	at := dateIn(-ago)
	_, err := app.DB().Update(collection, dbx.Params{"publishedAt": at}, dbx.HashExp{"id": id}).Execute()
	require.NoError(t, err)
	return at
}

func TestPublishDue(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()

	farPost := newRecord(t, app, "posts", map[string]any{
		"title": "Far future", "author": testkit.UserAuthor, "status": "scheduled", "publishedAt": dateIn(3 * 365 * 24 * time.Hour),
	})
	course := newRecord(t, app, "courses", map[string]any{
		"title": "Scheduled course", "instructor": testkit.UserInstructor, "durationDays": 3,
		"status": "scheduled", "publishedAt": dateIn(time.Hour),
	})

	// nothing is due yet
	n, err := hooks.PublishDue(app, time.Now())
	require.NoError(t, err)
	assert.Zero(t, n)

	// time passes for the fixture's post and the course, not for the far one
	postAt := comeDue(t, app, "posts", testkit.PostScheduled, time.Minute)
	courseAt := comeDue(t, app, "courses", course.Id, 2*time.Minute)
	n, err = hooks.PublishDue(app, time.Now())
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	post := findRecord(t, app, "posts", testkit.PostScheduled)
	assert.Equal(t, "published", post.GetString("status"))
	assert.Equal(t, postAt, post.GetDateTime("publishedAt").String(), "publishedAt kept")

	course = findRecord(t, app, "courses", course.Id)
	assert.Equal(t, "published", course.GetString("status"))
	assert.Equal(t, courseAt, course.GetDateTime("publishedAt").String(), "publishedAt kept")

	assert.Equal(t, "scheduled", findRecord(t, app, "posts", farPost.Id).GetString("status"))

	// running again publishes nothing more
	n, err = hooks.PublishDue(app, time.Now())
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestPublishDueMakesPostPublic(t *testing.T) {
	runScenarios(t, []tests.ApiScenario{
		{
			Name:   "guest viewing a scheduled post that came due sees it",
			Method: http.MethodGet,
			URL:    postsURL + "/" + testkit.PostScheduled,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				comeDue(t, app, "posts", testkit.PostScheduled, time.Second)
				n, err := hooks.PublishDue(app, time.Now())
				require.NoError(t, err)
				require.Equal(t, 1, n)
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"published"`},
		},
		{
			Name:            "guest viewing a scheduled post before it is due gets a 404",
			Method:          http.MethodGet,
			URL:             postsURL + "/" + testkit.PostScheduled,
			ExpectedStatus:  404,
			ExpectedContent: []string{`"data":{}`},
		},
	})
}

func TestArchivedPostsLeavePublicLists(t *testing.T) {
	archive := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		updateRecord(t, app, "posts", testkit.PostPublished2, map[string]any{"status": "archived"})
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:               "guest listing posts sees only published ones",
			Method:             http.MethodGet,
			URL:                postsURL,
			ExpectedStatus:     200,
			ExpectedContent:    []string{`"totalItems":2`, testkit.PostPublished, testkit.PostPublished2},
			NotExpectedContent: []string{testkit.PostArchived, testkit.PostDraft, testkit.PostScheduled},
		},
		{
			Name:               "guest listing posts after one is archived no longer sees it",
			Method:             http.MethodGet,
			URL:                postsURL,
			BeforeTestFunc:     archive,
			ExpectedStatus:     200,
			ExpectedContent:    []string{`"totalItems":1`, testkit.PostPublished},
			NotExpectedContent: []string{testkit.PostPublished2},
		},
		{
			Name:            "guest viewing an archived post gets a 404",
			Method:          http.MethodGet,
			URL:             postsURL + "/" + testkit.PostPublished2,
			BeforeTestFunc:  archive,
			ExpectedStatus:  404,
			ExpectedContent: []string{`"data":{}`},
		},
		{
			Name:            "author of an archived post still sees it",
			Method:          http.MethodGet,
			URL:             postsURL + "/" + testkit.PostPublished2,
			Headers:         fixture.Headers(testkit.Author2),
			BeforeTestFunc:  archive,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"archived"`},
		},
	})
}

func TestPublishDueSkipsWhatCannotBeSaved(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()

	// A due course that no longer validates (written around the hooks), due
	// before the others: it must not hold them back.
	broken := newRecord(t, app, "courses", map[string]any{
		"title": "Broken course", "instructor": testkit.UserInstructor, "durationDays": 3,
		"status": "scheduled", "publishedAt": dateIn(time.Hour),
	})
	comeDue(t, app, "courses", broken.Id, time.Hour)
	_, err := app.DB().NewQuery("UPDATE courses SET durationDays = 0 WHERE id = {:id}").
		Bind(dbx.Params{"id": broken.Id}).Execute()
	require.NoError(t, err)
	for i := range 3 {
		c := newRecord(t, app, "courses", map[string]any{
			"title": fmt.Sprintf("Fine course %d", i), "instructor": testkit.UserInstructor, "durationDays": 3,
			"status": "scheduled", "publishedAt": dateIn(time.Hour),
		})
		comeDue(t, app, "courses", c.Id, time.Minute)
	}
	comeDue(t, app, "posts", testkit.PostScheduled, time.Minute)

	n, err := hooks.PublishDue(app, time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), broken.Id)
	assert.Equal(t, 4, n, "the post and the three fine courses")
	assert.Equal(t, "published", findRecord(t, app, "posts", testkit.PostScheduled).GetString("status"))
	assert.Equal(t, "scheduled", findRecord(t, app, "courses", broken.Id).GetString("status"))
	assert.Zero(t, countRows(t, app, "courses", "status = 'scheduled' AND id != {:id}", dbx.Params{"id": broken.Id}))
}
