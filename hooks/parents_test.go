package hooks_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/hooks"
	"lectern/internal/testkit"
)

// A child write refreshes its parent's derived fields with a targeted UPDATE
// (no re-save of the parent) and announces the parent through PocketBase's
// after-update chain once the transaction has committed.

func TestParentRefreshIsTargeted(t *testing.T) {
	// One create, then the parent's after-update chain once: no parent save
	// (OnRecordUpdate and the rest of the save chain never run for it).
	createThenAnnounce := map[string]int{
		"*":                          0,
		"OnRecordCreateRequest":      1,
		"OnRecordEnrich":             1,
		"OnModelCreate":              1,
		"OnModelCreateExecute":       1,
		"OnRecordCreate":             1,
		"OnRecordCreateExecute":      1,
		"OnModelValidate":            1,
		"OnRecordValidate":           1,
		"OnModelAfterCreateSuccess":  1,
		"OnRecordAfterCreateSuccess": 1,
		"OnModelAfterUpdateSuccess":  1,
		"OnRecordAfterUpdateSuccess": 1,
	}
	createOnly := withEvents(createThenAnnounce)
	createOnly["OnModelAfterUpdateSuccess"], createOnly["OnRecordAfterUpdateSuccess"] = 0, 0
	var before *core.Record
	keep := func(collection, id string) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
		return func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
			before = findRecord(t, app, collection, id)
		}
	}
	// kept checks that only the derived fields and updated changed.
	kept := func(t testing.TB, after *core.Record, derived ...string) {
		t.Helper()
		skip := map[string]bool{"updated": true}
		for _, f := range derived {
			skip[f] = true
		}
		for _, f := range after.Collection().Fields {
			if !skip[f.GetName()] {
				assert.Equal(t, before.Get(f.GetName()), after.Get(f.GetName()), f.GetName())
			}
		}
		assert.True(t, after.GetDateTime("updated").After(before.GetDateTime("updated")), "updated is bumped")
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "student commenting updates the post's commentsCount alone",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Counted"}),
			Headers:         fixture.Headers(testkit.Student),
			BeforeTestFunc:  keep("posts", testkit.PostPublished),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"Counted"`},
			ExpectedEvents:  createThenAnnounce,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				after := findRecord(t, app, "posts", testkit.PostPublished)
				assert.Equal(t, 4, after.GetInt("commentsCount"))
				kept(t, after, "commentsCount")
			},
		},
		{
			Name:    "enrolled user reviewing updates the course's rating alone",
			Method:  http.MethodPost,
			URL:     reviewsURL,
			Body:    jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 2}),
			Headers: fixture.Headers(testkit.Author),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				enrol(t, app, testkit.CoursePublished2, testkit.UserAuthor)
				keep("courses", testkit.CoursePublished2)(t, app, e)
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"rating":2`},
			ExpectedEvents:  createThenAnnounce,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				after := findRecord(t, app, "courses", testkit.CoursePublished2)
				assert.Equal(t, 3.5, after.GetFloat("ratingAvg"))
				assert.Equal(t, 2, after.GetInt("ratingCount"))
				kept(t, after, "ratingAvg", "ratingCount")
			},
		},
		{
			Name:            "post author adding a hidden comment leaves the post alone",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Note to self", "status": "hidden"}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"hidden"`},
			ExpectedEvents:  createOnly,
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 3),
		},
	})
}

