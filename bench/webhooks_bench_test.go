package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/jobs"
	"lectern/internal/testkit"
	"lectern/internal/webhooks"
)

// BenchmarkCommentCreateWebhooks is the writer-latency figure of webhooks: a
// signed-in student's comment create through the API (production's
// synchronous=FULL) on two apps side by side — one with no webhook, one with
// 10 active webhooks on comments.create: nine receivers answering at once
// and one that hangs for 15 s (the delivery timeout) on every request. On
// the second each create also writes its webhookEvents row (the payload
// once, the 10 webhooks' ids) in its transaction, while the worker fans the
// events out into 10 deliveries each, posts them (to receivers in this same
// process: their CPU is charged here too) and records outcomes and attempts
// beside it.
//
// The two run in alternating blocks of 50 creates, so the shared machine's
// noise falls on both alike; the webhooks app's worker runs during its own
// blocks only (stopped and restarted between blocks, untimed: a stop cancels
// the hanging request, which the restart sends again and which hangs again),
// so neither side is charged the other's background work. Reported: the
// p50 and p90 of each side's per-request wall time, and p50-ratio =
// p50(10 webhooks) / p50(no webhook), the figure the contract bounds at 1.2.
//
//	go test -run '^$' -bench CommentCreateWebhooks -benchtime 2000x -count 5 ./bench
func BenchmarkCommentCreateWebhooks(b *testing.B) {
	type side struct {
		mux   http.Handler
		queue *jobs.Queue
		times []time.Duration
		n     int
	}
	newSide := func(withHooks bool) *side {
		app := benchApp(b, true)
		app.Settings().RateLimits.Enabled = false
		if _, err := app.NonconcurrentDB().NewQuery("PRAGMA synchronous = FULL").Execute(); err != nil {
			b.Fatal(err)
		}
		svc := webhooks.RegisterWith(app, webhooks.Options{AllowPrivate: true})
		if withHooks {
			for i := range 10 {
				addBenchWebhook(b, app, benchReceiver(b, i == 0))
			}
		}
		s := &side{mux: apiHandler(b, app), queue: svc.Queue()} // serving starts the worker
		stopQueue(b, s.queue)
		return s
	}
	none, hooked := newSide(false), newSide(true)

	const block = 50
	i := 0
	for b.Loop() {
		cur := none
		if (i/block)%2 == 1 {
			cur = hooked
		}
		if i%block == 0 {
			b.StopTimer()
			if cur == hooked {
				hooked.queue.Start()
			} else if i > 0 {
				stopQueue(b, hooked.queue)
			}
			b.StartTimer()
		}
		body := fmt.Sprintf(`{"post":%q,"body":"Comment %d, thanks for the clear explanation."}`, testkit.PostPublished, cur.n)
		start := time.Now()
		rec := postAsStudent(cur.mux, "/api/collections/comments/records", body)
		cur.times = append(cur.times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		cur.n++
		i++
	}
	b.StopTimer()
	stopQueue(b, hooked.queue)
	if len(none.times) == 0 || len(hooked.times) == 0 {
		return // the first, one-iteration calibration run
	}
	p := func(ts []time.Duration, q int) float64 {
		slices.Sort(ts)
		return float64(ts[len(ts)*q/100].Nanoseconds())
	}
	p50none, p50hooked := p(none.times, 50), p(hooked.times, 50)
	b.ReportMetric(p50none, "p50-none-ns")
	b.ReportMetric(p50hooked, "p50-webhooks-ns")
	b.ReportMetric(p(none.times, 90), "p90-none-ns")
	b.ReportMetric(p(hooked.times, 90), "p90-webhooks-ns")
	b.ReportMetric(p50hooked/p50none, "p50-ratio")

}

func stopQueue(b *testing.B, q *jobs.Queue) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		b.Fatal(err)
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
