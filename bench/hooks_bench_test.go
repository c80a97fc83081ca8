package main

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/testkit"
)

// The write paths in process, without HTTP: the same create through
// app.Save on a test app with Lectern's hooks and on a bare one (the schema
// alone), so their ratio is the hooks' own cost.
//
//	go test -run '^$' -bench . ./bench

var (
	hooksFixtureOnce sync.Once
	hooksFixture     *testkit.Fixture
	hooksFixtureErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if hooksFixture != nil {
		os.RemoveAll(hooksFixture.Dir)
	}
	os.Exit(code)
}

// benchApp clones the hooks' test fixture; with hooks, Lectern's are bound.
func benchApp(b *testing.B, withHooks bool) *tests.TestApp {
	b.Helper()
	hooksFixtureOnce.Do(func() { hooksFixture, hooksFixtureErr = testkit.Build() })
	if hooksFixtureErr != nil {
		b.Fatal(hooksFixtureErr)
	}
	if withHooks {
		app := hooksFixture.NewApp(b)
		b.Cleanup(app.Cleanup)
		return app
	}
	app, err := tests.NewTestApp(hooksFixture.Dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(app.Cleanup)
	return app
}

func collection(b *testing.B, app core.App, name string) *core.Collection {
	b.Helper()
	c, err := app.FindCollectionByNameOrId(name)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkCommentCreate is W1's write: a comment on a published post, which
// with Lectern's hooks also re-saves the post with its recounted
// commentsCount in the same transaction.
func BenchmarkCommentCreate(b *testing.B) {
	for _, withHooks := range []bool{true, false} {
		b.Run(map[bool]string{true: "lectern", false: "bare"}[withHooks], func(b *testing.B) {
			app := benchApp(b, withHooks)
			comments := collection(b, app, "comments")
			i := 0
			for b.Loop() {
				r := core.NewRecord(comments)
				r.Load(map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent,
					"status": "visible", "body": fmt.Sprintf("Comment %d, thanks for the clear explanation.", i)})
				if err := app.Save(r); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkReviewRerate is the rating aggregate's update path: a review's
// rating changes, and with Lectern's hooks the course's ratingAvg and
// ratingCount are recomputed and saved in the same transaction.
func BenchmarkReviewRerate(b *testing.B) {
	for _, withHooks := range []bool{true, false} {
		b.Run(map[bool]string{true: "lectern", false: "bare"}[withHooks], func(b *testing.B) {
			app := benchApp(b, withHooks)
			review, err := app.FindRecordById("reviews", testkit.ReviewStudent)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				review.Set("rating", 4+i%2)
				if err := app.Save(review); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkReviewCreateDelete is W2's write and its undo: an enrolled
// student reviews a course, then the review is deleted; with Lectern's hooks
// each checks the enrollment (create) and recomputes the course's rating.
func BenchmarkReviewCreateDelete(b *testing.B) {
	for _, withHooks := range []bool{true, false} {
		b.Run(map[bool]string{true: "lectern", false: "bare"}[withHooks], func(b *testing.B) {
			app := benchApp(b, withHooks)
			if old, err := app.FindRecordById("reviews", testkit.ReviewStudent); err == nil {
				if err := app.Delete(old); err != nil {
					b.Fatal(err)
				}
			}
			reviews := collection(b, app, "reviews")
			for b.Loop() {
				r := core.NewRecord(reviews)
				r.Load(map[string]any{"course": testkit.CoursePublished, "user": testkit.UserStudent,
					"rating": 5, "body": "Well paced, good exercises."})
				if err := app.Save(r); err != nil {
					b.Fatal(err)
				}
				if err := app.Delete(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