func TestParentAnnouncedOnceAfterCommit(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()
	_, err := apis.NewRouter(app) // binds PocketBase's realtime broadcast hooks
	require.NoError(t, err)
	guest := subscribe(t, app, "", "posts/*")

	// What the after-update hooks of the post see: they run outside the
	// transaction, and the count they read is committed.
	type seen struct {
		transactional bool
		count, stored int
	}
	var calls []seen
	app.OnRecordAfterUpdateSuccess("posts", "courses").BindFunc(func(e *core.RecordEvent) error {
		// the record announced is the record as stored, with nothing pending
		stored := findRecord(t, app, e.Record.Collection().Name, e.Record.Id)
		assert.Equal(t, stored.FieldsData(), e.Record.FieldsData())
		assert.Equal(t, stored.FieldsData(), e.Record.Original().FieldsData())
		assert.False(t, e.Record.IsNew())
		calls = append(calls, seen{e.App.IsTransactional(), e.Record.GetInt("commentsCount"), stored.GetInt("commentsCount")})
		return e.Next()
	})
	comment := func(tx core.App, body string) error {
		c, err := tx.FindCollectionByNameOrId("comments")
		require.NoError(t, err)
		r := core.NewRecord(c)
		r.Load(map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": body})
		return tx.Save(r)
	}

	// three comments in one transaction: one announcement, with all three counted
	require.NoError(t, app.RunInTransaction(func(tx core.App) error {
		for _, body := range []string{"one", "two", "three"} {
			if err := comment(tx, body); err != nil {
				return err
			}
		}
		assert.Empty(t, calls, "nothing is announced before the commit")
		return nil
	}))
	require.Equal(t, []seen{{false, 6, 6}}, calls)
	e := guest.await(t, "post update", about("update", testkit.PostPublished))
	assert.Equal(t, 6.0, e.Record["commentsCount"])

	// a transaction that rolls back announces nothing and counts nothing
	calls = nil
	err = app.RunInTransaction(func(tx core.App) error {
		if err := comment(tx, "four"); err != nil {
			return err
		}
		return errors.New("rolled back")
	})
	require.Error(t, err)
	assert.Empty(t, calls)
	assertCommentsCount(t, app, testkit.PostPublished, 6)
	n := 0
	for _, e := range guest.quiet() {
		if about("update", testkit.PostPublished)(e) {
			n++
		}
	}
	assert.Equal(t, 1, n, "post updates broadcast")

	// a post deleted in the transaction that commented on it is not announced
	calls = nil
	require.NoError(t, app.RunInTransaction(func(tx core.App) error {
		if err := comment(tx, "last words"); err != nil {
			return err
		}
		post, err := tx.FindRecordById("posts", testkit.PostPublished)
		require.NoError(t, err)
		return tx.Delete(post)
	}))
	assert.Empty(t, calls)

	// a course changed by an enrollment and a review in one transaction is announced once
	calls = nil
	require.NoError(t, app.RunInTransaction(func(tx core.App) error {
		enrol(t, tx, testkit.CoursePublished2, testkit.UserAuthor)
		newRecord(t, tx, "reviews", map[string]any{"course": testkit.CoursePublished2, "user": testkit.UserAuthor, "rating": 3})
		return nil
	}))
	require.Len(t, calls, 1)
	assertCourse(t, app, testkit.CoursePublished2, courseAggregates{RatingAvg: 4, RatingCount: 2, EnrollmentsCount: 2})
}

func TestCounterDriftIsFoundAndPutRight(t *testing.T) {
	// A create adds one to the stored count, so a drift left by a write that
	// bypassed the hooks survives it; check-counters finds it, and a status
	// change, a delete or a save of the post recounts.
	app := fixture.NewApp(t)
	defer app.Cleanup()
	_, err := app.DB().NewQuery("UPDATE posts SET commentsCount = 10 WHERE id = {:id}").
		Bind(map[string]any{"id": testkit.PostPublished}).Execute()
	require.NoError(t, err)

	r := newRecord(t, app, "comments", map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "x"})
	assert.Equal(t, 11, findRecord(t, app, "posts", testkit.PostPublished).GetInt("commentsCount"))
	drifts, err := hooks.CheckCounters(app, false)
	require.NoError(t, err)
	require.Len(t, drifts, 1)
	assert.Equal(t, hooks.Drift{Collection: "posts", RecordID: testkit.PostPublished, Field: "commentsCount", Stored: 11, Want: 4}, drifts[0])

	require.NoError(t, app.Delete(r))
	assertCommentsCount(t, app, testkit.PostPublished, 3)
	drifts, err = hooks.CheckCounters(app, false)
	require.NoError(t, err)
	assert.Empty(t, drifts)
}

func TestCourseRatingComputedInSQLMatchesRatingAvg(t *testing.T) {
	// The rating UPDATE computes the mean in SQL; for every sum of n ratings
	// (n up to 12, and a few large n) it must store what RatingAvg returns,
	// the half-up rounding at .x5 included, as PocketBase then loads it.
	app := fixture.NewApp(t)
	defer app.Cleanup()
	review := findRecord(t, app, "reviews", testkit.ReviewStudent)
	exec := func(q string, params dbx.Params) {
		t.Helper()
		_, err := app.NonconcurrentDB().NewQuery(q).Bind(params).Execute()
		require.NoError(t, err)
	}
	check := func(n, sum int) {
		t.Helper()
		// n ratings adding up to sum: each 1 plus a share of the rest
		ratings := make([]int, n)
		rest := sum - n
		for i := range ratings {
			ratings[i] = 1 + min(4, rest)
			rest -= ratings[i] - 1
		}
		exec("DELETE FROM reviews WHERE course = {:c} AND id != {:id}", dbx.Params{"c": testkit.CoursePublished, "id": review.Id})
		for i, r := range ratings[1:] {
			exec("INSERT INTO reviews (id, course, user, rating, body, created, updated) VALUES ({:id}, {:c}, {:u}, {:r}, '', '', '')",
				dbx.Params{"id": fmt.Sprintf("rsql%011d", i), "c": testkit.CoursePublished, "u": fmt.Sprintf("usql%011d", i), "r": r})
		}
		// a different stored rating, so the save changes it and rates the course
		exec("UPDATE reviews SET rating = {:r} WHERE id = {:id}", dbx.Params{"r": ratings[0]%5 + 1, "id": review.Id})
		review.Set("rating", ratings[0])
		require.NoError(t, app.Save(review))
		course := findRecord(t, app, "courses", testkit.CoursePublished)
		require.Equal(t, hooks.RatingAvg(sum, n), course.GetFloat("ratingAvg"), "%d ratings adding up to %d", n, sum)
		require.Equal(t, n, course.GetInt("ratingCount"))
	}
	for n := 1; n <= 12; n++ {
		for sum := n; sum <= 5*n; sum++ {
			check(n, sum)
		}
	}
	for _, c := range [][2]int{{55, 256}, {200, 930}, {200, 931}, {1000, 4650}, {1000, 4649}} {
		check(c[0], c[1])
	}
}
