package reliability

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Webhook deliveries across crashes and restarts of the real binary: the
// outbox rows are the queue, so what was committed is delivered by the next
// process, whatever happened to the last one.

// hookReceiver is a webhook endpoint that hangs every request until open is
// called (a receiver that is down, from the server's side: no answer), then
// answers 200 and records which delivery ids it acknowledged. Every request's
// signature is checked with the Standard Webhooks scheme written out here.
type hookReceiver struct {
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	open     chan struct{}
	isOpen   bool
	hanging  int
	acked    map[string]int // webhook-id → 200 answers
	topicOf  map[string]string
	badSigns []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{open: make(chan struct{}), acked: map[string]int{}, topicOf: map[string]string{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get("webhook-id")
		rc.mu.Lock()
		if !rc.verify(r.Header, body) {
			rc.badSigns = append(rc.badSigns, id)
		}
		open := rc.open
		rc.hanging++
		rc.mu.Unlock()
		select {
		case <-open:
		case <-r.Context().Done(): // the server went away mid-request
			rc.mu.Lock()
			rc.hanging--
			rc.mu.Unlock()
			return
		}
		var env struct {
			Data struct {
				Record struct{ ID string } `json:"record"`
			} `json:"data"`
		}
		json.Unmarshal(body, &env)
		rc.mu.Lock()
		rc.hanging--
		rc.acked[id]++
		rc.topicOf[id] = env.Data.Record.ID
		rc.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(func() { rc.setOpen(); rc.srv.Close() })
	return rc
}

func (rc *hookReceiver) setOpen() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.isOpen {
		rc.isOpen = true
		close(rc.open)
	}
}

func (rc *hookReceiver) verify(h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(rc.secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return false
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.", h.Get("webhook-id"), h.Get("webhook-timestamp"))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func (rc *hookReceiver) snapshot() (acked map[string]int, topics map[string]string, hanging int, bad []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	acked, topics = map[string]int{}, map[string]string{}
	for k, v := range rc.acked {
		acked[k] = v
	}
	for k, v := range rc.topicOf {
		topics[k] = v
	}
	return acked, topics, rc.hanging, append([]string(nil), rc.badSigns...)
}

// webhookWorld starts a server that may post to loopback, with a webhook on
// topics.create pointing at rc.
func webhookWorld(t *testing.T, rc *hookReceiver) (*server, *world) {
	s := newServer(t, serverOptions{env: []string{"LECTERN_WEBHOOKS_ALLOW_PRIVATE=true"}})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	hook := w.create(t, "webhooks", w.su, map[string]any{"url": rc.srv.URL + "/hook", "events": []string{"topics.create"}})
	rc.mu.Lock()
	rc.secret, _ = hook["secret"].(string)
	rc.mu.Unlock()
	return s, w
}

// deliveryRows lists the webhookDeliveries rows as the superuser sees them.
func deliveryRows(t *testing.T, w *world) map[string]struct {
	Status   string
	Attempts int
	Topic    string
} {
	t.Helper()
	out := map[string]struct {
		Status   string
		Attempts int
		Topic    string
	}{}
	for page := 1; ; page++ {
		r := w.api.must(t, 200, "GET", fmt.Sprintf("/api/collections/webhookDeliveries/records?perPage=200&page=%d", page), w.su, nil)
		var res struct {
			Items []struct {
				ID       string
				Status   string
				Attempts int
				Payload  struct {
					Data struct {
						Record struct{ ID string } `json:"record"`
					} `json:"data"`
				}
			}
			TotalPages int
		}
		if err := r.json(&res); err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			out[it.ID] = struct {
				Status   string
				Attempts int
				Topic    string
			}{it.Status, it.Attempts, it.Payload.Data.Record.ID}
		}
		if page >= res.TotalPages {
			return out
		}
	}
}

// topicIDs lists every topic id.
func topicIDs(t *testing.T, w *world) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for page := 1; ; page++ {
		r := w.api.must(t, 200, "GET", fmt.Sprintf("/api/collections/topics/records?perPage=200&fields=id&page=%d", page), w.su, nil)
		var res struct {
			Items      []struct{ ID string }
			TotalPages int
		}
		if err := r.json(&res); err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			out[it.ID] = true
		}
		if page >= res.TotalPages {
			return out
		}
	}
}

