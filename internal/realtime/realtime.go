// Package realtime keeps a record write's response time from growing with the
// number of realtime subscribers, without changing who receives what, and
// delivers each client's events in write order.
//
// PocketBase broadcasts a created or updated record inside the write request
// (apis/realtime.go, an after-success model hook at priority -99): for every
// subscribed client it runs the collection's list/view rule as one SQL query
// (app.CanAccessRecord), then copies, enriches and encodes the record and
// hands the message to a goroutine of its own that waits on the client's
// unbuffered channel; a subscription's `filter` option adds one more SQL
// query per client. This package changes these things around that loop,
// through PocketBase's public hooks only (the loop itself is PocketBase's):
//
//   - clients that hold the same auth record state and the same topics of
//     the record's collection are sent the same messages, so the loop runs
//     once per such group and each message goes to every member (group.go):
//     5,000 guests on one post's live page cost one rule check, one filter
//     query and one encoding;
//   - the access answers of one broadcast are memoized (memo.go): clients
//     that would run the same rule with the same inputs share one query, and
//     so are the filter queries, by their exact SQL and bound values
//     (querymemo.go). The broadcast stays synchronous, so every answer still
//     reads the database as it is right after the write, as PocketBase's
//     would;
//   - the messages of a record an API request writes are handed to the
//     clients once the request's response is written (hold.go): thousands of
//     SSE goroutines woken during the request would otherwise make the
//     writer wait for the last delivery.
//   - each realtime client gets a buffered, ordered queue (client.go), so a
//     message is queued at once instead of parking a goroutine until the
//     client's SSE loop comes round; a client that stays too far behind is
//     disconnected (and the SDK reconnects) rather than silently missing an
//     event.
//   - the sends of successive events are sequenced (event.go): PocketBase's
//     goroutine per message may otherwise deliver a later write's event first.
package realtime

import (
	"fmt"
	"sync/atomic"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

const (
	// eventPriority runs before PocketBase's realtime handlers (-99) so that
	// they get the event's app; plainPriority runs right after them so the
	// handlers further down the chain get the plain app again.
	eventPriority = -100
	plainPriority = -98
	// holdPriority runs a record request hook before any other, so that its
	// e.Next() returns only once the request's response is written
	holdPriority = -1000
)

// dropped counts the clients disconnected for not reading their events.
var dropped atomic.Int64

// Dropped is the number of realtime clients disconnected since start for
// falling too far behind their events (the SDK reconnects them).
func Dropped() int64 { return dropped.Load() }

// Register binds the buffered realtime clients, the per-broadcast access memo
// and the event sequencing to app. Call it before the app serves (PocketBase
// binds its own broadcast hooks when it builds the router).
func Register(app core.App) {
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		// before e.Next(): that registers e.Client with the broker and runs
		// the SSE loop over e.Client.Channel()
		broker := e.App.SubscriptionsBroker()
		e.Client = newBufferedClient(e.Client, ClientBuffer, MaxQueued, FullWait, func(id string) {
			// unregistering discards the client (closing its channel ends the
			// SSE loop and the connection) and spares later broadcasts its
			// access checks
			broker.Unregister(id)
			dropped.Add(1)
			e.App.Logger().Debug("Realtime client disconnected: not reading its events", "clientId", id)
		})
		return e.Next()
	})

	// the API request writing a record holds its event's sends until its
	// response is written (holdResponse)
	for _, h := range []*hook.TaggedHook[*core.RecordRequestEvent]{app.OnRecordCreateRequest(), app.OnRecordUpdateRequest()} {
		h.Bind(&hook.Handler[*core.RecordRequestEvent]{Func: holdResponse, Priority: holdPriority})
	}
	seq := newSequencer(func() {
		app.Logger().Warn("realtime: an event's messages were not all queued within the flush timeout; later events went ahead")
	})
	withEvent := func(dryKey func(core.Model) string) func(*core.ModelEvent) error {
		return func(e *core.ModelEvent) error {
			r := asRecord(e.Model)
			if r == nil || r.Collection() == nil || e.App.SubscriptionsBroker().TotalClients() == 0 {
				return e.Next()
			}
			f := seq.begin(dryKey(e.Model))
			f.holdUntil(heldBy(r)) // before any send: PocketBase's broadcast runs below
			defer seq.finish(f)    // if the chain stopped before plainApp
			plain := e.App
			e.App = newEventApp(plain, f, r)
			defer func() { e.App = plain }()
			return e.Next()
		}
	}
	plainApp := func(e *core.ModelEvent) error {
		if a, ok := e.App.(*eventApp); ok {
			seq.finish(a.fanout) // PocketBase's broadcast has returned: every message is counted
			e.App = a.App
		}
		return e.Next()
	}
	noDryKey := func(core.Model) string { return "" }
	for _, h := range []*hook.TaggedHook[*core.ModelEvent]{app.OnModelAfterCreateSuccess(), app.OnModelAfterUpdateSuccess()} {
		h.Bind(&hook.Handler[*core.ModelEvent]{Func: withEvent(noDryKey), Priority: eventPriority})
		h.Bind(&hook.Handler[*core.ModelEvent]{Func: plainApp, Priority: plainPriority})
	}
	// Deletes are sequenced but not memoized: PocketBase checks access for a
	// delete in OnModelDelete, before the record goes, with the app its hooks
	// were bound with rather than e.App (so that the checks run outside the
	// delete's transaction); a wrapper on e.App never sees those calls, and
	// that app cannot be replaced through the public API. The after-success
	// hook only sends the messages computed then.
	app.OnModelAfterDeleteSuccess().Bind(&hook.Handler[*core.ModelEvent]{Func: withEvent(deleteKey), Priority: eventPriority})
	app.OnModelAfterDeleteSuccess().Bind(&hook.Handler[*core.ModelEvent]{Func: plainApp, Priority: plainPriority})

	// The messages of a create or update are counted where PocketBase
	// enriches each client's copy of the record, right before sending it.
	app.OnRecordEnrich().BindFunc(func(e *core.RecordEnrichEvent) error {
		a, ok := e.App.(*eventApp)
		if !ok || e.RequestInfo == nil || e.RequestInfo.Context != core.RequestInfoContextRealtime ||
			e.Record == nil || e.Record.Id != a.record || e.Record.Collection().Id != a.collection {
			return e.Next() // not the broadcast's record (an expand's, another request's)
		}
		if err := e.Next(); err != nil {
			return err // PocketBase sends nothing for it
		}
		a.fanout.expect(1)
		return nil
	})

	registerVisibility(app) // an update that hides a record deletes it from its viewers (visibility.go)
}

// asRecord returns the record PocketBase's broadcast takes the model as when
// it needs no database read (custom models are left alone).
func asRecord(m core.Model) *core.Record {
	switch r := m.(type) {
	case *core.Record:
		return r
	case core.RecordProxy:
		return r.ProxyRecord()
	}
	return nil
}

// deleteKey is the key PocketBase keeps a delete's messages under in each
// client's store until the delete commits (apis/realtime.go getDryCacheKey).
func deleteKey(m core.Model) string {
	pk, ok := m.PK().(string)
	if !ok {
		pk = fmt.Sprintf("%v", m.PK())
	}
	return "delete/" + m.TableName() + "/" + pk
}
