package realtime

import (
	"sync"

	"github.com/pocketbase/pocketbase/core"
)

// Holding the sends until the response: PocketBase broadcasts a record from
// an after-success hook, inside the write request, and sends each message
// on a goroutine of its own. With thousands of subscribers of one record
// (a live post page) those sends wake thousands of SSE goroutines while the
// writer still has its response to encode and write; on a busy machine the
// writer then waits its turn behind all of them, and the create takes as
// long as the last delivery. So the messages of a record written by an API
// create or update are computed in the request, as before (the access
// decisions read the database right after the write), but handed to the
// clients once the request's hook chain has returned, i.e. once the
// response is written. A send made inside the request (dependents.go sends
// synchronously) is kept in the event's order and returns at once, so
// holding never blocks the request (event.go holdUntil); a write made
// outside a request (a cron job, a CLI command) is not held.

// held maps a record an API request is writing to the channel closed when
// that request's hook chain returns.
var held sync.Map // *core.Record → chan struct{}

// holdResponse is bound first on the record create and update request
// hooks: its e.Next() runs the other hooks, the save (and so the broadcast)
// and the response.
func holdResponse(e *core.RecordRequestEvent) error {
	if e.Record == nil || e.App.SubscriptionsBroker().TotalClients() == 0 {
		return e.Next()
	}
	r := e.Record // the save's model: form.SetRecord(e.Record)
	release := make(chan struct{})
	held.Store(r, release)
	defer func() {
		held.CompareAndDelete(r, release)
		close(release)
	}()
	return e.Next()
}

// heldBy returns the release of the request writing r, or nil.
func heldBy(r *core.Record) <-chan struct{} {
	if v, ok := held.Load(r); ok {
		return v.(chan struct{})
	}
	return nil
}