// TestWebhooksSurviveKill9: writers create topics while the receiver hangs
// (nothing can be delivered); the server is killed with SIGKILL in the
// middle of the writes, so some commits are right before the kill. After a
// restart every committed topic — acknowledged or not — is delivered once,
// and no delivery exists for a write that did not commit.
func TestWebhooksSurviveKill9(t *testing.T) {
	skipShort(t)
	rc := newHookReceiver(t)
	s, w := webhookWorld(t, rc)

	ids := newIDGen("wk")
	var mu sync.Mutex
	var acked []string
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for n := 0; n < 2000 && ctx.Err() == nil; n++ {
				id := ids.next()
				r, err := w.api.doCtx(ctx, "POST", "/api/collections/topics/records", w.su,
					map[string]any{"id": id, "name": "Kill " + id}, nil)
				if err == nil && r.Status == 200 {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	waitUntil(t, 60*time.Second, "50 acknowledged writes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 50
	})
	s.kill() // the writers are still writing
	stop()
	wg.Wait()
	// the old process's requests end with its connections
	waitUntil(t, 30*time.Second, "no request hanging from the killed process", func() bool {
		_, _, hanging, _ := rc.snapshot()
		return hanging == 0
	})
	ackedBefore, _, _, _ := rc.snapshot()
	if len(ackedBefore) != 0 {
		t.Fatalf("the receiver acknowledged %d deliveries while hanging", len(ackedBefore))
	}

	rc.setOpen()
	s.start()
	topics := topicIDs(t, w)
	for _, id := range acked {
		if !topics[id] {
			t.Errorf("acknowledged topic %s is gone after the kill", id)
		}
	}
	waitUntil(t, 90*time.Second, "every committed topic delivered", func() bool {
		got, _, _, _ := rc.snapshot()
		return len(got) >= len(topics)
	})
	got, topicOf, _, bad := rc.snapshot()
	rows := deliveryRows(t, w)
	delivered := map[string]int{}
	for id, n := range got {
		if n != 1 {
			t.Errorf("delivery %s acknowledged %d times", id, n)
		}
		delivered[topicOf[id]]++
	}
	for id := range topics {
		if delivered[id] != 1 {
			t.Errorf("topic %s: %d deliveries, want 1", id, delivered[id])
		}
	}
	for id, row := range rows {
		if !topics[row.Topic] {
			t.Errorf("delivery %s is for topic %q, which never committed", id, row.Topic)
		}
	}
	if len(rows) != len(topics) {
		t.Errorf("%d delivery rows for %d topics", len(rows), len(topics))
	}
	if len(bad) > 0 {
		t.Errorf("%d requests with a bad signature", len(bad))
	}
	waitUntil(t, 30*time.Second, "every row marked delivered", func() bool {
		for _, row := range deliveryRows(t, w) {
			if row.Status != "delivered" {
				return false
			}
		}
		return true
	})
	report(t, "webhooks-kill9", "| acknowledged writes before SIGKILL | committed topics | delivered after restart | duplicates |",
		fmt.Sprintf("| %d | %d | %d | 0 |", len(acked), len(topics), len(got)))
}

// TestWebhooksResumeAfterSigterm: SIGTERM while deliveries hang at the
// receiver. The server exits promptly (the worker stops, the interrupted
// attempts are not counted as failures), and the next start delivers them.
func TestWebhooksResumeAfterSigterm(t *testing.T) {
	skipShort(t)
	rc := newHookReceiver(t)
	s, w := webhookWorld(t, rc)
	const n = 20
	for i := range n {
		w.create(t, "topics", w.su, map[string]any{"name": fmt.Sprintf("Term %d", i)})
	}
	waitUntil(t, 30*time.Second, "a delivery in flight", func() bool {
		_, _, hanging, _ := rc.snapshot()
		return hanging > 0
	})
	took, state := s.terminate(30 * time.Second)
	if state == nil {
		t.Fatalf("lectern did not exit within 30 s of SIGTERM")
	}
	if state.ExitCode() != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", state.ExitCode())
	}
	if took > 15*time.Second {
		t.Errorf("took %s to exit after SIGTERM", took)
	}

	rc.setOpen()
	s.start()
	// the rows as the restarted server found them: nothing counted against
	// the interrupted attempt
	for id, row := range deliveryRows(t, w) {
		if row.Status == "failed" || row.Status == "dead" {
			t.Errorf("delivery %s is %s after a clean stop", id, row.Status)
		}
	}
	waitUntil(t, 60*time.Second, "all deliveries acknowledged", func() bool {
		got, _, _, _ := rc.snapshot()
		return len(got) >= n
	})
	waitUntil(t, 30*time.Second, "every row delivered", func() bool {
		rows := deliveryRows(t, w)
		for _, row := range rows {
			if row.Status != "delivered" || row.Attempts != 1 {
				return false
			}
		}
		return len(rows) == n
	})
	_, _, _, bad := rc.snapshot()
	if len(bad) > 0 {
		t.Errorf("%d requests with a bad signature", len(bad))
	}
	report(t, "webhooks-sigterm", "| deliveries hanging at SIGTERM | exit | time to exit | delivered after restart |",
		fmt.Sprintf("| %d pending | %d | %s | %d/%d, 1 attempt each |", n, state.ExitCode(), took.Round(time.Millisecond), n, n))
}
