package hooks

import (
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"lectern/internal/ruleguard"
)

// registerFilterGuard puts internal/ruleguard in front of every place a
// client's filter or sort reaches PocketBase's resolver: record lists (and so
// getFirstListItem) and realtime subscription options. Batch requests carry
// no filter (PocketBase's batch only creates, updates and deletes); search
// takes no filter expression; GraphQL calls ruleguard.Check itself.
func registerFilterGuard(app core.App) {
	if filterGuardOff {
		return
	}
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			name, ok := listedCollection(e.Request)
			if !ok || e.HasSuperuserAuth() {
				return e.Next()
			}
			c, err := e.App.FindCachedCollectionByNameOrId(name)
			if err != nil {
				return e.Next() // PocketBase answers the unknown collection
			}
			q := e.Request.URL.Query()
			if err := ruleguard.Check(e.App, c, e.Auth, q.Get(search.FilterQueryParam), q.Get(search.SortQueryParam)); err != nil {
				return err
			}
			return e.Next()
		})
		return se.Next()
	})

	// A subscription's options.query.filter is run by PocketBase against each
	// event's record with the same resolver as a list filter: refuse it at
	// subscribe time, when the client can still be told why.
	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		if e.Auth != nil && e.Auth.IsSuperuser() {
			return e.Next()
		}
		for _, sub := range e.Subscriptions {
			name, filter := subscriptionFilter(sub)
			if filter == "" {
				continue
			}
			c, err := e.App.FindCachedCollectionByNameOrId(name)
			if err != nil {
				continue // no events are ever sent for it
			}
			if err := ruleguard.Check(e.App, c, e.Auth, filter, ""); err != nil {
				return err
			}
		}
		return e.Next()
	})
}

// filterGuardOff is set only by the rule-mutation test (export_test.go) to
// prove that TestFilterLeaks fails without the guard.
var filterGuardOff bool

// listedCollection returns the collection of a records list request
// (GET /api/collections/{collection}/records).
func listedCollection(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/collections/")
	if !ok {
		return "", false
	}
	name, tail, ok := strings.Cut(rest, "/")
	if !ok || tail != "records" || name == "" {
		return "", false
	}
	return name, true
}

// subscriptionFilter splits a realtime subscription such as
// `comments/*?options={"query":{"filter":"post = 'x'"}}` into its collection
// and the filter of its options, parsed by PocketBase's own subscriptions
// client so the guard reads exactly what the broadcast will run.
func subscriptionFilter(sub string) (collection, filter string) {
	topic, _, _ := strings.Cut(sub, "?")
	collection, _, _ = strings.Cut(topic, "/")
	c := subscriptions.NewDefaultClient()
	c.Subscribe(sub)
	for _, opts := range c.Subscriptions() {
		filter = opts.Query[search.FilterQueryParam]
	}
	return collection, filter
}
