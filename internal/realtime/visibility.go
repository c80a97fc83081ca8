package realtime

// ---
// Leaving a subscriber's view: an update that makes a record invisible to a
// subscription that could see it (a comment hidden or flagged, a post or
// course turned back to draft, a subscription filter that stops matching)
// sends that subscription a `delete` event carrying the record as it was
// before the update, shaped for that client (its expand, fields, rights).
//
// PocketBase checks access only against the new state: it sends an `update`
// to those who can see it and nothing to the others, so an open page would
// keep showing a comment a moderator just hid. Two steps close that:
//
//   - before the update is written (OnModelUpdate, the latest handler) the
//     subscriptions to the record's collection are checked against the row as
//     committed, through the app Register got, outside the write's
//     transaction, like PocketBase's own dry run before a delete. Those that
//     can view it are remembered with the committed record (read once, only
//     when somebody can see it).
//   - after the commit (OnModelAfterUpdateSuccess, at PocketBase's broadcast
//     priority, so with the event's memoizing app and fanout) each remembered
//     subscription is checked again; one that no longer passes gets the
//     delete. Its message goes through the event's own clients and enrich
//     hook, so it is counted in the event's fanout and sequenced like
//     PocketBase's messages: it never overtakes an earlier event's update,
//     and a later event (the record shown again) never overtakes it.
//
// "Can view" is what PocketBase's broadcast asks: the topic's rule (view rule
// for `coll/id`, list rule for `coll/*`), then the subscription's filter
// option. The filter counts as part of the view on purpose: a page
// subscribed to `comments/*` with `post = "x"` shows exactly those records,
// and a record that stops matching has left it.
//
// Cost: nothing at all without a client subscribed to the collection. With
// subscribers, the checks before the write are memoized per identity and
// question (memo.go; the filter's SQL too), and the checks after it only run
// for subscriptions that could see the record, their rule answers shared with
// PocketBase's broadcast through the event's memo.
//
// Records whose rules read the updated one (a post's comments) are handled
// in dependents.go, in the same two steps.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/picker"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/search"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"golang.org/x/sync/errgroup"
)

// viewChecks counts the access checks this file ran itself (for tests).
var viewChecks atomic.Int64

// leaveViewsOff turns both steps off: the baseline of BenchmarkCommentUpdate.
var leaveViewsOff bool

// viewPriorityBefore runs after every other OnModelUpdate handler, right
// before the row is written: a save refused earlier costs no check.
const viewPriorityBefore = 99

// registerVisibility binds the two steps to app.
func registerVisibility(app core.App) {
	v := &visibility{app: app, pending: map[core.Model]*seenBefore{}}
	app.OnModelUpdate().Bind(&hook.Handler[*core.ModelEvent]{Func: v.before, Priority: viewPriorityBefore})
	// between Register's eventPriority and plainPriority handlers, like
	// PocketBase's broadcast: e.App is the event's app
	app.OnModelAfterUpdateSuccess().Bind(&hook.Handler[*core.ModelEvent]{Func: v.after, Priority: eventPriority + 1})
	app.OnModelAfterUpdateError().Bind(&hook.Handler[*core.ModelErrorEvent]{Func: v.failed, Priority: eventPriority + 1})
}

type visibility struct {
	app core.App // reads the committed state, outside any write transaction

	mu sync.Mutex
	// the update's model → who could see it; the same *core.ModelEvent is
	// not available to the error hook (it gets a copy), the model is
	pending map[core.Model]*seenBefore
}

// seenBefore is what one update's subscribers could see before it.
type seenBefore struct {
	refs int  // saves of the model begun and not yet finished (a transaction may save it twice)
	done bool // the first success handled it: the committed state it read is the pre-transaction one

	record *core.Record // as committed before the update; nil when nobody could see it
	subs   []viewer
	deps   []dependentSub // subscriptions to records whose rules read this one (dependents.go)
}

// viewer is one subscription that could view the record before the update.
type viewer struct {
	client, sub string
	options     subscriptions.SubscriptionOptions
	rule        *string
	auth        *core.Record // the client's auth at that check: the delete is shaped with the rights it saw the record with
}

