package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/testkit"
	"lectern/internal/webhooks"
)

// BenchmarkCommentCreateWebhooks is the writer-latency figure of webhooks: a
// signed-in student's comment create through the API (production's
// synchronous=FULL), with no webhook and then with 10 active webhooks on
// comments.create — nine receivers answering at once and one that hangs for
// 15 s (the delivery timeout) on every request. Each create then also writes
// 10 outbox rows in its transaction while the delivery worker posts, retries
// and records outcomes beside it. Both variants run in one `go test` run,
// one after the other, and report the p50 and p90 of the per-request wall
// time; the figure is p50(10 webhooks) / p50(no webhook).
//
//	go test -run '^$' -bench CommentCreateWebhooks -benchtime 1000x -count 5 ./bench
func BenchmarkCommentCreateWebhooks(b *testing.B) {
	for _, variant := range []string{"no-webhook", "10-webhooks-1-hanging"} {
		b.Run(variant, func(b *testing.B) {
			app := benchApp(b, true)
			app.Settings().RateLimits.Enabled = false
			if _, err := app.NonconcurrentDB().NewQuery("PRAGMA synchronous = FULL").Execute(); err != nil {
				b.Fatal(err)
			}
			webhooks.RegisterWith(app, webhooks.Options{AllowPrivate: true})
			if variant != "no-webhook" {
				for i := range 10 {
					addBenchWebhook(b, app, benchReceiver(b, i == 0))
				}
			}
			mux := apiHandler(b, app) // starts the delivery worker (OnServe)

			times := make([]time.Duration, 0, 4096)
			i := 0
			defer reportCPU(b)()
			for b.Loop() {
				body := fmt.Sprintf(`{"post":%q,"body":"Comment %d, thanks for the clear explanation."}`, testkit.PostPublished, i)
				start := time.Now()
				rec := postAsStudent(mux, "/api/collections/comments/records", body)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				i++
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(times[len(times)*9/10].Nanoseconds()), "p90-ns")
			if variant != "no-webhook" {
				n, _ := app.CountRecords(webhooks.Deliveries)
				b.ReportMetric(float64(n)/float64(b.N), "deliveries/op")
			}
		})
	}
}

// benchReceiver is a webhook endpoint on loopback: it answers 200 at once,
// or, hanging, after 15 s (or when the sender gives up or the bench ends).
func benchReceiver(b *testing.B, hanging bool) string {
	quit := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hanging {
			select {
			case <-time.After(15 * time.Second):
			case <-r.Context().Done():
			case <-quit:
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(func() { close(quit); srv.Close() })
	return srv.URL + "/hook"
}

func addBenchWebhook(b *testing.B, app core.App, url string) {
	r := core.NewRecord(collection(b, app, webhooks.Collection))
	r.Load(map[string]any{"url": url, "events": `["comments.create"]`, "active": true})
	if err := app.Save(r); err != nil {
		b.Fatal(err)
	}
}
