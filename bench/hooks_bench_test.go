package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/testkit"
)

// The write paths in process: the same create through app.Save (and, for
// comments, through the API handler, request hooks and rules included) on a
// test app with Lectern's hooks and on a bare one (the schema alone), so
// their ratio is the hooks' own cost. Besides wall time each reports
// cpu-ns/op, the process's CPU time per operation (all threads: SQLite, GC),
// which is what the whole-server bench compares and what background load on
// a shared machine disturbs least.
//
//	go test -run '^$' -bench . -count 5 ./bench

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
func benchApp(b testing.TB, withHooks bool) *tests.TestApp {
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

// processCPU is the CPU time the process has used, user and system, in ns.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// reportCPU starts counting CPU time; the func it returns, called after the
// b.Loop loop, reports it per iteration.
func reportCPU(b *testing.B) func() {
	start := processCPU(b)
	return func() { b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op") }
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
// with Lectern's hooks also adds one to the post's commentsCount in the same
// transaction.
func BenchmarkCommentCreate(b *testing.B) {
	for _, withHooks := range []bool{true, false} {
		b.Run(map[bool]string{true: "lectern", false: "bare"}[withHooks], func(b *testing.B) {
			app := benchApp(b, withHooks)
			comments := collection(b, app, "comments")
			i := 0
			defer reportCPU(b)()
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
// ratingCount are recomputed in the same transaction.
func BenchmarkReviewRerate(b *testing.B) {
	for _, withHooks := range []bool{true, false} {
		b.Run(map[bool]string{true: "lectern", false: "bare"}[withHooks], func(b *testing.B) {
			app := benchApp(b, withHooks)
			review, err := app.FindRecordById("reviews", testkit.ReviewStudent)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			defer reportCPU(b)()
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
			defer reportCPU(b)()
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

// BenchmarkCommentCreateAPI is W1's request without the network: a signed-in
// student's POST /api/collections/comments/records through the app's router
// (PocketBase's middlewares, the request hooks and guards, the create rule,
// then the model hooks). Rate limits are off on both apps: every request
// comes from one client. Test apps run PocketBase's synchronous=NORMAL;
// lectern-syncfull switches the write connection to the FULL that Lectern's
// data.db uses (main.go), so the difference is what FULL costs.
func BenchmarkCommentCreateAPI(b *testing.B) {
	for _, variant := range []string{"lectern", "lectern-syncfull", "bare"} {
		withHooks := variant != "bare"
		b.Run(variant, func(b *testing.B) {
			_, mux := apiBenchApp(b, variant)
			i := 0
			defer reportCPU(b)()
			for b.Loop() {
				body := fmt.Sprintf(`{"post":%q,"body":"Comment %d, thanks for the clear explanation."}`, testkit.PostPublished, i)
				if !withHooks {
					// bare PocketBase trusts the client with what Lectern's guards set
					body = fmt.Sprintf(`{"post":%q,"author":%q,"status":"visible","body":"Comment %d, thanks for the clear explanation."}`,
						testkit.PostPublished, testkit.UserStudent, i)
				}
				if rec := postAsStudent(mux, "/api/collections/comments/records", body); rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				i++
			}
		})
	}
}

// BenchmarkReviewCreateAPI is W2's request without the network: the
// enrolled student's POST /api/collections/reviews/records through the app's
// router, as BenchmarkCommentCreateAPI. One review per (course, user), so
// each iteration's review is removed afterwards by a plain DELETE (no hooks,
// the same on both apps), outside the timer and the CPU count; Lectern's
// aggregate is computed in the create's transaction either way.
func BenchmarkReviewCreateAPI(b *testing.B) {
	for _, variant := range []string{"lectern", "lectern-syncfull", "bare"} {
		b.Run(variant, func(b *testing.B) {
			app, mux := apiBenchApp(b, variant)
			if old, err := app.FindRecordById("reviews", testkit.ReviewStudent); err == nil {
				if err := app.Delete(old); err != nil {
					b.Fatal(err)
				}
			}
			body := fmt.Sprintf(`{"course":%q,"user":%q,"rating":5,"body":"Well paced, good exercises."}`,
				testkit.CoursePublished, testkit.UserStudent)
			var cpu int64
			for b.Loop() {
				start := processCPU(b)
				rec := postAsStudent(mux, "/api/collections/reviews/records", body)
				cpu += processCPU(b) - start
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				b.StopTimer()
				if _, err := app.NonconcurrentDB().NewQuery("DELETE FROM reviews WHERE course = {:c} AND user = {:u}").
					Bind(dbx.Params{"c": testkit.CoursePublished, "u": testkit.UserStudent}).Execute(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// apiBenchApp is the app and handler of one variant of the API benchmarks:
// "bare", "lectern", or "lectern-syncfull" (the write connection switched to
// the synchronous=FULL of Lectern's data.db). Rate limits are off: every
// request comes from one client.
func apiBenchApp(b *testing.B, variant string) (core.App, http.Handler) {
	app := benchApp(b, variant != "bare")
	app.Settings().RateLimits.Enabled = false
	if variant == "lectern-syncfull" {
		// every write goes through the one nonconcurrent connection
		if _, err := app.NonconcurrentDB().NewQuery("PRAGMA synchronous = FULL").Execute(); err != nil {
			b.Fatal(err)
		}
	}
	return app, apiHandler(b, app)
}

// postAsStudent sends a JSON POST as the fixture's student.
func postAsStudent(mux http.Handler, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", hooksFixture.Tokens[testkit.Student])
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

// apiHandler builds the app's HTTP handler as `serve` does, without listening.
func apiHandler(b testing.TB, app core.App) http.Handler {
	b.Helper()
	mux, err := testkit.Handler(app)
	if err != nil {
		b.Fatal(err)
	}
	return mux
}
