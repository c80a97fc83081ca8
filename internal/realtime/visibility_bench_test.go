package realtime_test

import (
	"fmt"
	"testing"

	"github.com/pocketbase/pocketbase/apis"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// BenchmarkCommentUpdate is one comment edit (the common update: nobody's
// view changes) with n guest subscribers of the post page's subscription
// (comments/* filtered on the post, expand=author) plus n/10 signed-in
// students of comments/*, with this package registered, without and with the
// steps that send a delete when an update takes a record out of a view
// (visibility.go, dependents.go). It times the writer only, in process.
//
// One run, -benchtime 40x -count 3, on 2 cores shared with other jobs
// (medians): 100 subscribers 30.5 ms without, 35.8 ms with; 500 subscribers
// 389 ms without, 341 ms with. The steps' few memoized queries are within the
// noise of PocketBase's own per-subscriber filter and expand work.
func BenchmarkCommentUpdate(b *testing.B) {
	for _, n := range []int{100, 500} {
		for _, leave := range []bool{false, true} {
			name := fmt.Sprintf("subs=%d/update-only", n)
			if leave {
				name = fmt.Sprintf("subs=%d/with-leave-deletes", n)
			}
			b.Run(name, func(b *testing.B) {
				realtime.SetLeaveViews(leave)
				defer realtime.SetLeaveViews(true)
				app := fixture.NewApp(b)
				defer app.Cleanup()
				realtime.Register(app)
				if _, err := apis.NewRouter(app); err != nil {
					b.Fatal(err)
				}
				page := topic("comments/*", map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished), "expand": "author"})
				student, err := app.FindRecordById("users", testkit.UserStudent)
				if err != nil {
					b.Fatal(err)
				}
				for range n {
					connectDrained(b, app, nil, page)
				}
				for range n / 10 {
					connectDrained(b, app, student, "comments/*")
				}
				defer unregisterAll(app)
				r, err := app.FindRecordById("comments", testkit.CommentVisible2)
				if err != nil {
					b.Fatal(err)
				}
				i := 0
				for b.Loop() {
					r.Set("body", fmt.Sprint("Edited ", i))
					i++
					if err := app.Save(r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
