package webhooks_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/graphql"
	"lectern/internal/testkit"
	"lectern/internal/webhooks"
)

// The contract: a write's deliveries are in the write's transaction. The
// write commits a webhookEvents row; every API read of deliveries must show
// its deliveries even though the worker has not fanned it out yet. These
// tests stop the worker first, so nothing but the read itself can make the
// deliveries appear.

// deliveryPage is a records list of webhookDeliveries as the API answers it.
type deliveryPage struct {
	TotalItems int `json:"totalItems"`
	Items      []struct {
		ID      string `json:"id"`
		Webhook string `json:"webhook"`
		Type    string `json:"type"`
		Status  string `json:"status"`
		Created string `json:"created"`
		Payload struct {
			Data struct {
				Record struct {
					ID   string `json:"id"`
					Body string `json:"body"`
				} `json:"record"`
			} `json:"data"`
		} `json:"payload"`
	} `json:"items"`
}

// get sends a GET as identity, requires a 200 and decodes the body into out.
func (e *env) get(t *testing.T, path, identity string, out any) {
	t.Helper()
	code, body := e.call(t, http.MethodGet, path, identity, nil)
	require.Equal(t, http.StatusOK, code, "GET %s: %s", path, body)
	require.NoError(t, json.Unmarshal(body, out), "%s", body)
}

func deliveriesOf(hook string, query string) string {
	return "/api/collections/" + webhooks.Deliveries + "/records?filter=" +
		url.QueryEscape(fmt.Sprintf("webhook = %q", hook)) + "&" + query
}

// writeComments creates n comments at once through the API as the student,
// and returns the ids of the comments in commit order (their rowid: SQLite
// commits one write transaction at a time).
func (e *env) writeComments(t *testing.T, n int) []string {
	t.Helper()
	e.app.Settings().RateLimits.Enabled = false // one student, n comments at once
	var wg sync.WaitGroup
	codes := make([]int, n)
	bodies := make([][]byte, n)
	for i := range n {
		wg.Go(func() {
			codes[i], bodies[i] = e.call(t, http.MethodPost, "/api/collections/comments/records", testkit.Student,
				map[string]any{"post": testkit.PostPublished, "body": fmt.Sprintf("Burst %d", i)})
		})
	}
	wg.Wait()
	for i, c := range codes {
		require.Equal(t, http.StatusOK, c, "comment %d: %s", i, bodies[i])
	}
	var ids []string
	require.NoError(t, e.app.DB().NewQuery("SELECT id FROM comments WHERE body LIKE 'Burst %' ORDER BY rowid").Column(&ids))
	require.Len(t, ids, n)
	return ids
}

// burst is a test app with two webhooks on comments.create (one of them
// "*") and one on
// topics.create, its worker stopped, after n comments written at once.
type burst struct {
	*env
	a, b, other *core.Record
	comments    []string // in commit order
}

const burstSize = 100

func newBurst(t *testing.T) *burst {
	t.Helper()
	e := newEnv(t, fast, graphql.Register)
	rc := newReceiver(t, nil)
	b := &burst{env: e}
	b.a = e.addWebhook(t, rc, "comments.create")
	b.b = e.addWebhook(t, rc, "*")
	b.other = e.addWebhook(t, rc, "topics.create")
	e.stopWorker(t) // paused: nothing fans the events out behind the test's back
	b.comments = e.writeComments(t, burstSize)
	// what the database holds before the read: the writes' events, no delivery
	require.Equal(t, burstSize, e.count(t, webhooks.Events))
	require.Equal(t, 0, e.count(t, webhooks.Deliveries))
	return b
}