// topicRules maps the topic prefixes of r's collection to the rule
// PocketBase's broadcast checks for them (apis/realtime.go).
func topicRules(c *core.Collection, id string) map[string]*string {
	return map[string]*string{
		c.Name + "/" + id + "?": c.ViewRule,
		c.Id + "/" + id + "?":   c.ViewRule,
		c.Name + "/*?":          c.ListRule,
		c.Id + "/*?":            c.ListRule,
		c.Name + "?":            c.ListRule, // deprecated form of coll/*, still honoured
		c.Id + "?":              c.ListRule,
	}
}

func (v *visibility) before(e *core.ModelEvent) error {
	r := asRecord(e.Model)
	if leaveViewsOff || r == nil || r.Collection() == nil || r.Id == "" || v.app.SubscriptionsBroker().TotalClients() == 0 {
		return e.Next()
	}
	v.mu.Lock()
	if s, ok := v.pending[e.Model]; ok {
		// saved again in the same transaction: the first check already read
		// the committed state, which has not changed since
		s.refs++
		v.mu.Unlock()
		return e.Next()
	}
	v.mu.Unlock()

	s := &seenBefore{refs: 1}
	loaded := false
	old := func() *core.Record {
		if !loaded {
			s.record, _ = v.app.FindRecordById(r.Collection(), r.Id)
			loaded = true
		}
		return s.record
	}
	s.subs = v.viewers(r)
	if len(s.subs) > 0 && old() == nil {
		s.subs = nil // not committed yet (created in this transaction): nobody saw it
	}
	s.deps = v.dependents(r, old)
	v.mu.Lock()
	v.pending[e.Model] = s
	v.mu.Unlock()
	return e.Next()
}

