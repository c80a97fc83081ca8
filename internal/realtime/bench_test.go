package realtime_test

import (
	"fmt"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// BenchmarkCommentCreate is one comment create (Lectern's hooks, the post's
// count, PocketBase's broadcast) with n guest subscribers of comments/*
// whose channels are read at once, with PocketBase's clients and broadcast
// alone and with this package registered. It times the writer only, in
// process: no HTTP, no SSE writes (bench R1 measures those).
func BenchmarkCommentCreate(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		for _, withPackage := range []bool{false, true} {
			name := fmt.Sprintf("subs=%d/pocketbase", n)
			if withPackage {
				name = fmt.Sprintf("subs=%d/lectern", n)
			}
			b.Run(name, func(b *testing.B) {
				app := fixture.NewApp(b)
				defer app.Cleanup()
				if withPackage {
					realtime.Register(app)
				}
				if _, err := apis.NewRouter(app); err != nil {
					b.Fatal(err)
				}
				for range n {
					connectDrained(b, app, nil, "comments/*")
				}
				defer unregisterAll(app)
				comments, err := app.FindCollectionByNameOrId("comments")
				if err != nil {
					b.Fatal(err)
				}
				i := 0
				for b.Loop() {
					r := core.NewRecord(comments)
					r.Load(map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": fmt.Sprint("Bench ", i)})
					i++
					if err := app.Save(r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