// Every API read of deliveries, right after 100 concurrent writes were
// answered, shows exactly their deliveries — 100 per matching webhook, in
// the order of the writes — with the worker paused.
func TestReadsSeeEveryCommittedWrite(t *testing.T) {
	scenarios := []struct {
		name string
		read func(t *testing.T, b *burst)
	}{
		{"admin listing each webhook's deliveries", func(t *testing.T, b *burst) {
			for _, hook := range []*core.Record{b.a, b.b} {
				var p deliveryPage
				b.get(t, deliveriesOf(hook.Id, "perPage=200&sort=id"), testkit.Admin, &p)
				require.Equal(t, burstSize, p.TotalItems)
				require.Len(t, p.Items, burstSize)
				var order []string
				for i, it := range p.Items {
					assert.Equal(t, "comments.create", it.Type)
					assert.Equal(t, webhooks.StatusPending, it.Status)
					order = append(order, it.Payload.Data.Record.ID)
					if i > 0 {
						assert.LessOrEqual(t, p.Items[i-1].Created, it.Created, "created follows the ids")
					}
				}
				assert.Equal(t, b.comments, order, "ids in the order the writes committed")
			}
			var p deliveryPage
			b.get(t, deliveriesOf(b.other.Id, "perPage=1"), testkit.Admin, &p)
			assert.Equal(t, 0, p.TotalItems, "no delivery for the webhook that does not match")
		}},
		{"admin's getFirstListItem of the newest delivery", func(t *testing.T, b *burst) {
			var p deliveryPage
			b.get(t, deliveriesOf(b.b.Id, "page=1&perPage=1&skipTotal=1&sort=-created,-id"), testkit.Admin, &p)
			require.Len(t, p.Items, 1)
			assert.Equal(t, b.comments[burstSize-1], p.Items[0].Payload.Data.Record.ID, "the last write's")
		}},
		{"admin viewing one delivery found by its payload", func(t *testing.T, b *burst) {
			var p deliveryPage
			filter := url.QueryEscape(fmt.Sprintf("webhook = %q && payload.data.record.id = %q", b.a.Id, b.comments[42]))
			b.get(t, "/api/collections/webhookDeliveries/records?perPage=1&filter="+filter, testkit.Admin, &p)
			require.Len(t, p.Items, 1)
			var one map[string]any
			b.get(t, "/api/collections/webhookDeliveries/records/"+p.Items[0].ID, testkit.Admin, &one)
			assert.Equal(t, b.a.Id, one["webhook"])
		}},
		{"superuser listing through the collection's id", func(t *testing.T, b *burst) {
			c, err := b.app.FindCollectionByNameOrId(webhooks.Deliveries)
			require.NoError(t, err)
			var p deliveryPage
			b.get(t, "/api/collections/"+c.Id+"/records?perPage=1", testkit.Superuser, &p)
			assert.Equal(t, 2*burstSize, p.TotalItems)
		}},
		{"admin reading a webhook with its deliveries expanded", func(t *testing.T, b *burst) {
			var hook struct {
				Expand struct {
					Deliveries []map[string]any `json:"webhookDeliveries_via_webhook"`
				} `json:"expand"`
			}
			b.get(t, "/api/collections/webhooks/records/"+b.a.Id+"?expand=webhookDeliveries_via_webhook", testkit.Admin, &hook)
			assert.Len(t, hook.Expand.Deliveries, burstSize)
		}},
		{"admin's GraphQL query (POST)", func(t *testing.T, b *burst) {
			q := fmt.Sprintf(`{ webhookDeliveries(filter: "webhook = '%s'") { totalItems } }`, b.a.Id)
			code, body := b.call(t, http.MethodPost, graphql.Path, testkit.Admin, map[string]any{"query": q})
			require.Equal(t, http.StatusOK, code, "%s", body)
			assert.JSONEq(t, fmt.Sprintf(`{"data": {"webhookDeliveries": {"totalItems": %d}}}`, burstSize), string(body))
		}},
		{"admin's GraphQL query (GET)", func(t *testing.T, b *burst) {
			// a webhook's back-relation to its deliveries
			q := `{ webhooks { items { webhookDeliveries(perPage: 1) { totalItems } } } }`
			var out struct {
				Data struct {
					Webhooks struct {
						Items []struct {
							D struct {
								TotalItems int `json:"totalItems"`
							} `json:"webhookDeliveries"`
						} `json:"items"`
					} `json:"webhooks"`
				} `json:"data"`
			}
			code, body := b.call(t, http.MethodGet, graphql.Path+"?query="+url.QueryEscape(q), testkit.Admin, nil)
			require.Equal(t, http.StatusOK, code, "%s", body)
			require.NoError(t, json.Unmarshal(body, &out))
			var total int
			for _, it := range out.Data.Webhooks.Items {
				total += it.D.TotalItems
			}
			assert.Equal(t, 2*burstSize, total)
		}},
		{"the pending gauge", func(t *testing.T, b *burst) {
			assert.Equal(t, 2*burstSize, b.svc.Waiting())
		}},
		{"admin's retry-failed", func(t *testing.T, b *burst) {
			code, body := b.call(t, http.MethodPost, "/api/webhooks/"+b.a.Id+"/retry-failed", testkit.Admin,
				map[string]any{"since": "2020-01-01T00:00:00Z"})
			require.Equal(t, http.StatusOK, code, "%s", body)
			assert.JSONEq(t, `{"retried": 0}`, string(body), "none failed: they are pending")
			assert.Equal(t, 2*burstSize, b.count(t, webhooks.Deliveries), "materialized before the route read them")
		}},
		{"guest listing: nothing shown, nothing written", func(t *testing.T, b *burst) {
			var p deliveryPage
			b.get(t, "/api/collections/webhookDeliveries/records", testkit.Guest, &p)
			assert.Equal(t, 0, p.TotalItems)
			assert.Equal(t, burstSize, b.count(t, webhooks.Events), "a guest's read makes the server write nothing")
		}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			b := newBurst(t)
			s.read(t, b)
			if s.name != "guest listing: nothing shown, nothing written" {
				assert.Equal(t, 0, b.count(t, webhooks.Events), "every event fanned out")
				assert.Equal(t, 2*burstSize, b.count(t, webhooks.Deliveries))
			}
			// the worker, started again, finds nothing left to fan out twice
			b.svc.Start()
			var p deliveryPage
			b.get(t, "/api/collections/webhookDeliveries/records?perPage=1", testkit.Superuser, &p)
			assert.Equal(t, 2*burstSize, p.TotalItems, "one delivery per write and webhook, never two")
		})
	}
}

