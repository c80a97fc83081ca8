package seed_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/hooks"
	"lectern/internal/seed"
)

// small is a data set big enough to have threads, several batches and
// popular courses, and small enough to seed in well under a second.
func small(s uint64) seed.Options {
	o := seed.DefaultOptions()
	o.Seed = s
	o.Users = 30
	o.Posts = 40
	o.Comments = 150
	o.Courses = 6
	o.Enrollments = 40
	o.Reviews = 25
	o.BatchSize = 16 // several transactions per collection
	return o
}

func newApp(t *testing.T) *tests.TestApp {
	t.Helper()
	app, err := tests.NewTestApp(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(app.Cleanup)
	hooks.Register(app)
	return app
}

func seeded(t *testing.T, opts seed.Options) (*tests.TestApp, *seed.Summary) {
	t.Helper()
	app := newApp(t)
	sum, err := seed.Run(app, opts)
	require.NoError(t, err)
	return app, sum
}

func count(t *testing.T, app core.App, collection string) int {
	t.Helper()
	n, err := app.CountRecords(collection)
	require.NoError(t, err)
	return int(n)
}

func TestSeedCounts(t *testing.T) {
	opts := small(1)
	app, sum := seeded(t, opts)

	want := map[string]int{
		"users": opts.Users, "topics": 12, "posts": opts.Posts, "comments": opts.Comments,
		"courses": opts.Courses, "enrollments": opts.Enrollments, "reviews": opts.Reviews,
	}
	for name, n := range want {
		assert.Equal(t, n, count(t, app, name), name)
		assert.Equal(t, n, sum.Counts[name], "summary of %s", name)
	}
	assert.Empty(t, sum.Notes, "nothing capped at these sizes")

	// 3–12 lessons per course, positions 1..n, the first one or two free previews.
	lessons := count(t, app, "lessons")
	assert.Equal(t, lessons, sum.Counts["lessons"])
	assert.GreaterOrEqual(t, lessons, 3*opts.Courses)
	assert.LessOrEqual(t, lessons, 12*opts.Courses)
	courses, err := app.FindAllRecords("courses")
	require.NoError(t, err)
	for _, c := range courses {
		ls, err := app.FindRecordsByFilter("lessons", "course = {:c}", "position", 0, 0, dbx.Params{"c": c.Id})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(ls), 3)
		for i, l := range ls {
			assert.Equal(t, i+1, l.GetInt("position"), "course %s", c.Id)
		}
		assert.True(t, ls[0].GetBool("freePreview"))
		assert.False(t, ls[2].GetBool("freePreview"))
	}

	// Every role is represented.
	for _, role := range []string{"student", "author", "instructor", "admin"} {
		n, err := app.CountRecords("users", dbx.HashExp{"role": role})
		require.NoError(t, err)
		assert.Positive(t, n, role)
	}
	// Every post status, mostly published.
	published, err := app.CountRecords("posts", dbx.HashExp{"status": "published"})
	require.NoError(t, err)
	assert.Greater(t, int(published), opts.Posts/2)
}

func TestSeedIsDeterministic(t *testing.T) {
	type row struct{ ID, Title, Slug string }
	rows := func(app core.App, collection, field string) []row {
		var out []row
		require.NoError(t, app.DB().Select("id", field+" AS title", "slug").From(collection).
			OrderBy("id").All(&out))
		return out
	}
	texts := func(app core.App, collection, field string) []string {
		var out []string
		require.NoError(t, app.DB().Select(field).From(collection).OrderBy("id").Column(&out))
		return out
	}

	a, _ := seeded(t, small(42))
	b, _ := seeded(t, small(42))
	c, _ := seeded(t, small(43))

	for _, col := range []struct{ name, field string }{{"posts", "title"}, {"courses", "title"}, {"topics", "name"}} {
		ra := rows(a, col.name, col.field)
		require.NotEmpty(t, ra)
		assert.Equal(t, ra, rows(b, col.name, col.field), "%s: same seed, same ids, titles and slugs", col.name)
		assert.NotEqual(t, ra, rows(c, col.name, col.field), "%s: another seed, another data set", col.name)
	}
	for _, col := range []struct{ name, field string }{
		{"users", "email"}, {"comments", "body"}, {"lessons", "title"}, {"enrollments", "progress"}, {"reviews", "rating"},
	} {
		assert.Equal(t, texts(a, col.name, col.field), texts(b, col.name, col.field), col.name)
	}
}

