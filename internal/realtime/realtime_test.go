package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// newApp is a fixture app with the realtime package bound before PocketBase's
// router, as main.go and `serve` order them.
func newApp(t *testing.T) *tests.TestApp {
	t.Helper()
	app := fixture.NewApp(t)
	t.Cleanup(app.Cleanup)
	realtime.Register(app)
	return app
}

// serve runs app's full router (PocketBase's realtime routes and broadcast
// hooks, Lectern's OnServe middlewares) on a local HTTP server.
func serve(t *testing.T, app *tests.TestApp) string {
	t.Helper()
	mux, err := testkit.Handler(app)
	require.NoError(t, err)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// event is one record event as an SDK receives it.
type event struct {
	Topic, Action, Collection, ID string
	Status                        string
}

func (e event) String() string { return e.Action + " " + e.Collection + "/" + e.ID }

// sse is one realtime connection speaking PocketBase's protocol.
type sse struct {
	name   string
	mu     sync.Mutex
	events []event
	cancel context.CancelFunc
	done   chan struct{}
}

// connect opens GET /api/realtime, waits for PB_CONNECT and subscribes to
// topics with identity's token.
func connect(t *testing.T, base, name, identity string, topics ...string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/realtime", nil)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	s := &sse{name: name, cancel: cancel, done: make(chan struct{})}
	hello := make(chan string, 1)
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		readSSE(res.Body, hello, func(topic, action string, record map[string]any) {
			str := func(k string) string { v, _ := record[k].(string); return v }
			s.mu.Lock()
			s.events = append(s.events, event{topic, action, str("collectionName"), str("id"), str("status")})
			s.mu.Unlock()
		})
	}()
	var clientID string
	select {
	case clientID = <-hello:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no PB_CONNECT", name)
	}
	body, _ := json.Marshal(map[string]any{"clientId": clientID, "subscriptions": topics})
	sub, _ := http.NewRequest(http.MethodPost, base+"/api/realtime", bytes.NewReader(body))
	sub.Header.Set("Content-Type", "application/json")
	if h := fixture.Headers(identity); h != nil {
		sub.Header.Set("Authorization", h["Authorization"])
	}
	sres, err := http.DefaultClient.Do(sub)
	require.NoError(t, err)
	io.Copy(io.Discard, sres.Body)
	sres.Body.Close()
	require.Equal(t, http.StatusNoContent, sres.StatusCode, "%s subscribe", name)
	t.Cleanup(func() { cancel(); <-s.done })
	return s
}

func (s *sse) snapshot() []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event(nil), s.events...)
}

