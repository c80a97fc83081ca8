package realtime

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pocketbase/pocketbase/core"
)

// ---

// accessKey holds everything core.BaseApp.CanAccessRecord's answer depends on
// besides the database: same key ⇒ same answer within one event.
type accessKey struct {
	// the record is read back from the database by collection and id
	collection, record string

	hasRule bool // a nil rule (superusers only) is not the empty rule (everyone)
	rule    string

	superuser bool
	// @request.auth.* reads the auth record as the client holds it (two
	// connections of one user may hold different versions of it), so its
	// whole state is part of the key, not only its id
	authCollection, authID, authState string

	method, context string
	// only when the rule reads them (see readsRequest): subscription options
	// (expand, fields, filter...) differ between clients and rarely matter
	query, headers string
}

// accessKeyFor builds the memo key of one CanAccessRecord call, or reports
// false when the call must not be memoized (inputs it cannot fingerprint).
func accessKeyFor(record *core.Record, info *core.RequestInfo, rule *string) (accessKey, bool) {
	return accessKeyWith(record, info, rule, authState)
}

// accessKeyWith is accessKeyFor with the auth record's state read by state
// (an event reads each auth record's state once, see eventApp.authState).
func accessKeyWith(record *core.Record, info *core.RequestInfo, rule *string, state func(*core.Record) (string, error)) (accessKey, bool) {
	if record == nil || record.Collection() == nil || info == nil || len(info.Body) > 0 {
		// realtime checks never carry a body; anything else goes to the app
		return accessKey{}, false
	}
	k := accessKey{
		collection: record.Collection().Id,
		record:     record.Id,
		superuser:  info.HasSuperuserAuth(),
		method:     info.Method,
		context:    info.Context,
	}
	if rule != nil {
		k.hasRule, k.rule = true, *rule
	}
	if info.Auth != nil {
		if info.Auth.Collection() == nil {
			return accessKey{}, false
		}
		state, err := state(info.Auth)
		if err != nil {
			return accessKey{}, false
		}
		k.authCollection, k.authID, k.authState = info.Auth.Collection().Id, info.Auth.Id, state
	}
	if readsRequest(k.rule, "query") {
		k.query = canonical(info.Query)
	}
	if readsRequest(k.rule, "headers") {
		k.headers = canonical(info.Headers)
	}
	return k, true
}

// readsRequest reports whether a rule may read @request.<part>. PocketBase's
// record field resolver only accepts such fields as identifiers matching
// `^\@request\.<part>\.…` (case-sensitive), so a rule without that text
// cannot depend on it; text inside a string literal only costs a memo miss.
func readsRequest(rule, part string) bool {
	return strings.Contains(rule, "@request."+part+".")
}

// authState fingerprints what the rule resolver reads of the auth record: its
// field values (hidden ones included, as the resolver unhides them), unknown
// custom data and expand. encoding/json writes map keys sorted.
func authState(auth *core.Record) (string, error) {
	b, err := json.Marshal(struct {
		Fields map[string]any `json:"f"`
		Custom map[string]any `json:"c"`
		Expand map[string]any `json:"e"`
	}{auth.FieldsData(), auth.CustomData(), auth.Expand()})
	return string(b), err
}

// canonical encodes a string map the same way whatever its iteration order;
// nil and empty are the same (the resolver finds no key in either).
func canonical(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		// JSON-quoted so no key or value can forge a separator
		kq, _ := json.Marshal(k)
		vq, _ := json.Marshal(m[k])
		b.Write(kq)
		b.WriteByte(':')
		b.Write(vq)
		b.WriteByte(',')
	}
	return b.String()
}

// ---

// memo is a concurrent single-flight map: PocketBase checks clients in chunks
// of 150 on parallel goroutines, and the first asker of a key runs the query
// while the others wait for its answer instead of running it too.
type memo struct {
	mu    sync.Mutex
	calls map[accessKey]*call

	queries atomic.Int64 // checks that reached the app (for tests)
}

type call struct {
	done chan struct{}
	ok   bool
	err  error
}

var errPanicked = errors.New("realtime: access check panicked")

func newMemo() *memo {
	return &memo{calls: map[accessKey]*call{}}
}

// do returns the memoized answer for key, running check once per key. A
// failed check is answered false to those already waiting for it and then
// forgotten, so the next asker runs the query again: an error is never kept,
// let alone as a grant.
func (m *memo) do(key accessKey, check func() (bool, error)) (bool, error) {
	m.mu.Lock()
	if c, ok := m.calls[key]; ok {
		m.mu.Unlock()
		<-c.done
		return c.ok, c.err
	}
	c := &call{done: make(chan struct{}), err: errPanicked}
	m.calls[key] = c
	m.mu.Unlock()

	defer func() {
		// also runs when check panics (PocketBase's chunk goroutines recover)
		if c.err != nil {
			c.ok = false
			m.mu.Lock()
			delete(m.calls, key)
			m.mu.Unlock()
		}
		close(c.done)
	}()
	m.queries.Add(1)
	ok, err := check()
	if err != nil {
		ok = false
	}
	c.ok, c.err = ok, err
	return ok, err
}
