package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"

	"lectern/internal/graphql"
)

// The contract promises a write's deliveries in the write's transaction; the
// write commits its webhookEvents row there (the durable outbox) and the
// worker fans it out into webhookDeliveries rows moments later. Between the
// two an API reader would see a committed write without its deliveries, so
// every API read that can show deliveries first materializes the pending
// events, synchronously, with the worker's own fan-out: it then sees the
// deliveries of every write committed before it started, while writers
// keep paying for one small row.

// Materialize turns every webhookEvents row committed before the call into
// its deliveries before it returns. It costs one indexed existence check
// when nothing is pending (no transaction, no write lock); otherwise it
// joins the fan-out of concurrent callers: they share one, which began
// after each of them called. Call it outside any transaction of the app:
// the fan-out needs the write connection a running transaction holds.
func (s *Service) Materialize(ctx context.Context) error {
	pending, err := s.eventsPending()
	if err != nil || !pending {
		return err
	}
	// a reader going away does not cut short the fan-out others may wait on
	if err := s.fan.do(ctx, context.WithoutCancel(ctx), s.fanOut); err != nil {
		return err
	}
	// the deliveries are due now: the worker may have looked before they were
	s.queue.Wake(s.app)
	return nil
}

// feed is the queue's Feed: the worker's fan-out goes through the same gate
// as the readers', so two never run at once and deliveries are inserted in
// event order.
// The worker's stop cuts its fan-out short between two transactions; a
// reader waiting on it then runs it again.
func (s *Service) feed(ctx context.Context) error { return s.fan.do(ctx, ctx, s.fanOut) }

// eventsPending reports whether any event waits to be fanned out: a read on
// the table's rowid tree, which holds only the last moments' events.
func (s *Service) eventsPending() (bool, error) {
	var pending bool
	err := s.app.DB().NewQuery("SELECT EXISTS (SELECT 1 FROM {{" + Events + "}})").Row(&pending)
	if err != nil {
		return false, fmt.Errorf("look for webhook events: %w", err)
	}
	return pending, nil
}

// coalescer runs a function for many callers at once: a caller returns once
// a run that began after its call has finished. Callers arriving while a
// run is under way share the one queued behind it, so a burst of readers
// costs two runs at most, whatever their number.
type coalescer struct {
	mu      sync.Mutex
	running *round // the run under way, if any
	next    *round // the run queued behind it, if any
}

type round struct {
	done    chan struct{}
	err     error
	waiters int // callers queued on it (under coalescer.mu; tests)
}

// do runs fn(run), or waits for a run that began after the call, as long
// as ctx lasts.
func (c *coalescer) do(ctx, run context.Context, fn func(context.Context) error) error {
	c.mu.Lock()
	var mine *round // the queued run this caller waits for
	for {
		if mine != nil {
			// checked under the lock: once mine is done, c.next is another
			// caller's, and running it would be a run too many
			select {
			case <-mine.done:
				if !isCancel(mine.err) || ctx.Err() != nil {
					c.mu.Unlock()
					return mine.err
				}
				mine = nil // the run was cut short by a stop: run it again
			default:
			}
		}
		if c.running == nil {
			// nothing under way: run now, for whoever queued behind the last run too
			r := c.next
			if r == nil {
				r = &round{done: make(chan struct{})}
			}
			c.next, c.running = nil, r
			c.mu.Unlock()
			r.err = fn(run)
			c.mu.Lock()
			c.running = nil
			close(r.done)
			c.mu.Unlock()
			return r.err
		}
		if mine == nil {
			if c.next == nil {
				c.next = &round{done: make(chan struct{})}
			}
			mine = c.next
			mine.waiters++
		}
		wait := c.running.done
		if c.running == mine {
			wait = mine.done
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
	}
}

func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// ---

// materializeMiddlewareID names the router middleware (one id, so a test
// app that serves twice binds it once).
const materializeMiddlewareID = "lecternWebhooksMaterialize"

// bindMaterialize runs Materialize before every API request that can read
// deliveries: the records routes of webhookDeliveries (list, view,
// getFirstListItem, and so the dashboard), a webhooks read (its
// webhookDeliveries_via_webhook back-relation can be expanded or filtered
// on) and GraphQL queries that name deliveries. OnRecordsListRequest would
// be too late: PocketBase runs it after the query. The retry routes and the
// pending gauge call Materialize themselves. Realtime reads nothing on
// subscribe, and deliveries, written by plain SQL, send no realtime events.
func (s *Service) bindMaterialize() {
	s.app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id: materializeMiddlewareID,
			// after the auth token is loaded (PocketBase's are negative)
			Priority: 0,
			Func: func(e *core.RequestEvent) error {
				if s.readsDeliveries(e) {
					if err := s.Materialize(e.Request.Context()); err != nil {
						return e.InternalServerError("", fmt.Errorf("webhooks: materialize deliveries: %w", err))
					}
				}
				return e.Next()
			},
		})
		return se.Next()
	})
}

// readsDeliveries reports whether the request can show webhookDeliveries
// rows to its caller. A guest is left out where the collection's rule for
// the action is not public: with the contract's rules (admins only) a guest
// reads no delivery, and a guest's request must not make the server write.
func (s *Service) readsDeliveries(e *core.RequestEvent) bool {
	r := e.Request
	if r.URL.Path == graphql.Path {
		return e.Auth != nil && graphqlNamesDeliveries(r)
	}
	name := r.PathValue("collection")
	if name == "" || !strings.Contains(r.URL.Path, "/records") {
		return false
	}
	c, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil || c == nil {
		return false
	}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case c.Name == Deliveries:
	case c.Name == Collection && read:
	default:
		return false
	}
	if e.Auth != nil {
		return true
	}
	rule := c.ListRule
	if r.PathValue("id") != "" {
		rule = c.ViewRule
	}
	return rule != nil && *rule == ""
}

// graphqlNamesDeliveries reports whether a GraphQL request's query text
// names deliveries: the root fields (webhookDeliveries, webhookDelivery),
// a webhook's back-relation (webhookDeliveries) and the type
// (WebhookDelivery) all contain "webhookdeliver" whatever the case, and a
// query can reach the collection no other way.
func graphqlNamesDeliveries(r *http.Request) bool {
	const needle = "webhookdeliver"
	if r.Method == http.MethodGet {
		return strings.Contains(strings.ToLower(r.URL.Query().Get("query")), needle)
	}
	// a body the handler would refuse as too large is not read here, and
	// counts as naming them
	if r.ContentLength < 0 || r.ContentLength > 1<<20 {
		return true
	}
	raw, err := io.ReadAll(r.Body)
	// rewound for the handler, as PocketBase's BindBody does (the router's
	// body and its body-limit wrapper can be read again)
	if rr, ok := r.Body.(router.Rereader); ok {
		rr.Reread()
	} else {
		r.Body = io.NopCloser(bytes.NewReader(raw))
	}
	if err != nil {
		return true
	}
	return strings.Contains(strings.ToLower(string(raw)), needle)
}
