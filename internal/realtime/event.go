package realtime

import (
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// eventApp is the app PocketBase's broadcast of one record event runs with.
// Every method is the wrapped app's except three:
//
//   - CanAccessRecord is memoized for this event (memo.go);
//   - ConcurrentDB memoizes the subscriptions' filter queries for this event
//     (querymemo.go);
//   - SubscriptionsBroker is a broker of this event only: for a record of a
//     base or view collection one groupClient per distinct (auth state,
//     topics of the collection), standing for its members (group.go); for an
//     auth record or a delete, every client wrapped in eventClient. Either
//     way the sends of this event can be told from those of other events
//     (see fanout).
//
// It is in place only from Register's eventPriority handler to its
// plainPriority one, around PocketBase's -99 handlers: the broadcast writes
// nothing, so within it the same question has the same answer (the memo makes
// every client's answer the one the database gave at the first asking, a few
// milliseconds earlier at most; PocketBase's own loop answers clients at
// slightly different moments too). PocketBase's record after-success hooks
// (priority -99, bound before the broadcast) also run inside that window; none
// of Lectern's calls CanAccessRecord.
type eventApp struct {
	core.App
	memo   *memo
	dbMemo *queryMemo
	states sync.Map // *core.Record → its authState, read once per event
	broker *subscriptions.Broker
	fanout *fanout

	// the event's record, to tell its enrich calls from an expand's
	collection, record string

	shortcut bool // ask the rules' public disjuncts first (see publicGrant)
}

// newEventApp wraps app for one event of record r. For an auth record every
// client is in the event's broker (PocketBase's handlers of auth records
// update or sign out clients whatever they subscribe to) and for a delete too
// (its messages were computed per client before the delete, see Register);
// otherwise the broker holds the groups of the clients with a topic of r's
// collection (group.go).
func newEventApp(app core.App, f *fanout, r *core.Record) *eventApp {
	a := &eventApp{App: app, memo: newMemo(), dbMemo: newQueryMemo(), fanout: f, collection: r.Collection().Id, record: r.Id, shortcut: !noShortcut.Load()}
	a.broker = subscriptions.NewBroker()
	if r.Collection().IsAuth() || f.dryKey != "" {
		for _, c := range app.SubscriptionsBroker().Clients() {
			a.broker.Register(&eventClient{Client: c, fanout: f})
		}
		return a
	}
	groups := groupClients(app.SubscriptionsBroker().Clients(), r.Collection(), f, a.authState)
	for _, g := range groups {
		a.broker.Register(g)
	}
	a.prefetchRules(r, groups)
	return a
}

// CanAccessRecord answers from the memo when another client of this event
// asked the same question (see accessKeyFor for what "the same" takes).
// Before a caller's own question it asks the rule's disjuncts that read
// nothing of the request (disjunct.go), once for everyone: when one holds,
// the rule holds whoever asks.
func (a *eventApp) CanAccessRecord(record *core.Record, info *core.RequestInfo, rule *string) (bool, error) {
	key, ok := accessKeyWith(record, info, rule, a.authState)
	if !ok {
		return a.App.CanAccessRecord(record, info, rule)
	}
	if a.publicGrant(record, info, rule) {
		return true, nil
	}
	return a.memo.do(key, func() (bool, error) { return a.App.CanAccessRecord(record, info, rule) })
}

// publicGrant reports whether a disjunct of rule that reads nothing of the
// request holds for record. A nil rule (superusers only) and superusers
// (granted without a query) are never shortcut; an error is no grant.
func (a *eventApp) publicGrant(record *core.Record, info *core.RequestInfo, rule *string) bool {
	if rule == nil || info.HasSuperuserAuth() || !a.shortcut {
		return false
	}
	for _, d := range publicDisjuncts(*rule) {
		// the disjunct reads no request: no auth, query, headers or body
		anyone := &core.RequestInfo{Method: info.Method, Context: info.Context}
		key, ok := accessKeyWith(record, anyone, &d, a.authState)
		if !ok {
			continue
		}
		held, err := a.memo.do(key, func() (bool, error) { return a.App.CanAccessRecord(record, anyone, &d) })
		if err == nil && held {
			return true
		}
	}
	return false
}

// authState is the auth record's state (memo.go), read once per event and
// record: an auth record is not changed while the broadcast runs (the
// clients' records are replaced, not edited, when a user is saved).
func (a *eventApp) authState(r *core.Record) (string, error) {
	if v, ok := a.states.Load(r); ok {
		return v.(string), nil
	}
	s, err := authState(r)
	if err == nil {
		a.states.Store(r, s)
	}
	return s, err
}

// ConcurrentDB memoizes the single-row SELECTs run on it for this event
// (querymemo.go): PocketBase's broadcast runs each subscription's filter
// through it.
func (a *eventApp) ConcurrentDB() dbx.Builder {
	db, ok := a.App.ConcurrentDB().(*dbx.DB)
	if !ok || a.dbMemo == nil {
		return a.App.ConcurrentDB() // a transaction's: not the broadcast's
	}
	return &memoBuilder{DB: db, memo: a.dbMemo}
}

// clientByID returns the client id as this event sends to it: counted in the
// event's fanout. With groups in the event's broker, the real client is
// looked up in the app's broker and wrapped on its own.
func (a *eventApp) clientByID(id string) (subscriptions.Client, error) {
	if c, err := a.broker.ClientById(id); err == nil {
		return c, nil
	}
	c, err := a.App.SubscriptionsBroker().ClientById(id)
	if err != nil {
		return nil, err
	}
	return &eventClient{Client: c, fanout: a.fanout}, nil
}

// eventClientByID is the client id of app's broker as the event of app (if
// app is an event's app) sends to it.
func eventClientByID(app core.App, id string) (subscriptions.Client, error) {
	if a, ok := app.(*eventApp); ok {
		return a.clientByID(id)
	}
	return app.SubscriptionsBroker().ClientById(id)
}

// SubscriptionsBroker is this event's broker (same clients, wrapped).
func (a *eventApp) SubscriptionsBroker() *subscriptions.Broker { return a.broker }

// eventClient is one client as one event's broadcast sees it: everything is
// the client's own, but each Send is counted for the event's fanout and waits
// until the events finished before this one have queued theirs.
type eventClient struct {
	subscriptions.Client
	fanout *fanout
}

func (c *eventClient) Send(m subscriptions.Message) {
	if !c.fanout.hold(func() { c.send(m) }) {
		c.send(m)
	}
}

func (c *eventClient) send(m subscriptions.Message) {
	c.fanout.awaitEarlier()
	if _, ordered := c.Client.(*bufferedClient); ordered {
		c.Client.Send(m) // never blocks: the message is queued once it returns
		c.fanout.sent(1)
		return
	}
	// a client of another kind may block in Send for as long as its reader
	// likes: count it first so that later events do not wait on it
	c.fanout.sent(1)
	c.Client.Send(m)
}

// Get counts a delete's messages: PocketBase computes them before the delete
// (OnModelDelete), keeps them in the client's store under the delete's key
// and sends them from the after-success hook, reading them with Get.
func (c *eventClient) Get(key string) any {
	v := c.Client.Get(key)
	if msgs, ok := v.([]subscriptions.Message); ok && key == c.fanout.dryKey {
		c.fanout.expect(len(msgs))
	}
	return v
}

// ---

// FlushTimeout bounds how long an event's sends wait for an earlier event's
// to be queued. It is a safety net: the count of an event's messages comes
// from its enrich calls, and a message PocketBase drops after enriching (a
// JSON encoding error) would otherwise hold the later events forever.
var FlushTimeout = time.Second

// fanout follows one event's messages from PocketBase's broadcast into the
// clients' queues. PocketBase sends each message on a goroutine of its own
// (routine.FireAndForget), so without this a client may get two events of
// successive writes in either order. Here every send of an event first waits
// until the events whose broadcast had finished when this one began have all
// their messages queued: successive events reach every client in order, and
// no writer waits for any of it.
type fanout struct {
	earlier []*fanout // finished, not yet flushed when this event began
	dryKey  string    // a delete's key in the clients' stores
	// release, when set, is closed once the API request that made the write
	// has run its handler chain (its response is written): until then the
	// event's sends are held, in order, and run after it (see holdUntil)
	release <-chan struct{}

	mu       sync.Mutex
	expected int
	queued   int
	finished bool
	released bool     // release was closed: sends run at once
	held     []func() // sends made before the release, in call order
	running  bool     // the held sends are being run
	flushed  chan struct{}
	timer    *time.Timer
}

// sequencer holds the app's finished fanouts whose messages are not all
// queued yet.
type sequencer struct {
	mu      sync.Mutex
	pending map[*fanout]struct{}
	onSlow  func() // called when a fanout hits FlushTimeout
}

func newSequencer(onSlow func()) *sequencer {
	return &sequencer{pending: map[*fanout]struct{}{}, onSlow: onSlow}
}

// begin starts an event's fanout after every fanout finished before it.
func (s *sequencer) begin(dryKey string) *fanout {
	f := &fanout{dryKey: dryKey, flushed: make(chan struct{})}
	s.mu.Lock()
	for p := range s.pending {
		f.earlier = append(f.earlier, p)
	}
	s.mu.Unlock()
	return f
}

// finish marks the broadcast done: all of its messages are counted. It is
// safe to call more than once.
func (s *sequencer) finish(f *fanout) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.finished {
		return
	}
	f.finished = true
	if f.doneLocked() {
		close(f.flushed)
		return
	}
	s.mu.Lock()
	s.pending[f] = struct{}{}
	s.mu.Unlock()
	timeout := func() {
		if f.flush() && s.onSlow != nil {
			s.onSlow()
		}
	}
	if f.release == nil {
		f.timer = time.AfterFunc(FlushTimeout, timeout)
	} else {
		// the sends cannot start before the release: time them from it
		go func() {
			select {
			case <-f.release:
				f.mu.Lock()
				select {
				case <-f.flushed:
				default:
					f.timer = time.AfterFunc(FlushTimeout, timeout)
				}
				f.mu.Unlock()
			case <-f.flushed:
			}
		}()
	}
	go func() {
		<-f.flushed
		s.mu.Lock()
		delete(s.pending, f)
		s.mu.Unlock()
	}()
}