// awaitCreate waits until the create of collection/id has arrived and
// returns everything received up to then.
func (s *sse) awaitCreate(t *testing.T, collection, id string) []event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := s.snapshot()
		for _, e := range evs {
			if e.Action == "create" && e.Collection == collection && e.ID == id {
				return evs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no create of %s/%s; got %v", s.name, collection, id, evs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func save(t *testing.T, app core.App, collection, id string, data map[string]any) *core.Record {
	t.Helper()
	var r *core.Record
	if id == "" {
		c, err := app.FindCollectionByNameOrId(collection)
		require.NoError(t, err)
		r = core.NewRecord(c)
	} else {
		var err error
		r, err = app.FindRecordById(collection, id)
		require.NoError(t, err)
	}
	r.Load(data)
	require.NoError(t, app.Save(r), "save %s %s %v", collection, id, data)
	return r
}

// memoCounts records, per saved record, how many access checks of its
// broadcast reached the database. It runs just before PocketBase's broadcast
// (bound before the router, at the broadcast's priority), so it sees the app
// the broadcast gets.
type memoCounts struct {
	mu      sync.Mutex
	queries map[string]int64
	plain   []string // events whose broadcast ran without the memo
}

func countMemo(app core.App) *memoCounts {
	m := &memoCounts{queries: map[string]int64{}}
	h := &hook.Handler[*core.ModelEvent]{
		Priority: -99,
		Func: func(e *core.ModelEvent) error {
			eventApp := e.App
			err := e.Next()
			n, ok := realtime.MemoQueries(eventApp)
			m.mu.Lock()
			defer m.mu.Unlock()
			if !ok {
				m.plain = append(m.plain, e.Model.TableName()+"/"+fmt.Sprint(e.Model.PK()))
			} else {
				m.queries[fmt.Sprint(e.Model.PK())] += n
			}
			return err
		},
	}
	app.OnModelAfterCreateSuccess().Bind(h)
	app.OnModelAfterUpdateSuccess().Bind(h)
	return m
}

func TestBroadcastFollowsRulesWithTheMemo(t *testing.T) {
	app := newApp(t)
	counts := countMemo(app)
	base := serve(t, app)

	topics := []string{"posts/*", "comments/*"}
	type who struct{ name, identity string }
	subscribers := []who{
		{"guest1", testkit.Guest}, {"guest2", testkit.Guest}, {"guest3", testkit.Guest},
		{"student", testkit.Student}, {"student2", testkit.Student2},
		{"author", testkit.Author}, {"author2", testkit.Author2},
		{"admin", testkit.Admin}, {"superuser", testkit.Superuser},
	}
	conns := map[string]*sse{}
	for _, s := range subscribers {
		conns[s.name] = connect(t, base, s.name, s.identity, topics...)
	}
	for _, c := range app.SubscriptionsBroker().Clients() {
		assert.Equal(t, "*realtime.bufferedClient", fmt.Sprintf("%T", c), "connections get the buffered client")
	}

	// the writes, each with who must and who must not receive it
	everyone := []string{"guest1", "guest2", "guest3", "student", "student2", "author", "author2", "admin", "superuser"}
	type write struct {
		name            string
		do              func() string // returns the record id
		collection      string
		action          string
		receivers       []string
		notTheOthers    bool // everyone not in receivers must not receive it
		skipMemoQueries bool
	}
	var visible string
	writes := []write{
		{
			name: "an author's draft post edited", collection: "posts", action: "update",
			do: func() string {
				return save(t, app, "posts", testkit.PostDraft, map[string]any{"body": "<p>still secret</p>"}).Id
			},
			receivers: []string{"author", "admin", "superuser"}, notTheOthers: true,
		},
		{
			name: "a visible comment on a published post", collection: "comments", action: "create",
			do: func() string {
				visible = save(t, app, "comments", "", map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "Public words"}).Id
				return visible
			},
			receivers: everyone,
		},
		{
			name: "a hidden comment", collection: "comments", action: "create",
			do: func() string {
				return save(t, app, "comments", "", map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent2, "body": "Held back", "status": "hidden"}).Id
			},
			receivers: []string{"student2", "author", "admin", "superuser"}, notTheOthers: true,
		},
		{
			name: "a published post taken back to draft", collection: "posts", action: "update",
			do: func() string {
				return save(t, app, "posts", testkit.PostPublished2, map[string]any{"status": "draft"}).Id
			},
			receivers: []string{"author2", "admin", "superuser"}, notTheOthers: true,
		},
		{
			name: "a comment edited on the draft post", collection: "comments", action: "update",
			do: func() string {
				return save(t, app, "comments", testkit.CommentOther, map[string]any{"body": "Edited on a draft"}).Id
			},
			receivers: []string{"student2", "author2", "admin", "superuser"}, notTheOthers: true,
		},
	}
	ids := make([]string, len(writes))
	for i, w := range writes {
		ids[i] = w.do()
	}
	// a fence everyone sees: each connection's events arrive in write order,
	// so once it has the fence nothing of the writes above is still coming
	fence := save(t, app, "comments", "", map[string]any{"post": testkit.PostPublished, "author": testkit.UserAdmin, "body": "Fence"}).Id
	got := map[string][]event{}
	for _, s := range subscribers {
		got[s.name] = conns[s.name].awaitCreate(t, "comments", fence)
	}

	has := func(evs []event, w write, id string) bool {
		for _, e := range evs {
			if e.Action == w.action && e.Collection == w.collection && e.ID == id {
				return true
			}
		}
		return false
	}
	for i, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			for _, name := range everyone {
				receives := false
				for _, r := range w.receivers {
					receives = receives || r == name
				}
				switch {
				case receives:
					assert.True(t, has(got[name], w, ids[i]), "%s should receive %s %s/%s", name, w.action, w.collection, ids[i])
				case w.notTheOthers:
					assert.False(t, has(got[name], w, ids[i]), "leak: %s received %s %s/%s", name, w.action, w.collection, ids[i])
				}
			}
		})
	}
	t.Run("no guest ever receives a draft post or a hidden comment", func(t *testing.T) {
		for _, name := range []string{"guest1", "guest2", "guest3"} {
			for _, e := range got[name] {
				if e.Action == "delete" && (e.ID == testkit.PostPublished2 && e.Status == "published" || e.ID == testkit.CommentOther && e.Status == "visible") {
					continue // the post turned back to draft, and its comment, leave the guest's view as they were seen (visibility.go)
				}
				assert.NotContains(t, []string{testkit.PostDraft, testkit.PostPublished2, testkit.CommentOther}, e.ID, "%s got %v", name, e)
				assert.NotEqual(t, "hidden", e.Status, "%s got %v", name, e)
			}
		}
	})

	t.Run("the broadcasts ran with the memo and shared queries", func(t *testing.T) {
		counts.mu.Lock()
		defer counts.mu.Unlock()
		assert.Empty(t, counts.plain, "record broadcasts without the memo")
		for _, id := range []string{ids[1], fence} {
			n := counts.queries[id]
			// the rule's public disjunct (visible on a published post),
			// asked once, answers every identity but the superuser, whose
			// check is never shortcut (it returns without a query): 2 for
			// the 9 connections (PocketBase alone makes 9, 8 of them queries)
			assert.Equal(t, int64(2), n, "comment %s: access checks of its broadcast", id)
		}
	})
}

