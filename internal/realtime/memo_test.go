package realtime

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyFixture is the records a memo key is built from, without a database.
type keyFixture struct {
	posts, comments, users, superusers *core.Collection
}

func newKeyFixture() keyFixture {
	users := core.NewAuthCollection("users")
	users.Id = "pbc_users"
	users.Fields.Add(&core.TextField{Name: "name"}, &core.TextField{Name: "role"})
	posts := core.NewBaseCollection("posts")
	posts.Id = "pbc_posts"
	comments := core.NewBaseCollection("comments")
	comments.Id = "pbc_comments"
	su := core.NewAuthCollection(core.CollectionNameSuperusers)
	su.Id = "pbc_superusers"
	return keyFixture{posts: posts, comments: comments, users: users, superusers: su}
}

func (f keyFixture) record(c *core.Collection, id string) *core.Record {
	r := core.NewRecord(c)
	r.Id = id
	return r
}

func (f keyFixture) user(id, role, name string) *core.Record {
	u := f.record(f.users, id)
	u.Set("role", role)
	u.Set("name", name)
	return u
}

func str(s string) *string { return &s }

func TestAccessKeyFor(t *testing.T) {
	f := newKeyFixture()
	comment := f.record(f.comments, "c1")
	rule := str(`status = "visible" || author = @request.auth.id || @request.auth.role = "admin"`)
	queryRule := str(`@request.query.token = "x"`)
	headerRule := str(`@request.headers.x_token = "x"`)
	info := func(auth *core.Record, query, headers map[string]string) *core.RequestInfo {
		return &core.RequestInfo{Context: core.RequestInfoContextRealtime, Method: "GET", Auth: auth, Query: query, Headers: headers}
	}
	type call struct {
		record *core.Record
		info   *core.RequestInfo
		rule   *string
	}
	base := call{comment, info(f.user("u1", "student", "Sam"), nil, nil), rule}

	scenarios := []struct {
		name string
		a, b call
		same bool
	}{
		{"identical calls", base, call{comment, info(f.user("u1", "student", "Sam"), nil, nil), str(*rule)}, true},
		{"another record", base, call{f.record(f.comments, "c2"), base.info, rule}, false},
		{"same id in another collection", base, call{f.record(f.posts, "c1"), base.info, rule}, false},
		{"nil rule is not the empty rule", call{comment, base.info, nil}, call{comment, base.info, str("")}, false},
		{"another rule", base, call{comment, base.info, str(`status = "visible"`)}, false},
		{"guest and signed-in user", base, call{comment, info(nil, nil, nil), rule}, false},
		{"another user", base, call{comment, info(f.user("u2", "student", "Sam"), nil, nil), rule}, false},
		{"same user with another role", base, call{comment, info(f.user("u1", "admin", "Sam"), nil, nil), rule}, false},
		{"same user with another name", base, call{comment, info(f.user("u1", "student", "Samuel"), nil, nil), rule}, false},
		{"same id in the superusers collection", base, call{comment, info(f.record(f.superusers, "u1"), nil, nil), rule}, false},
		{"another method", base, call{comment, &core.RequestInfo{Context: core.RequestInfoContextRealtime, Method: "POST", Auth: base.info.Auth}, rule}, false},
		{"another context", base, call{comment, &core.RequestInfo{Context: core.RequestInfoContextExpand, Method: "GET", Auth: base.info.Auth}, rule}, false},
		{
			"query options a rule does not read",
			call{comment, info(nil, map[string]string{"expand": "post"}, nil), rule},
			call{comment, info(nil, map[string]string{"fields": "id"}, nil), rule},
			true,
		},
		{
			"query options a rule reads",
			call{comment, info(nil, map[string]string{"token": "x"}, nil), queryRule},
			call{comment, info(nil, map[string]string{"token": "y"}, nil), queryRule},
			false,
		},
		{
			"nil and empty query",
			call{comment, info(nil, nil, nil), queryRule},
			call{comment, info(nil, map[string]string{}, nil), queryRule},
			true,
		},
		{
			"query that could forge a separator",
			call{comment, info(nil, map[string]string{"a": `1","b":"2`}, nil), queryRule},
			call{comment, info(nil, map[string]string{"a": "1", "b": "2"}, nil), queryRule},
			false,
		},
		{
			"headers a rule does not read",
			call{comment, info(nil, nil, map[string]string{"x_token": "x"}), rule},
			call{comment, info(nil, nil, map[string]string{"x_token": "y"}), rule},
			true,
		},
		{
			"headers a rule reads",
			call{comment, info(nil, nil, map[string]string{"x_token": "x"}), headerRule},
			call{comment, info(nil, nil, map[string]string{"x_token": "y"}), headerRule},
			false,
		},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			ka, okA := accessKeyFor(s.a.record, s.a.info, s.a.rule)
			kb, okB := accessKeyFor(s.b.record, s.b.info, s.b.rule)
			require.True(t, okA)
			require.True(t, okB)
			if s.same {
				assert.Equal(t, ka, kb)
			} else {
				assert.NotEqual(t, ka, kb)
			}
		})
	}

	t.Run("a superuser is keyed as one", func(t *testing.T) {
		k, ok := accessKeyFor(comment, info(f.record(f.superusers, "s1"), nil, nil), rule)
		require.True(t, ok)
		assert.True(t, k.superuser)
	})
	t.Run("calls it cannot fingerprint are not memoized", func(t *testing.T) {
		_, ok := accessKeyFor(comment, nil, rule)
		assert.False(t, ok, "no request info")
		_, ok = accessKeyFor(comment, &core.RequestInfo{Body: map[string]any{"a": 1}}, rule)
		assert.False(t, ok, "a request body")
		_, ok = accessKeyFor(nil, info(nil, nil, nil), rule)
		assert.False(t, ok, "no record")
	})
}