func (f *fanout) expect(n int) {
	f.mu.Lock()
	f.expected += n
	f.mu.Unlock()
}

func (f *fanout) sent(n int) {
	f.mu.Lock()
	f.queued += n
	done := f.finished && f.doneLocked()
	f.mu.Unlock()
	if done {
		f.flush()
	}
}

// flush releases the later events; it reports whether this call did it.
func (f *fanout) flush() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.flushed:
		return false
	default:
	}
	close(f.flushed)
	if f.timer != nil {
		f.timer.Stop()
	}
	return true
}

// doneLocked reports whether every message of the event is queued: the
// counted ones, and whatever was held for the release (a send made inside
// the request is not counted, see dependents.go).
func (f *fanout) doneLocked() bool {
	return f.queued >= f.expected && len(f.held) == 0 && !f.running
}

// holdUntil holds the event's sends until release is closed, then runs them
// in the order they were made, on a goroutine of its own: a send made inside
// the request (dependents.go sends synchronously) returns at once instead of
// waiting for the request to end, which would never come.
func (f *fanout) holdUntil(release <-chan struct{}) {
	if release == nil {
		return
	}
	f.release = release
	go func() {
		<-release
		f.mu.Lock()
		f.released, f.running = true, true
		held := f.held
		f.held = nil
		f.mu.Unlock()
		for _, send := range held {
			send()
		}
		f.mu.Lock()
		f.running = false
		done := f.finished && f.doneLocked()
		f.mu.Unlock()
		if done {
			f.flush()
		}
	}()
}

// hold keeps send for the release when the event's sends are held; it
// reports whether it did.
func (f *fanout) hold(send func()) bool {
	if f.release == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.released {
		return false
	}
	f.held = append(f.held, send)
	return true
}

func (f *fanout) awaitEarlier() {
	for _, e := range f.earlier {
		<-e.flushed // closed by FlushTimeout at the latest
	}
}