func TestEventsArriveInWriteOrder(t *testing.T) {
	app := newApp(t)
	base := serve(t, app)
	guest := connect(t, base, "guest", testkit.Guest, "comments/*")
	student := connect(t, base, "student", testkit.Student, "comments/*")

	// creates, then updates and deletes of the same records back to back:
	// a delete overtaking its update would leave a client showing a record
	// that no longer exists
	var want []string
	var created []*core.Record
	for i := range 20 {
		r := save(t, app, "comments", "", map[string]any{
			"post": testkit.PostPublished, "author": testkit.UserStudent2, "body": fmt.Sprintf("In order %d", i),
		})
		created = append(created, r)
		want = append(want, "create "+r.Id)
	}
	for _, r := range created[:10] {
		save(t, app, "comments", r.Id, map[string]any{"body": "Edited " + r.Id})
		require.NoError(t, app.Delete(r))
		want = append(want, "update "+r.Id, "delete "+r.Id)
	}
	fence := save(t, app, "comments", "", map[string]any{"post": testkit.PostPublished, "author": testkit.UserAdmin, "body": "Fence"}).Id
	want = append(want, "create "+fence)
	for _, s := range []*sse{guest, student} {
		var order []string
		for _, e := range s.awaitCreate(t, "comments", fence) {
			order = append(order, e.Action+" "+e.ID)
		}
		assert.Equal(t, want, order, s.name)
	}
}

