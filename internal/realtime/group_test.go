package realtime_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// recorder is one subscriber whose every message is kept.
type recorder struct {
	name   string
	client subscriptions.Client
	mu     sync.Mutex
	got    []string // "<topic> <data with the timestamps removed>"
	done   chan struct{}
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// stable is a message with what differs between two runs of the same writes
// taken out: the autodate fields, set from the clock.
func stable(t *testing.T, m subscriptions.Message) string {
	var d map[string]any
	require.NoError(t, json.Unmarshal(m.Data, &d), "%s", m.Data)
	var strip func(v any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "created")
			delete(x, "updated")
			delete(x, "lastActiveAt") // users: touched by sign-in hooks
			for _, y := range x {
				strip(y)
			}
		case []any:
			for _, y := range x {
				strip(y)
			}
		}
	}
	strip(d)
	b, _ := json.Marshal(d) // map keys sorted
	return m.Name + " " + string(b)
}

// subscriber connects name with auth to topics: through the app's connect
// hook (so with the package registered it is the client a real connection
// gets), its channel read into a recorder.
func subscriber(t *testing.T, app core.App, name string, auth *core.Record, topics ...string) *recorder {
	t.Helper()
	r := &recorder{name: name, done: make(chan struct{})}
	ce := &core.RealtimeConnectRequestEvent{
		RequestEvent: &core.RequestEvent{App: app},
		Client:       subscriptions.NewDefaultClient(),
	}
	require.NoError(t, app.OnRealtimeConnectRequest().Trigger(ce, func(ce *core.RealtimeConnectRequestEvent) error {
		r.client = ce.Client
		if auth != nil {
			r.client.Set(apis.RealtimeClientAuthKey, auth)
		}
		r.client.Subscribe(topics...)
		app.SubscriptionsBroker().Register(r.client)
		return nil
	}))
	go func() {
		defer close(r.done)
		for m := range r.client.Channel() {
			s := stable(t, m)
			r.mu.Lock()
			r.got = append(r.got, s)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		app.SubscriptionsBroker().Unregister(r.client.Id())
		r.client.Discard()
		<-r.done
	})
	return r
}

func withOptions(topic string, query map[string]string) string {
	opts, _ := json.Marshal(map[string]any{"query": query})
	return topic + "?options=" + url.QueryEscape(string(opts))
}

// authOf loads the auth record an identity's connection holds.
func authOf(t *testing.T, app core.App, identity string) *core.Record {
	t.Helper()
	if identity == testkit.Guest {
		return nil
	}
	if identity == testkit.Superuser {
		r, err := app.FindAuthRecordByEmail(core.CollectionNameSuperusers, testkit.SuperuserEmail)
		require.NoError(t, err)
		return r
	}
	r, err := app.FindAuthRecordByEmail("users", identity+"@lectern.test")
	require.NoError(t, err)
	return r
}

// liveMatrix subscribes, on app, every identity to every topic shape a
// frontend uses (two connections each, so that groups have several
// members), and returns the recorders by name.
func liveMatrix(t *testing.T, app core.App) []*recorder {
	topics := map[string]string{
		"all":          "comments/*",
		"one":          "comments/" + testkit.CommentVisible,
		"post":         withOptions("comments/*", map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished)}),
		"post2":        withOptions("comments/*", map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished2)}),
		"mine":         withOptions("comments/*", map[string]string{"filter": "author = @request.auth.id"}),
		"expand":       withOptions("comments/*", map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished), "expand": "author,post"}),
		"fields":       withOptions("comments/*", map[string]string{"fields": "id,body,status,author"}),
		"posts":        "posts/*",
		"postsExpand":  withOptions("posts/*", map[string]string{"expand": "author"}),
		"users":        "users/*",
		"usersFilter":  withOptions("users/*", map[string]string{"filter": `role = "admin"`}),
		"hiddenFilter": withOptions("comments/*", map[string]string{"filter": `status = "hidden"`}),
	}
	names := make([]string, 0, len(topics))
	for n := range topics {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*recorder
	for _, identity := range testkit.Identities() {
		auth := authOf(t, app, identity)
		for _, n := range names {
			for copyN := range 2 {
				out = append(out, subscriber(t, app, fmt.Sprintf("%s/%s#%d", identity, n, copyN), auth, topics[n]))
			}
		}
	}
	// one connection with several topics at once
	out = append(out, subscriber(t, app, "student/several", authOf(t, app, testkit.Student), topics["post"], topics["one"], topics["posts"]))
	return out
}

