package hooks_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/hooks"
	"lectern/internal/testkit"
)

func TestCheckCounters(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()

	drifts, err := hooks.CheckCounters(app, false)
	require.NoError(t, err)
	require.Empty(t, drifts, "the fixture is written through the hooks")

	// Writes that bypass the hooks, as a restored backup or a hand-run SQL fix would.
	for _, q := range []string{
		`UPDATE posts SET commentsCount = 99 WHERE id = '` + testkit.PostPublished + `'`,
		`DELETE FROM comments WHERE id = '` + testkit.CommentOther + `'`,
		`UPDATE courses SET ratingAvg = 1.2, ratingCount = 7 WHERE id = '` + testkit.CoursePublished + `'`,
		`UPDATE enrollments SET status = 'cancelled' WHERE id = '` + testkit.EnrollmentOther + `'`,
		`UPDATE enrollments SET progress = 0 WHERE id = '` + testkit.EnrollmentStudent + `'`,
	} {
		_, err := app.DB().NewQuery(q).Execute()
		require.NoError(t, err, q)
	}
	want := []hooks.Drift{
		{Collection: "posts", RecordID: testkit.PostPublished, Field: "commentsCount", Stored: 99, Want: 3},
		{Collection: "posts", RecordID: testkit.PostPublished2, Field: "commentsCount", Stored: 1, Want: 0},
		{Collection: "courses", RecordID: testkit.CoursePublished, Field: "ratingAvg", Stored: 1.2, Want: 4},
		{Collection: "courses", RecordID: testkit.CoursePublished, Field: "ratingCount", Stored: 7, Want: 1},
		{Collection: "courses", RecordID: testkit.CoursePublished2, Field: "enrollmentsCount", Stored: 1, Want: 0},
		{Collection: "enrollments", RecordID: testkit.EnrollmentStudent, Field: "progress", Stored: 0, Want: 50},
	}

	drifts, err = hooks.CheckCounters(app, false)
	require.NoError(t, err)
	assert.ElementsMatch(t, want, drifts)
	assert.Equal(t, 99, findRecord(t, app, "posts", testkit.PostPublished).GetInt("commentsCount"), "a check alone changes nothing")
	assert.Equal(t, "posts/"+testkit.PostPublished+" commentsCount: stored 99, want 3", want[0].String())

	drifts, err = hooks.CheckCounters(app, true)
	require.NoError(t, err)
	assert.ElementsMatch(t, want, drifts, "repair reports what it repaired")

	drifts, err = hooks.CheckCounters(app, false)
	require.NoError(t, err)
	assert.Empty(t, drifts, "repaired")
	assertCommentsCount(t, app, testkit.PostPublished, 3)
	assertCommentsCount(t, app, testkit.PostPublished2, 0)
	assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})
	assertCourse(t, app, testkit.CoursePublished2, courseAggregates{RatingAvg: 5, RatingCount: 1, EnrollmentsCount: 0})
	assertEnrollment(t, app, testkit.EnrollmentStudent, 50, "active")
}