func TestSeedDerivedValues(t *testing.T) {
	app, _ := seeded(t, small(7))

	// commentsCount is the number of visible comments, replies included.
	var posts []struct {
		ID       string `db:"id"`
		Stored   int    `db:"commentsCount"`
		Visible  int    `db:"visible"`
		Slug     string `db:"slug"`
		Excerpt  string `db:"excerpt"`
		Minutes  int    `db:"readingMinutes"`
		Comments int    `db:"comments"`
	}
	require.NoError(t, app.DB().NewQuery(`SELECT p.id, p.commentsCount, p.slug, p.excerpt, p.readingMinutes,
		(SELECT COUNT(*) FROM comments c WHERE c.post = p.id AND c.status = 'visible') AS visible,
		(SELECT COUNT(*) FROM comments c WHERE c.post = p.id) AS comments
		FROM posts p`).All(&posts))
	withComments := 0
	for _, p := range posts {
		assert.Equal(t, p.Visible, p.Stored, "post %s commentsCount", p.ID)
		assert.NotEmpty(t, p.Slug, "post %s slug derived", p.ID)
		assert.NotEmpty(t, p.Excerpt, "post %s excerpt derived", p.ID)
		assert.Positive(t, p.Minutes, "post %s readingMinutes", p.ID)
		if p.Comments > 0 {
			withComments++
		}
	}
	assert.Positive(t, withComments)

	// Comments only on published posts, replies on the same post, at most 3 deep,
	// and some moderated ones.
	comments, err := app.FindAllRecords("comments")
	require.NoError(t, err)
	byID := map[string]*core.Record{}
	for _, c := range comments {
		byID[c.Id] = c
	}
	replies, moderated := 0, 0
	for _, c := range comments {
		post, err := app.FindRecordById("posts", c.GetString("post"))
		require.NoError(t, err)
		assert.Equal(t, "published", post.GetString("status"))
		if c.GetString("status") != "visible" {
			moderated++
		}
		depth := 0
		for p := byID[c.GetString("parent")]; p != nil; p = byID[p.GetString("parent")] {
			assert.Equal(t, c.GetString("post"), p.GetString("post"), "reply %s on its parent's post", c.Id)
			depth++
		}
		assert.LessOrEqual(t, depth, hooks.MaxCommentDepth)
		if depth > 0 {
			replies++
		}
	}
	assert.Positive(t, replies, "threads have replies")
	assert.Positive(t, moderated, "some comments are hidden or flagged")

	// ratingAvg/ratingCount follow the reviews, enrollmentsCount the active and completed enrollments.
	var courses []struct {
		ID          string  `db:"id"`
		Avg         float64 `db:"ratingAvg"`
		Count       int     `db:"ratingCount"`
		Enrolled    int     `db:"enrollmentsCount"`
		Sum         int     `db:"sum"`
		Reviews     int     `db:"reviews"`
		WantEnrolls int     `db:"wantEnrolled"`
	}
	require.NoError(t, app.DB().NewQuery(`SELECT k.id, k.ratingAvg, k.ratingCount, k.enrollmentsCount,
		(SELECT COALESCE(SUM(rating), 0) FROM reviews r WHERE r.course = k.id) AS sum,
		(SELECT COUNT(*) FROM reviews r WHERE r.course = k.id) AS reviews,
		(SELECT COUNT(*) FROM enrollments e WHERE e.course = k.id AND e.status IN ('active', 'completed')) AS wantEnrolled
		FROM courses k`).All(&courses))
	rated := 0
	for _, c := range courses {
		assert.Equal(t, c.Reviews, c.Count, "course %s ratingCount", c.ID)
		want := 0.0
		if c.Reviews > 0 {
			want = math.Floor(10*float64(c.Sum)/float64(c.Reviews)+0.5) / 10
			rated++
		}
		assert.InDelta(t, want, c.Avg, 1e-9, "course %s ratingAvg", c.ID)
		assert.Equal(t, c.WantEnrolls, c.Enrolled, "course %s enrollmentsCount", c.ID)
	}
	assert.Positive(t, rated)

	// Every review's author has an active or completed enrollment in the course.
	reviews, err := app.FindAllRecords("reviews")
	require.NoError(t, err)
	for _, r := range reviews {
		e, err := app.FindFirstRecordByFilter("enrollments", "course = {:c} && user = {:u}",
			dbx.Params{"c": r.GetString("course"), "u": r.GetString("user")})
		require.NoError(t, err, "review %s has an enrollment", r.Id)
		assert.Contains(t, []string{"active", "completed"}, e.GetString("status"), "review %s", r.Id)
	}

	// progress = round(100 × completed / lessons); 100% active means completed.
	enrollments, err := app.FindAllRecords("enrollments")
	require.NoError(t, err)
	statuses := map[string]int{}
	for _, e := range enrollments {
		total, err := app.CountRecords("lessons", dbx.HashExp{"course": e.GetString("course")})
		require.NoError(t, err)
		done := len(e.GetStringSlice("completedLessons"))
		assert.Equal(t, hooks.Progress(done, int(total)), e.GetInt("progress"), "enrollment %s", e.Id)
		if e.GetInt("progress") == 100 {
			assert.NotEqual(t, "active", e.GetString("status"), "enrollment %s", e.Id)
		}
		statuses[e.GetString("status")]++
	}
	assert.Positive(t, statuses["active"])
	assert.Positive(t, statuses["completed"])
}