// ruleApp answers CanAccessRecord like a rule "signed-in admins only" would,
// counting the calls that reach it.
type ruleApp struct {
	core.App // nil: only CanAccessRecord is called
	calls    atomic.Int64
	delay    time.Duration
	fail     atomic.Int64 // the next n calls fail
}

func (a *ruleApp) CanAccessRecord(_ *core.Record, info *core.RequestInfo, _ *string) (bool, error) {
	a.calls.Add(1)
	time.Sleep(a.delay)
	if a.fail.Add(-1) >= 0 {
		// PocketBase returns false with its errors; a broken check that said
		// true must not be believed either
		return true, errors.New("database is locked")
	}
	return info.Auth != nil && info.Auth.GetString("role") == "admin", nil
}

// memoOnly is an event app without a broker: the memo alone.
func memoOnly(inner core.App) *eventApp { return &eventApp{App: inner, memo: newMemo()} }

func TestMemoAppAnswersEachIdentity(t *testing.T) {
	f := newKeyFixture()
	comment := f.record(f.comments, "c1")
	rule := str(`@request.auth.role = "admin"`)
	inner := &ruleApp{delay: 5 * time.Millisecond}
	app := memoOnly(inner)

	// 150 clients per chunk goroutine, as PocketBase's broadcast: guests, an
	// admin and a student who is the same user as the admin's id but holds an
	// older version of the record (its role not yet changed)
	type client struct {
		auth *core.Record
		want bool
	}
	var clients []client
	for i := range 600 {
		switch i % 3 {
		case 0:
			clients = append(clients, client{nil, false})
		case 1:
			clients = append(clients, client{f.user("u1", "admin", "Ada"), true})
		case 2:
			clients = append(clients, client{f.user("u1", "student", "Ada"), false})
		}
	}
	got := make([]bool, len(clients))
	var wg sync.WaitGroup
	for start := 0; start < len(clients); start += 150 {
		wg.Go(func() {
			for i := start; i < start+150; i++ {
				info := &core.RequestInfo{Context: core.RequestInfoContextRealtime, Method: "GET", Auth: clients[i].auth}
				ok, err := app.CanAccessRecord(comment, info, rule)
				assert.NoError(t, err)
				got[i] = ok
			}
		})
	}
	wg.Wait()
	for i, c := range clients {
		assert.Equal(t, c.want, got[i], "client %d (%v)", i, c.auth)
	}
	assert.Equal(t, int64(3), inner.calls.Load(), "one query per distinct identity, whatever the goroutines")
	assert.Equal(t, int64(3), app.memo.queries.Load())
}

