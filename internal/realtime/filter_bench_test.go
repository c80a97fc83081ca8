package realtime_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// sdkTopic is the subscription the JS SDK sends for
// pb.collection(collection).subscribe(topic, cb, {filter}).
func sdkTopic(collection, topic, filter string) string {
	if filter == "" {
		return collection + "/" + topic
	}
	opts, _ := json.Marshal(map[string]any{"query": map[string]string{"filter": filter}})
	return collection + "/" + topic + "?options=" + url.QueryEscape(string(opts))
}

// postFilter is the README's live post page filter.
func postFilter(post string) string { return fmt.Sprintf("post = %q", post) }

// connectDrained registers a client through the app's connect hook (the
// client Register gives a connection), subscribed to topics as auth (nil: a
// guest), whose channel is read at once.
func connectDrained(tb testing.TB, app core.App, auth *core.Record, topics ...string) subscriptions.Client {
	tb.Helper()
	ce := &core.RealtimeConnectRequestEvent{
		RequestEvent: &core.RequestEvent{App: app},
		Client:       subscriptions.NewDefaultClient(),
	}
	var client subscriptions.Client
	err := app.OnRealtimeConnectRequest().Trigger(ce, func(ce *core.RealtimeConnectRequestEvent) error {
		client = ce.Client
		if auth != nil {
			client.Set(apis.RealtimeClientAuthKey, auth)
		}
		client.Subscribe(topics...)
		app.SubscriptionsBroker().Register(client)
		go func() {
			for range client.Channel() {
			}
		}()
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return client
}

// unregisterAll disconnects every client of app's broker (their drain
// goroutines end with their channels).
func unregisterAll(app core.App) {
	for id := range app.SubscriptionsBroker().Clients() {
		app.SubscriptionsBroker().Unregister(id)
	}
}

// readers creates n signed-in students.
func readers(tb testing.TB, app core.App, n int) []*core.Record {
	tb.Helper()
	users, err := app.FindCollectionByNameOrId("users")
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]*core.Record, n)
	var hash string // bcrypt once: the readers share a password
	for i := range n {
		u := core.NewRecord(users)
		u.Load(map[string]any{"email": fmt.Sprintf("reader%03d@lectern.test", i), "name": fmt.Sprintf("Reader %d", i), "role": "student", "verified": true})
		if hash == "" {
			u.SetPassword(testkit.Password)
			hash = u.GetString(core.FieldNamePassword + ":hash")
		} else {
			u.SetRaw(core.FieldNamePassword, &core.PasswordFieldValue{Hash: hash})
		}
		if err := app.Save(u); err != nil {
			tb.Fatal(err)
		}
		out[i] = u
	}
	return out
}

// publishedPosts creates n published posts.
func publishedPosts(tb testing.TB, app core.App, n int) []string {
	tb.Helper()
	posts, err := app.FindCollectionByNameOrId("posts")
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]string, n)
	for i := range n {
		p := core.NewRecord(posts)
		p.Load(map[string]any{"title": fmt.Sprintf("Live post %d", i), "body": "<p>Words.</p>", "author": testkit.UserAuthor, "status": "published"})
		if err := app.Save(p); err != nil {
			tb.Fatal(err)
		}
		out[i] = p.Id
	}
	return out
}

// processCPU is the process's user+system CPU time so far (every goroutine:
// the writer's, the broadcast's, the subscribers' readers').
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFilteredCommentCreate is one comment create on a live post page's
// subscribers (the README's `subscribe("*", cb, {filter: 'post = "…"'})`),
// with PocketBase's clients and broadcast alone and with this package:
//
//   - onepost: 5,000 guests and 100 signed-in students on the post written to;
//   - spread: 5,000 guests over 100 posts' filters, 50 on the post written to.
//
// It times the writer only, in process (bench R2 measures the whole server).
func BenchmarkFilteredCommentCreate(b *testing.B) {
	for _, shape := range []string{"onepost", "spread"} {
		for _, withPackage := range []bool{false, true} {
			name := shape + "/pocketbase"
			if withPackage {
				name = shape + "/lectern"
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
				target := testkit.PostPublished
				switch shape {
				case "onepost":
					users := readers(b, app, 100) // before connecting: their creates broadcast too
					for range 5000 {
						connectDrained(b, app, nil, sdkTopic("comments", "*", postFilter(target)))
					}
					for _, u := range users {
						connectDrained(b, app, u, sdkTopic("comments", "*", postFilter(target)))
					}
				case "spread":
					posts := publishedPosts(b, app, 100)
					target = posts[0]
					for i := range 5000 {
						connectDrained(b, app, nil, sdkTopic("comments", "*", postFilter(posts[i%len(posts)])))
					}
				}
				defer unregisterAll(app)
				comments, err := app.FindCollectionByNameOrId("comments")
				if err != nil {
					b.Fatal(err)
				}
				i := 0
				cpu0 := processCPU()
				for b.Loop() {
					r := core.NewRecord(comments)
					r.Load(map[string]any{"post": target, "author": testkit.UserStudent, "body": fmt.Sprint("Bench ", i)})
					i++
					if err := app.Save(r); err != nil {
						b.Fatal(err)
					}
				}
				// the machine is shared: CPU time is steadier than wall time
				b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