// liveWrites are the writes the matrix watches, with fixed ids so that two
// apps produce the same records.
func liveWrites(t *testing.T, app core.App) {
	t.Helper()
	create := func(id string, data map[string]any) {
		c, err := app.FindCollectionByNameOrId("comments")
		require.NoError(t, err)
		r := core.NewRecord(c)
		r.Id = id
		r.Load(data)
		require.NoError(t, app.Save(r))
	}
	create("clivevisible001", map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "Visible"})
	create("clivehidden0001", map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent2, "body": "Hidden", "status": "hidden"})
	create("cliveother00001", map[string]any{"post": testkit.PostPublished2, "author": testkit.UserStudent2, "body": "Other post"})
	save(t, app, "comments", testkit.CommentVisible, map[string]any{"body": "Edited"})
	save(t, app, "comments", "clivevisible001", map[string]any{"status": "hidden"})
	save(t, app, "posts", testkit.PostPublished2, map[string]any{"title": "Retitled"})
	save(t, app, "posts", testkit.PostDraft, map[string]any{"title": "Draft retitled"})
	// a real delete (before its post goes to draft, which would send its
	// own deletes of the post's comments, see dependents.go)
	r, err := app.FindRecordById("comments", "cliveother00001")
	require.NoError(t, err)
	require.NoError(t, app.Delete(r))
	// a comment whose post goes back to draft: seen then by the involved only
	save(t, app, "posts", testkit.PostPublished2, map[string]any{"status": "draft"})
	save(t, app, "comments", testkit.CommentOther, map[string]any{"body": "Edited on a draft"})
	save(t, app, "users", testkit.UserStudent2, map[string]any{"name": "Sky Renamed"})
	// the fence: everyone subscribed to comments may see it
	create("clivefence00001", map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "Fence"})
}

// TestGroupedBroadcastSendsWhatPocketBaseSends runs the same writes under the
// same subscriptions twice — PocketBase's clients and broadcast alone, and
// with this package (groups, memos, queues) — and requires every subscriber
// to receive exactly the same messages (but the deletes the package adds
// when an update hides a record, visibility.go), byte for byte once the clock's
// fields are taken out: every identity (guest, students, authors,
// instructors, admin, superuser) times every topic shape (wildcard, one
// record, filters on a post, on the caller's identity, on a hidden status,
// expand, fields, posts and users topics).
func TestGroupedBroadcastSendsWhatPocketBaseSends(t *testing.T) {
	run := func(withPackage, shortcut bool) map[string][]string {
		app := fixture.NewApp(t)
		t.Cleanup(app.Cleanup)
		if withPackage {
			realtime.Register(app)
		}
		if !shortcut {
			defer realtime.WithoutShortcut()()
		}
		_, err := apis.NewRouter(app) // PocketBase's broadcast hooks
		require.NoError(t, err)
		recs := liveMatrix(t, app)
		liveWrites(t, app)
		// wait for the quiet after the fence
		settle(t, recs)
		out := map[string][]string{}
		for _, r := range recs {
			var m []string
			for _, msg := range r.messages() {
				// the deletes this package adds when an update hides a record
				// (visibility.go, dependents.go) are its own on purpose; the
				// real delete's are PocketBase's
				if strings.Contains(msg, `"action":"delete"`) && !strings.Contains(msg, `"id":"cliveother00001"`) {
					continue
				}
				m = append(m, msg)
			}
			sort.Strings(m) // PocketBase sends each message on a goroutine of its own
			out[r.name] = m
		}
		return out
	}
	want := run(false, false)
	total := 0
	// with and without the rules' public-disjunct shortcut (disjunct.go)
	for _, shortcut := range []bool{true, false} {
		got := run(true, shortcut)
		total = 0
		for name, w := range want {
			total += len(w)
			assert.Equal(t, w, got[name], "%s (shortcut %v)", name, shortcut)
		}
		assert.Len(t, got, len(want))
	}
	t.Logf("%d subscribers, %d messages compared", len(want), total)
	require.Greater(t, total, 300, "the matrix must deliver plenty, or it compares nothing")
}

// settle waits until no recorder has received anything for a while (the
// broadcast sends on goroutines: there is no event to wait for).
func settle(t *testing.T, recs []*recorder) {
	t.Helper()
	count := func() int {
		n := 0
		for _, r := range recs {
			n += len(r.messages())
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	last, since := -1, time.Now()
	for time.Now().Before(deadline) {
		if n := count(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 300*time.Millisecond {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the broadcasts never went quiet")
}