func TestMemoSingleFlight(t *testing.T) {
	m := newMemo()
	release := make(chan struct{})
	var runs atomic.Int64
	check := func() (bool, error) {
		runs.Add(1)
		<-release
		return true, nil
	}
	const n = 20
	results := make(chan bool, n)
	for range n {
		go func() {
			ok, _ := m.do(accessKey{record: "r"}, check)
			results <- ok
		}()
	}
	// every goroutine is either running the check or waiting for it
	time.Sleep(50 * time.Millisecond)
	close(release)
	for range n {
		assert.True(t, <-results)
	}
	assert.Equal(t, int64(1), runs.Load())
}

func TestMemoNeverKeepsAnError(t *testing.T) {
	f := newKeyFixture()
	comment := f.record(f.comments, "c1")
	admin := &core.RequestInfo{Context: core.RequestInfoContextRealtime, Method: "GET", Auth: f.user("u1", "admin", "Ada")}
	guest := &core.RequestInfo{Context: core.RequestInfoContextRealtime, Method: "GET"}
	rule := str(`@request.auth.role = "admin"`)

	for _, s := range []struct {
		name string
		info *core.RequestInfo
		want bool
	}{{"admin", admin, true}, {"guest", guest, false}} {
		t.Run(s.name, func(t *testing.T) {
			inner := &ruleApp{}
			inner.fail.Store(1)
			app := memoOnly(inner)

			ok, err := app.CanAccessRecord(comment, s.info, rule)
			assert.Error(t, err)
			assert.False(t, ok, "a failed check grants nothing, whatever it said")

			ok, err = app.CanAccessRecord(comment, s.info, rule)
			assert.NoError(t, err)
			assert.Equal(t, s.want, ok)
			ok, _ = app.CanAccessRecord(comment, s.info, rule)
			assert.Equal(t, s.want, ok)
			assert.Equal(t, int64(2), inner.calls.Load(), "the failure was asked again, the answer then kept")
		})
	}
}

func TestMemoPanicReleasesWaiters(t *testing.T) {
	m := newMemo()
	key := accessKey{record: "r"}
	started := make(chan struct{})
	type answer struct {
		ok  bool
		err error
	}
	waiter := make(chan answer, 1)
	go func() {
		defer func() { recover() }()
		m.do(key, func() (bool, error) {
			close(started)
			time.Sleep(30 * time.Millisecond)
			panic("boom")
		})
	}()
	<-started
	go func() {
		ok, err := m.do(key, func() (bool, error) { return true, nil })
		waiter <- answer{ok, err}
	}()
	select {
	case a := <-waiter:
		// it waited for the panicked check: no grant, the panic's error
		assert.False(t, a.ok)
		assert.ErrorIs(t, a.err, errPanicked)
	case <-time.After(2 * time.Second):
		t.Fatal("a waiter hung after the check panicked")
	}
	ok, err := m.do(key, func() (bool, error) { return true, nil })
	assert.NoError(t, err)
	assert.True(t, ok, "the panicked entry was forgotten")
}

func TestReadsRequest(t *testing.T) {
	for _, s := range []struct {
		rule, part string
		want       bool
	}{
		{`@request.query.token = "x"`, "query", true},
		{`@request.headers.x_token = "x"`, "headers", true},
		{`@request.headers.x_token = "x"`, "query", false},
		{`@request.auth.id != ""`, "query", false},
		{`status = "@request.query.x"`, "query", true}, // a literal only costs a miss
		{``, "query", false},
	} {
		assert.Equal(t, s.want, readsRequest(s.rule, s.part), "%q reads %s", s.rule, s.part)
	}
}