// A write that rolls back, or is refused, has no delivery to show, even
// with the worker paused and the events materialized by the read.
func TestRolledBackWriteNeverListed(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, nil)
	hook := e.addWebhook(t, rc, "*")
	e.stopWorker(t)

	errAbort := errors.New("abort")
	err := e.app.RunInTransaction(func(tx core.App) error {
		e.newTopic(t, tx, "Rolled back")
		return errAbort
	})
	require.ErrorIs(t, err, errAbort)
	code, body := e.call(t, http.MethodPost, "/api/collections/comments/records", testkit.Student,
		map[string]any{"post": testkit.PostPublished, "body": ""})
	require.Equal(t, http.StatusBadRequest, code, "%s", body)

	var p deliveryPage
	e.get(t, deliveriesOf(hook.Id, "perPage=10"), testkit.Admin, &p)
	assert.Equal(t, 0, p.TotalItems)

	kept := e.newTopic(t, e.app, "Committed")
	e.get(t, deliveriesOf(hook.Id, "perPage=10"), testkit.Admin, &p)
	require.Equal(t, 1, p.TotalItems, "only the committed write")
	assert.Equal(t, kept.Id, p.Items[0].Payload.Data.Record.ID)
	assert.Equal(t, "topics.create", p.Items[0].Type)
}

// Readers arriving together share one fan-out; a read with nothing pending
// writes nothing and does not wait for the write lock.
func TestConcurrentReadersShareOneFanOut(t *testing.T) {
	b := newBurst(t)
	const readers = 20
	var wg sync.WaitGroup
	totals := make([]int, readers)
	for i := range readers {
		wg.Go(func() {
			var p deliveryPage
			b.get(t, deliveriesOf(b.a.Id, "perPage=1"), testkit.Admin, &p)
			totals[i] = p.TotalItems
		})
	}
	wg.Wait()
	for i, n := range totals {
		assert.Equal(t, burstSize, n, "reader %d", i)
	}
	// 100 events × 2 webhooks fit one transaction (100 events, 256 rows)
	assert.Equal(t, int64(1), b.svc.FanOutTxs(), "the readers shared one fan-out")

	// nothing pending: the read goes through while another transaction
	// holds the write lock, and starts no transaction of its own
	locked, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- b.app.RunInTransaction(func(tx core.App) error {
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	read := make(chan int, 1)
	go func() {
		var p deliveryPage
		b.get(t, deliveriesOf(b.a.Id, "perPage=1"), testkit.Admin, &p)
		read <- p.TotalItems
	}()
	select {
	case n := <-read:
		assert.Equal(t, burstSize, n)
	case <-time.After(10 * time.Second):
		t.Error("a read with nothing pending waited for the write lock")
	}
	close(release)
	require.NoError(t, <-txDone)
	assert.Equal(t, int64(1), b.svc.FanOutTxs())
}

// With the worker running as in production, a reader polling while writers
// write always sees at least the deliveries of every write answered before
// its read began.
func TestReadsDuringWritesNeverLag(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, nil)
	hook := e.addWebhook(t, rc, "comments.create")
	e.app.Settings().RateLimits.Enabled = false

	const writers, each = 4, 25
	var acked atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				code, body := e.call(t, http.MethodPost, "/api/collections/comments/records", testkit.Student,
					map[string]any{"post": testkit.PostPublished, "body": fmt.Sprintf("Writer %d, comment %d", w, i)})
				if code != http.StatusOK {
					t.Errorf("write: %d %s", code, body)
					return
				}
				acked.Add(1)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reads, lag := 0, ""
	for finished := false; !finished && lag == "" && reads < 2000; reads++ {
		select {
		case <-done:
			finished = true // one more read after the last write
		default:
		}
		before := int(acked.Load())
		code, body := e.call(t, http.MethodGet, deliveriesOf(hook.Id, "perPage=1"), testkit.Admin, nil)
		var p deliveryPage
		if code != http.StatusOK || json.Unmarshal(body, &p) != nil {
			lag = fmt.Sprintf("read %d: %d %s", reads, code, body)
		} else if p.TotalItems < before {
			lag = fmt.Sprintf("read %d: %d deliveries, %d writes answered before it", reads, p.TotalItems, before)
		}
	}
	<-done // the writers end before the app does, whatever happened
	require.Empty(t, lag)
	var p deliveryPage
	e.get(t, deliveriesOf(hook.Id, "perPage=1"), testkit.Admin, &p)
	assert.Equal(t, writers*each, p.TotalItems)
	t.Logf("%d reads during %d writes", reads, writers*each)
}