func TestSeedDemoLogins(t *testing.T) {
	opts := small(1)
	opts.Password = "another-demo-pass"
	app, _ := seeded(t, opts)

	for _, role := range []string{"student", "author", "instructor", "admin"} {
		u, err := app.FindAuthRecordByEmail("users", seed.DemoEmail(role))
		require.NoError(t, err, role)
		assert.Equal(t, role, u.GetString("role"))
		assert.True(t, u.Verified(), role)
		assert.False(t, u.EmailVisibility(), role)
		assert.True(t, u.ValidatePassword(opts.Password), "%s logs in with --password", role)
		assert.False(t, u.ValidatePassword(seed.DefaultPassword), role)
	}

	// The demo accounts have something to look at.
	student, _ := app.FindAuthRecordByEmail("users", seed.DemoEmail("student"))
	n, err := app.CountRecords("enrollments", dbx.HashExp{"user": student.Id})
	require.NoError(t, err)
	assert.Positive(t, n, "demo student's enrollments")
	author, _ := app.FindAuthRecordByEmail("users", seed.DemoEmail("author"))
	n, err = app.CountRecords("posts", dbx.HashExp{"author": author.Id, "status": "draft"})
	require.NoError(t, err)
	assert.Positive(t, n, "demo author's drafts")
	instructor, _ := app.FindAuthRecordByEmail("users", seed.DemoEmail("instructor"))
	n, err = app.CountRecords("courses", dbx.HashExp{"instructor": instructor.Id})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, int(n), 2, "demo instructor's courses")
}

func TestSeedCapsImpossibleRequests(t *testing.T) {
	opts := small(1)
	opts.Enrollments = 10
	opts.Reviews = 50 // more than there are enrollments to review from
	app, sum := seeded(t, opts)

	reviews := count(t, app, "reviews")
	assert.Less(t, reviews, 50)
	assert.Equal(t, reviews, sum.Counts["reviews"])
	require.Len(t, sum.Notes, 1)
	assert.Contains(t, sum.Notes[0], "reviews capped")
}

func TestCommand(t *testing.T) {
	app := newApp(t)
	run := func(args ...string) (string, error) {
		cmd := seed.NewCommand(app)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append([]string{"--users", "12", "--posts", "10", "--comments", "20", "--courses", "3",
			"--enrollments", "8", "--reviews", "4"}, args...))
		err := cmd.Execute()
		return out.String(), err
	}

	out, err := run()
	require.NoError(t, err)
	assert.Contains(t, out, "student@lectern.dev")
	assert.Contains(t, out, `"lectern-demo"`)
	assert.Contains(t, out, "superuser upsert EMAIL PASSWORD")
	assert.Equal(t, 10, count(t, app, "posts"))

	_, err = run("--posts", "5")
	require.Error(t, err, "a data dir with posts is refused")
	assert.Contains(t, err.Error(), "--force")
	assert.Equal(t, 10, count(t, app, "posts"), "nothing written")

	_, err = run("--posts", "5", "--force")
	require.NoError(t, err)
	assert.Equal(t, 5, count(t, app, "posts"), "--force replaces the data set")
	assert.Equal(t, 12, count(t, app, "users"))

	_, err = run("--users", "3")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--users")

	// sizes are checked up front, naming the flag, before anything is planned or written
	for args, want := range map[[2]string]string{
		{"--posts", "-1"}:          "--posts -1: a count cannot be negative",
		{"--comments", "-5"}:       "--comments -5: a count cannot be negative",
		{"--posts", "2000000000"}:  "--posts 2000000000 is above seed's limit of 100000",
		{"--reviews", "100000000"}: "--reviews 100000000 is above seed's limit of 100000",
		{"--batch", "0"}:           "--batch must be at least 1",
	} {
		_, err = run(args[0], args[1], "--force")
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, 5, count(t, app, "posts"), "nothing written")

	// progress starts at once, before the first record
	var progress bytes.Buffer
	opts := seed.DefaultOptions()
	opts.Users, opts.Posts, opts.Comments, opts.Courses, opts.Enrollments, opts.Reviews = 8, 3, 3, 1, 1, 1
	opts.Progress = &progress
	require.NoError(t, seed.Wipe(app))
	_, err = seed.Run(app, opts)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(progress.String(), "seed: writing 8 users, 3 posts, 3 comments"), progress.String())
}
