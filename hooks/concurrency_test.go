package hooks_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/hooks"
	"lectern/internal/testkit"
)

// TestConcurrentWritesKeepCountersExact hammers one app from many goroutines
// with the writes that move derived values - comments and replies created,
// hidden, shown and deleted, enrollments created and flipped between active
// and cancelled, lessons completed, reviews created, re-rated and deleted,
// lessons added and removed, a moderator and an admin changing the same rows
// from copies that go stale - and then checks every counter, rating and
// progress against a fresh recount.
func TestConcurrentWritesKeepCountersExact(t *testing.T) {
	const workers, rounds = 8, 25

	app := fixture.NewApp(t)
	defer app.Cleanup()

	users := []string{
		testkit.UserStudent, testkit.UserStudent2, testkit.UserAuthor, testkit.UserAuthor2,
		testkit.UserInstructor, testkit.UserInstr2, testkit.UserAdmin,
	}
	for len(users) < workers {
		u := newRecord(t, app, "users", map[string]any{
			"email": fmt.Sprintf("load%d@lectern.test", len(users)), "name": "Load", "password": testkit.Password,
		})
		users = append(users, u.Id)
	}
	posts := []string{testkit.PostPublished, testkit.PostPublished2}
	courses := []string{testkit.CoursePublished, testkit.CoursePublished2}

	start := time.Now()
	errs := make(chan error, workers*rounds*8+rounds)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			(&loadWorker{app: app, user: users[w], rng: rand.New(rand.NewPCG(uint64(w), 42)), errs: errs}).
				run(rounds, posts, courses)
		})
	}
	// the instructor adds and removes lessons meanwhile, re-deriving progress
	wg.Go(func() {
		var added []*core.Record
		for i := range rounds {
			if len(added) > 0 && i%3 == 2 {
				errs <- app.Delete(added[0])
				added = added[1:]
				continue
			}
			l := core.NewRecord(mustCollection(app, "lessons"))
			l.Load(map[string]any{"course": testkit.CoursePublished, "title": "Extra", "position": 100 + i})
			errs <- app.Save(l)
			added = append(added, l)
		}
	})
	// a moderator and an admin change other people's records from copies
	// that other writers may change between the load and the save
	for _, o := range []struct {
		collection string
		statuses   []string
	}{
		{"comments", []string{"visible", "hidden", "flagged"}},
		{"enrollments", []string{"active", "cancelled"}},
	} {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(7, uint64(len(o.collection))))
			for range rounds * 2 {
				var ids []string
				if err := app.DB().Select("id").From(o.collection).Column(&ids); err != nil || len(ids) == 0 {
					errs <- err
					continue
				}
				r, err := app.FindRecordById(o.collection, ids[rng.IntN(len(ids))])
				if err != nil {
					continue // deleted meanwhile
				}
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
				r.Set("status", o.statuses[rng.IntN(len(o.statuses))])
				err = app.Save(r)
				if _, gone := app.FindRecordById(o.collection, r.Id); err != nil && gone != nil {
					continue // deleted meanwhile (a reply whose parent went): the API's 404
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d workers × %d rounds in %s", workers, rounds, time.Since(start))

	for _, p := range posts {
		assertCommentsCount(t, app, p, countRows(t, app, "comments", "post = {:p} AND status = 'visible'", dbx.Params{"p": p}))
	}
	for _, c := range courses {
		assertCourse(t, app, c, freshCourseAggregates(t, app, c))
	}
	drifts, err := hooks.CheckCounters(app, false)
	require.NoError(t, err)
	assert.Empty(t, drifts)

	// the load did happen
	assert.Greater(t, countRows(t, app, "comments", "body LIKE 'load %'", nil), 0)
	assert.Greater(t, countRows(t, app, "reviews", "1=1", nil), 2)
}

// loadWorker is one user writing through the app; it tracks its own records
// so every write it makes is valid and the only contention is the shared
// posts and courses.
type loadWorker struct {
	app      core.App
	user     string
	rng      *rand.Rand
	errs     chan<- error
	comments []*core.Record          // own comments, oldest first
	enrolled map[string]*core.Record // course → own enrollment
	reviews  map[string]*core.Record // course → own review
}

func (w *loadWorker) run(rounds int, posts, courses []string) {
	w.enrolled = map[string]*core.Record{}
	w.reviews = map[string]*core.Record{}
	// the fixture's own enrollments and reviews of this user are theirs to change
	for _, c := range courses {
		if e, err := w.app.FindFirstRecordByFilter("enrollments", "course = {:c} && user = {:u}",
			dbx.Params{"c": c, "u": w.user}); err == nil {
			w.enrolled[c] = e
		}
		if r, err := w.app.FindFirstRecordByFilter("reviews", "course = {:c} && user = {:u}",
			dbx.Params{"c": c, "u": w.user}); err == nil {
			w.reviews[c] = r
		}
	}
	for i := range rounds {
		post := posts[w.rng.IntN(len(posts))]
		course := courses[w.rng.IntN(len(courses))]
		w.comment(post, i)
		w.moderateOrDelete()
		w.enrol(course)
		w.review(course)
	}
}

func (w *loadWorker) save(r *core.Record) bool {
	err := w.app.Save(r)
	w.errs <- err
	return err == nil
}

func (w *loadWorker) comment(post string, i int) {
	c := core.NewRecord(mustCollection(w.app, "comments"))
	c.Load(map[string]any{"post": post, "author": w.user, "body": fmt.Sprintf("load %s %d", w.user, i)})
	// reply to an own comment on the same post now and then (depth ≤ 1)
	for _, parent := range w.comments {
		if parent.GetString("post") == post && parent.GetString("parent") == "" && w.rng.IntN(3) == 0 {
			c.Set("parent", parent.Id)
			break
		}
	}
	if w.rng.IntN(4) == 0 {
		c.Set("status", "hidden")
	}
	if w.save(c) {
		w.comments = append(w.comments, c)
	}
}

func (w *loadWorker) moderateOrDelete() {
	if len(w.comments) == 0 {
		return
	}
	i := w.rng.IntN(len(w.comments))
	c := w.comments[i]
	if w.rng.IntN(2) == 0 {
		status := "visible"
		if c.GetString("status") == "visible" {
			status = []string{"hidden", "flagged"}[w.rng.IntN(2)]
		}
		c.Set("status", status)
		w.save(c)
		return
	}
	err := w.app.Delete(c)
	w.errs <- err
	if err != nil {
		return
	}
	// the delete took its replies with it
	kept := w.comments[:0]
	for _, other := range w.comments {
		if other.Id != c.Id && other.GetString("parent") != c.Id {
			kept = append(kept, other)
		}
	}
	w.comments = kept
}

func (w *loadWorker) enrol(course string) {
	e, ok := w.enrolled[course]
	if !ok {
		e = core.NewRecord(mustCollection(w.app, "enrollments"))
		e.Load(map[string]any{"course": course, "user": w.user})
		if w.save(e) {
			w.enrolled[course] = e
		}
		return
	}
	switch w.rng.IntN(3) {
	case 0: // flip between cancelled and active
		if e.GetString("status") == "cancelled" {
			e.Set("status", "active")
		} else {
			e.Set("status", "cancelled")
		}
	case 1: // complete a lesson of the course (the fixture's own lessons are never removed)
		lesson := map[string]string{testkit.CoursePublished: testkit.LessonFree, testkit.CoursePublished2: testkit.LessonOther}[course]
		e.Set("completedLessons+", lesson)
	default: // forget completed lessons
		e.Set("completedLessons", []string{})
	}
	w.save(e)
}

func (w *loadWorker) review(course string) {
	r, ok := w.reviews[course]
	switch {
	case ok && w.rng.IntN(3) == 0:
		err := w.app.Delete(r)
		w.errs <- err
		if err == nil {
			delete(w.reviews, course)
		}
	case ok:
		r.Set("rating", 1+w.rng.IntN(5))
		w.save(r)
	default:
		// a review needs an active or completed enrollment at create
		e, enrolled := w.enrolled[course]
		if !enrolled || e.GetString("status") == "cancelled" {
			return
		}
		r = core.NewRecord(mustCollection(w.app, "reviews"))
		r.Load(map[string]any{"course": course, "user": w.user, "rating": 1 + w.rng.IntN(5)})
		err := w.app.Save(r)
		var invalid validation.Errors
		if errors.As(err, &invalid) && invalid["course"] != nil {
			return // the admin cancelled the enrollment meanwhile: the API's 400
		}
		w.errs <- err
		if err == nil {
			w.reviews[course] = r
		}
	}
}

func mustCollection(app core.App, name string) *core.Collection {
	c, err := app.FindCachedCollectionByNameOrId(name)
	if err != nil {
		panic(err)
	}
	return c
}

// TestStaleCopiesKeepCountersExact covers two writers of one record: each
// loaded it, the first changes what a counter depends on, the second then
// saves its older copy. That is what two overlapping API requests do (a
// moderator hiding a comment while its author edits it: the edit request
// loaded the comment before the hide committed). Whatever the second write
// stores, the counters must describe it.
func TestStaleCopiesKeepCountersExact(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()

	// comment: hidden by the moderator's copy, then re-saved visible by the author's
	moderator := findRecord(t, app, "comments", testkit.CommentVisible)
	author := findRecord(t, app, "comments", testkit.CommentVisible)
	moderator.Set("status", "hidden")
	require.NoError(t, app.Save(moderator))
	author.Set("body", "edited meanwhile")
	require.NoError(t, app.Save(author))
	assertCommentsCount(t, app, testkit.PostPublished, 3)

	// enrollment: cancelled by an admin's copy, then re-saved active by the student's
	admin := findRecord(t, app, "enrollments", testkit.EnrollmentStudent)
	student := findRecord(t, app, "enrollments", testkit.EnrollmentStudent)
	admin.Set("status", "cancelled")
	require.NoError(t, app.Save(admin))
	student.Set("completedLessons", []string{})
	require.NoError(t, app.Save(student))
	assertEnrollment(t, app, testkit.EnrollmentStudent, 0, "active")
	assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})

	// review: re-rated by one copy, then the other copy's body edit restores the old rating
	first := findRecord(t, app, "reviews", testkit.ReviewStudent)
	second := findRecord(t, app, "reviews", testkit.ReviewStudent)
	first.Set("rating", 1)
	require.NoError(t, app.Save(first))
	second.Set("body", "edited meanwhile")
	require.NoError(t, app.Save(second))
	assertCourse(t, app, testkit.CoursePublished, courseAggregates{RatingAvg: 4, RatingCount: 1, EnrollmentsCount: 1})

	drifts, err := hooks.CheckCounters(app, false)
	require.NoError(t, err)
	assert.Empty(t, drifts)
}

// TestConcurrentSlugDerivation creates posts with one title from many
// goroutines: each derivation runs in its writer's transaction, so every post
// gets its own suffix instead of a unique-index 400.
func TestConcurrentSlugDerivation(t *testing.T) {
	const n = 12
	app := fixture.NewApp(t)
	defer app.Cleanup()

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			p := core.NewRecord(mustCollection(app, "posts"))
			p.Load(map[string]any{"title": "Same Title", "author": testkit.UserAuthor})
			errs <- app.Save(p)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var slugs []string
	require.NoError(t, app.DB().Select("slug").From("posts").Where(dbx.HashExp{"title": "Same Title"}).Column(&slugs))
	want := []string{"same-title"}
	for i := 2; i <= n; i++ {
		want = append(want, fmt.Sprintf("same-title-%d", i))
	}
	assert.ElementsMatch(t, want, slugs)
}