// stalled is a realtime client set up through the app's connect hook (so it
// is the client Register gives a connection) whose channel nobody reads, as
// when the SSE loop is stuck writing to a peer that stopped reading.
func stalled(t *testing.T, app core.App, topics ...string) subscriptions.Client {
	t.Helper()
	ce := &core.RealtimeConnectRequestEvent{
		RequestEvent: &core.RequestEvent{App: app},
		Client:       subscriptions.NewDefaultClient(),
	}
	var client subscriptions.Client
	require.NoError(t, app.OnRealtimeConnectRequest().Trigger(ce, func(ce *core.RealtimeConnectRequestEvent) error {
		client = ce.Client
		app.SubscriptionsBroker().Register(client)
		return nil
	}))
	client.Subscribe(topics...)
	t.Cleanup(func() { app.SubscriptionsBroker().Unregister(client.Id()) })
	return client
}

func createdIDs(ch chan subscriptions.Message) (ids []string, closed bool) {
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return ids, true
			}
			var d struct {
				Action string
				Record struct{ ID string }
			}
			if json.Unmarshal(m.Data, &d) == nil && d.Action == "create" {
				ids = append(ids, d.Record.ID)
			}
		default:
			return ids, false
		}
	}
}

func TestWriterDoesNotWaitForAStalledSubscriber(t *testing.T) {
	app := newApp(t)
	_, err := apis.NewRouter(app) // binds PocketBase's broadcast hooks
	require.NoError(t, err)
	client := stalled(t, app, "comments/*")

	var want []string
	for i := range 10 {
		want = append(want, save(t, app, "comments", "", map[string]any{
			"post": testkit.PostPublished, "author": testkit.UserStudent, "body": fmt.Sprintf("Unread %d", i),
		}).Id)
	}
	// every event is already queued in the client's channel, nothing waits
	// on it (PocketBase's own client leaves a goroutine parked per message)
	require.Eventually(t, func() bool { return len(client.Channel()) == len(want) }, 2*time.Second, 5*time.Millisecond,
		"queued %d of %d", len(client.Channel()), len(want))
	got, closed := createdIDs(client.Channel())
	assert.False(t, closed)
	assert.Equal(t, want, got, "one client's events in write order")
	_, err = app.SubscriptionsBroker().ClientById(client.Id())
	assert.NoError(t, err, "still connected")
}

func TestStalledSubscriberIsDisconnected(t *testing.T) {
	buffer, wait := realtime.ClientBuffer, realtime.FullWait
	realtime.ClientBuffer, realtime.FullWait = 3, 100*time.Millisecond
	t.Cleanup(func() { realtime.ClientBuffer, realtime.FullWait = buffer, wait })

	app := newApp(t)
	_, err := apis.NewRouter(app)
	require.NoError(t, err)
	client := stalled(t, app, "comments/*")
	reader := stalled(t, app, "comments/*")
	var readerGot []string
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for m := range reader.Channel() {
			var d struct{ Record struct{ ID string } }
			if json.Unmarshal(m.Data, &d) == nil {
				readerGot = append(readerGot, d.Record.ID)
			}
		}
	}()

	var want []string
	for i := range 5 {
		want = append(want, save(t, app, "comments", "", map[string]any{
			"post": testkit.PostPublished, "author": testkit.UserStudent, "body": fmt.Sprintf("Overflow %d", i),
		}).Id)
	}
	require.Eventually(t, client.IsDiscarded, 2*time.Second, 5*time.Millisecond, "the stalled client is discarded")
	_, err = app.SubscriptionsBroker().ClientById(client.Id())
	assert.Error(t, err, "and unregistered: later broadcasts skip it")

	// what was queued before the overflow is still written, then the closed
	// channel ends the connection: the SDK reconnects and knows to refetch
	got, closed := createdIDs(client.Channel())
	assert.True(t, closed)
	assert.Equal(t, want[:3], got)

	// a client that reads is not affected
	_, err = app.SubscriptionsBroker().ClientById(reader.Id())
	assert.NoError(t, err)
	app.SubscriptionsBroker().Unregister(reader.Id())
	<-readerDone
	assert.Equal(t, want, readerGot)
}
