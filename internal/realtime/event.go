package realtime

import (
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// eventApp is the app PocketBase's broadcast of one record event runs with.
// Every method is the wrapped app's except two:
//
//   - CanAccessRecord is memoized for this event (memo.go);
//   - SubscriptionsBroker is a broker of this event only, holding the same
//     clients wrapped in eventClient, so that the sends of this event can be
//     told from those of other events (see fanout).
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
	broker *subscriptions.Broker
	fanout *fanout

	// the event's record, to tell its enrich calls from an expand's
	collection, record string
}

// newEventApp wraps app for one event of record r. Every client is in the
// event's broker: PocketBase's handlers of auth records update or sign out
// clients whatever they subscribe to. (Leaving out the clients without a
// topic of r's collection cost more in the scan than it saved in the
// broadcast, measured with BenchmarkCommentCreate.)
func newEventApp(app core.App, f *fanout, r *core.Record) *eventApp {
	a := &eventApp{App: app, memo: newMemo(), fanout: f, collection: r.Collection().Id, record: r.Id}
	a.broker = subscriptions.NewBroker()
	for _, c := range app.SubscriptionsBroker().Clients() {
		a.broker.Register(&eventClient{Client: c, fanout: f})
	}
	return a
}

// CanAccessRecord answers from the memo when another client of this event
// asked the same question (see accessKeyFor for what "the same" takes).
func (a *eventApp) CanAccessRecord(record *core.Record, info *core.RequestInfo, rule *string) (bool, error) {
	key, ok := accessKeyFor(record, info, rule)
	if !ok {
		return a.App.CanAccessRecord(record, info, rule)
	}
	return a.memo.do(key, func() (bool, error) { return a.App.CanAccessRecord(record, info, rule) })
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

	mu       sync.Mutex
	expected int
	queued   int
	finished bool
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
	if f.queued >= f.expected {
		close(f.flushed)
		return
	}
	s.mu.Lock()
	s.pending[f] = struct{}{}
	s.mu.Unlock()
	f.timer = time.AfterFunc(FlushTimeout, func() {
		if f.flush() && s.onSlow != nil {
			s.onSlow()
		}
	})
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
	done := f.finished && f.queued >= f.expected
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

func (f *fanout) awaitEarlier() {
	for _, e := range f.earlier {
		<-e.flushed // closed by FlushTimeout at the latest
	}
}