// viewers returns the subscriptions that can view r as committed now. The
// clients are checked in chunks on parallel goroutines, as PocketBase's
// broadcast does; the memos make one query per distinct question.
func (v *visibility) viewers(r *core.Record) []viewer {
	rules := topicRules(r.Collection(), r.Id)
	ruleMemo, filterMemo := newMemo(), newMemo()
	var mu sync.Mutex
	var out []viewer
	var g errgroup.Group
	for _, chunk := range v.app.SubscriptionsBroker().ChunkedClients(150) {
		g.Go(func() error {
			for _, c := range chunk {
				for prefix, rule := range rules {
					subs := c.Subscriptions(prefix)
					if len(subs) == 0 {
						continue
					}
					auth, _ := c.Get(apis.RealtimeClientAuthKey).(*core.Record)
					for sub, opts := range subs {
						if !canView(v.app, ruleMemo, filterMemo, r, requestInfo(opts, auth), rule) {
							continue
						}
						mu.Lock()
						out = append(out, viewer{client: c.Id(), sub: sub, options: opts, rule: rule, auth: auth})
						mu.Unlock()
					}
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	return out
}

func (v *visibility) after(e *core.ModelEvent) error {
	s := v.take(e.Model, true)
	if s == nil {
		return e.Next()
	}
	r := asRecord(e.Model)
	if r == nil {
		return e.Next()
	}
	sendDependents(e.App, s.deps)
	if s.record == nil {
		return e.Next()
	}
	// e.App is the event's app here: its CanAccessRecord shares answers with
	// PocketBase's broadcast of the same update
	filterMemo := newMemo()
	for _, w := range s.subs {
		// the event's broker may hold groups of clients (group.go): look the
		// client up as the event sends to it
		client, err := eventClientByID(e.App, w.client)
		if err != nil || !client.HasSubscription(w.sub) {
			continue // gone, or unsubscribed since: it shows nothing of it any more
		}
		auth, _ := client.Get(apis.RealtimeClientAuthKey).(*core.Record)
		if canView(e.App, nil, filterMemo, r, requestInfo(w.options, auth), w.rule) {
			continue // still visible: PocketBase sends it the update
		}
		msg, ok := deleteMessage(e.App, s.record, w)
		if !ok {
			continue
		}
		go client.Send(msg) // like PocketBase's sends; the event's client keeps the order
	}
	return e.Next()
}

func (v *visibility) failed(e *core.ModelErrorEvent) error {
	v.take(e.Model, false)
	return e.Next()
}

// take ends one save of m. On success the first one gets the state seen
// before (later saves of the model in the same transaction get nil: their
// subscribers were handled); the entry goes once every save has finished.
func (v *visibility) take(m core.Model, success bool) *seenBefore {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.pending[m]
	if !ok {
		return nil
	}
	s.refs--
	if s.refs <= 0 {
		delete(v.pending, m)
	}
	if !success || s.done {
		return nil
	}
	s.done = true
	return s
}

// requestInfo is the request PocketBase's broadcast checks a subscription as.
func requestInfo(opts subscriptions.SubscriptionOptions, auth *core.Record) *core.RequestInfo {
	return &core.RequestInfo{
		Context: core.RequestInfoContextRealtime,
		Method:  http.MethodGet,
		Query:   opts.Query,
		Headers: opts.Headers,
		Auth:    auth,
	}
}

// canView answers what PocketBase's broadcast asks before sending a record
// to a subscription (apis/realtime.go realtimeCanAccessRecord): the rule,
// then the subscription's filter, which may not read @request.* or
// @collection.* (superusers excepted) nor hidden fields. A nil ruleMemo uses
// app's own CanAccessRecord (the event's app memoizes it).
func canView(app core.App, ruleMemo, filterMemo *memo, r *core.Record, info *core.RequestInfo, rule *string) bool {
	if !remembered(ruleMemo, r, info, rule, func() (bool, error) {
		if ruleMemo != nil {
			viewChecks.Add(1) // without a memo of ours, the event app's memo counts it
		}
		return app.CanAccessRecord(r, info, rule)
	}) {
		return false
	}
	filter := info.Query[search.FilterQueryParam]
	if filter == "" {
		return true
	}
	if !info.HasSuperuserAuth() {
		for _, param := range []string{search.FilterQueryParam, search.SortQueryParam} {
			if p := info.Query[param]; strings.Contains(p, "@collection.") || strings.Contains(p, "@request.") {
				return false
			}
		}
	}
	return remembered(filterMemo, r, info, &filter, func() (bool, error) {
		viewChecks.Add(1)
		return matchesFilter(app, r, info, filter)
	})
}

// remembered runs check through m under the key of (r, info, q), or straight
// when m is nil or the inputs cannot be keyed.
func remembered(m *memo, r *core.Record, info *core.RequestInfo, q *string, check func() (bool, error)) bool {
	if m != nil {
		if key, ok := accessKeyFor(r, info, q); ok {
			ok, _ := m.do(key, check)
			return ok
		}
	}
	ok, _ := check()
	return ok
}

// matchesFilter is PocketBase's subscription filter check: one query over
// the record's row, hidden fields not allowed.
func matchesFilter(app core.App, r *core.Record, info *core.RequestInfo, filter string) (bool, error) {
	name := r.Collection().Name
	q := app.ConcurrentDB().Select("(1)").From(name).AndWhere(dbx.HashExp{name + ".id": r.Id})
	resolver := core.NewRecordFieldResolver(app, r.Collection(), info, false)
	expr, err := search.FilterData(filter).BuildExpr(resolver)
	if err != nil {
		return false, err
	}
	q.AndWhere(expr)
	if err := resolver.UpdateQuery(q); err != nil {
		return false, err
	}
	var exists int
	err = q.Limit(1).Row(&exists)
	return err == nil && exists > 0, nil
}

// deleteMessage builds the delete of old for one subscription as PocketBase
// builds its events: a clean copy, enriched by the app's enrich hooks and
// PocketBase's default enriching (hidden fields for superusers only, email
// visibility, the subscription's expand with each related record's view
// rule), then cut to its fields option.
func deleteMessage(app core.App, old *core.Record, w viewer) (subscriptions.Message, bool) {
	info := requestInfo(w.options, w.auth)
	rec := old.Fresh()

	q := url.Values{}
	for k, v := range info.Query {
		q.Set(k, v)
	}
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/api/realtime", RawQuery: q.Encode()}, Header: http.Header{}}
	for k, v := range info.Headers {
		req.Header.Set(k, v)
	}
	re := &core.RequestEvent{App: app}
	re.Event = router.Event{Request: req}
	re.Auth = w.auth
	re.Set(core.RequestEventKeyInfoContext, core.RequestInfoContextRealtime)
	// EnrichRecords runs OnRecordEnrich (where Register counts the event's
	// messages) and expands as the regular record API does
	if err := apis.EnrichRecords(re, []*core.Record{rec}); err != nil {
		return subscriptions.Message{}, false
	}

	data := struct {
		Record any    `json:"record"`
		Action string `json:"action"`
	}{Record: rec, Action: "delete"}
	if fields := info.Query["fields"]; fields != "" {
		if picked, err := picker.Pick(rec, fields); err == nil {
			data.Record = picked
		}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return subscriptions.Message{}, false
	}
	return subscriptions.Message{Name: w.sub, Data: b}, true
}
