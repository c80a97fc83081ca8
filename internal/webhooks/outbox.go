package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"lectern/hooks"
	"lectern/internal/jobs"
)

// Actions of the event types ("posts.update").
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// The outbox is webhookEvents: one row per write that any active webhook
// wants, written from the record *Execute hooks. They run for every save and
// delete however it is made (API, dashboard, GraphQL, Go code, cascades)
// around the very INSERT/UPDATE/DELETE of the row, inside the transaction of
// whatever wraps the write (the comment hook's, a delete's cascade) or one of
// their own. Either the record and its event commit together or neither
// does.
//
// The event carries the payload once and the ids of the webhooks that match
// at the write (from the in-memory cache below): the writer pays for one
// small INSERT whatever the number of webhooks. After the commit the worker
// turns the event into one webhookDeliveries row per webhook and deletes it,
// in one transaction of its own (fanOut), so a crash between the two leaves
// the event to be fanned out on the next start, never half of it; an API
// read of deliveries runs that fan-out first (materialize.go), so it never
// shows a committed write without its deliveries.
//
// Derived figures (a post's commentsCount, a course's ratingAvg) are written
// by targeted UPDATEs in hooks/ and announced after the commit: they are not
// record saves and produce no posts.update or courses.update delivery. The
// write that changed them does (comments.create, reviews.update…), and the
// next delivery of the parent carries the new figure.
func (s *Service) bindOutbox() {
	s.app.OnRecordCreateExecute().BindFunc(func(e *core.RecordEvent) error { return s.outbox(e, ActionCreate) })
	s.app.OnRecordUpdateExecute().BindFunc(func(e *core.RecordEvent) error { return s.outbox(e, ActionUpdate) })
	s.app.OnRecordDeleteExecute().BindFunc(func(e *core.RecordEvent) error { return s.outbox(e, ActionDelete) })
}

// Subscribable reports whether writes to the collection can be sent: not
// PocketBase's own (_superusers, _otps…) nor the webhooks' (a delivery
// announcing a delivery would never end, and webhooks carry secrets).
func Subscribable(c *core.Collection) bool {
	return !c.IsView() && !strings.HasPrefix(c.Name, "_") &&
		c.Name != Collection && c.Name != Deliveries && c.Name != Events && c.Name != Attempts
}

// insertEvent is the writer's one statement, whatever the number of
// webhooks: one row, the payload bound once.
const insertEvent = "INSERT INTO {{" + Events + "}} ([[id]], [[type]], [[webhooks]], [[payload]], [[created]]) " +
	"VALUES ({:id}, {:type}, {:webhooks}, {:payload}, {:created})"

func (s *Service) outbox(e *core.RecordEvent, action string) error {
	c := e.Record.Collection()
	if c.Name == Collection {
		// a webhook changes: the cache is stale now and again once it commits
		s.targets.invalidate()
		if info := e.App.TxInfo(); info != nil {
			info.OnComplete(func(error) error { s.targets.invalidate(); return nil })
		}
		err := e.Next()
		s.targets.invalidate()
		return err
	}
	if !Subscribable(c) {
		return e.Next()
	}
	typ := c.Name + "." + action
	targets, err := s.targets.matching(e.App, typ)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return e.Next()
	}
	return hooks.InTx(e, func(tx core.App) error {
		if err := e.Next(); err != nil {
			return err
		}
		now := time.Now()
		body, err := Payload(typ, c.Name, action, e.Record, now)
		if err != nil {
			return err
		}
		ids, err := json.Marshal(targets)
		if err != nil {
			return err
		}
		created, _ := types.ParseDateTime(now.UTC())
		_, err = tx.DB().NewQuery(insertEvent).Bind(dbx.Params{
			"id": jobs.NewID(), "type": typ, "webhooks": string(ids), "payload": string(body), "created": created.String(),
		}).Execute()
		if err != nil {
			return fmt.Errorf("write %s event of %q: %w", typ, e.Record.Id, err)
		}
		s.queue.Wake(tx) // after the commit: the worker fans it out
		return nil
	})
}

// fanOutBatch is how many events one fan-out transaction takes at most,
// and fanOutRows how many deliveries it writes at most (an event's
// deliveries are never split): a burst of writes is turned into deliveries
// in short transactions, and a writer waiting behind one waits for a few
// hundred rows, not for the whole burst.
const (
	fanOutBatch = 100
	fanOutRows  = 256
)

// fanOut turns committed events into one pending delivery per webhook they
// name and deletes them, in one transaction per batch, until none is left.
// It is the one fan-out: the worker's Feed and the readers' Materialize both
// run it, one at a time (Service.fan). The events are read inside the
// transaction, which takes the write lock as it begins: a fan-out of
// another process on the data dir can never turn the same event into
// deliveries twice. Nothing pending costs one read and no transaction. The
// payload is copied by SQLite from the event row (never through Go); the
// delivery's created is the write's time. A webhook deleted since the write
// gets nothing. A cancelled ctx stops it between two transactions, with
// ctx's error.
func (s *Service) fanOut(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pending, err := s.eventsPending()
		if err != nil || !pending {
			return err
		}
		full := false
		err = s.app.RunInTransaction(func(tx core.App) error {
			n, more, err := fanOutBatchTx(tx)
			if n > 0 {
				s.fanOutTxs.Add(1)
			}
			full = more
			return err
		})
		if err != nil {
			return fmt.Errorf("fan out webhook events: %w", err)
		}
		if !full {
			return nil
		}
	}
}

// fanOutBatchTx fans out the oldest events (in commit order: their rowid)
// through tx and reports how many it took and whether it stopped at a limit.
func fanOutBatchTx(tx core.App) (int, bool, error) {
	var evs []struct {
		ID       string `db:"id"`
		Webhooks string `db:"webhooks"`
	}
	err := tx.DB().Select("id", "webhooks").From(Events).OrderBy("rowid").Limit(fanOutBatch).All(&evs)
	if err != nil {
		return 0, false, fmt.Errorf("load webhook events: %w", err)
	}
	if len(evs) == 0 {
		return 0, false, nil
	}
	full := len(evs) == fanOutBatch
	params := dbx.Params{"now": types.NowDateTime().String()}
	var tuples []string
	var evIDs []any
	for i, ev := range evs {
		if len(tuples) >= fanOutRows {
			evs, full = evs[:i], true
			break
		}
		var hooks []string
		_ = json.Unmarshal([]byte(ev.Webhooks), &hooks) // invalid: goes nowhere
		for _, h := range hooks {
			n := len(tuples)
			params[fmt.Sprintf("d%d", n)] = jobs.NewID()
			params[fmt.Sprintf("w%d", n)] = h
			params[fmt.Sprintf("e%d", n)] = ev.ID
			tuples = append(tuples, fmt.Sprintf("({:d%d}, {:w%d}, {:e%d})", n, n, n))
		}
		evIDs = append(evIDs, ev.ID)
	}
	for chunk := range slices.Chunk(tuples, 1000) {
		// the ids increase in event order (jobs.NewID, one fan-out at a time):
		// the queue index keeps each webhook's deliveries in the order of the
		// writes, and so do lists sorted by id or created; ORDER BY keeps the
		// rowids in that order too
		q := "WITH v([[d]], [[w]], [[e]]) AS (VALUES " + strings.Join(chunk, ", ") + ") " +
			"INSERT INTO {{" + Deliveries + "}} ([[id]], [[webhook]], [[type]], [[payload]], [[status]], [[attempts]], [[nextAttemptAt]], [[created]], [[updated]]) " +
			"SELECT v.[[d]], v.[[w]], ev.[[type]], ev.[[payload]], '" + StatusPending + "', 0, {:now}, ev.[[created]], {:now} " +
			"FROM v JOIN {{" + Events + "}} ev ON ev.[[id]] = v.[[e]] " +
			"WHERE EXISTS (SELECT 1 FROM {{" + Collection + "}} h WHERE h.[[id]] = v.[[w]]) " +
			"ORDER BY v.[[d]]"
		if _, err := tx.DB().NewQuery(q).Bind(params).Execute(); err != nil {
			return 0, false, err
		}
	}
	if _, err := tx.DB().Delete(Events, dbx.In("id", evIDs...)).Execute(); err != nil {
		return 0, false, err
	}
	return len(evs), full, nil
}

// targets caches the active webhooks and their events: every write of a
// subscribable collection asks which webhooks want it, and a query (with
// json_each over each webhook's events) per write is a cost every writer
// would pay. Any save or delete of a webhook through this app invalidates
// it, before and after the commit; a change written by another process
// (raw SQL, a second server on the data dir) counts within a second.
type targets struct {
	mu       sync.Mutex
	gen      uint64 // bumped on every local webhook write
	loaded   uint64 // gen of hooks
	loadedAt time.Time
	hooks    []cachedHook
}

type cachedHook struct {
	id     string
	all    bool
	events map[string]bool
}

const targetsTTL = time.Second

func (t *targets) invalidate() {
	t.mu.Lock()
	t.gen++
	t.mu.Unlock()
}

// matching lists the ids of the active webhooks subscribed to typ, oldest
// first.
func (t *targets) matching(app core.App, typ string) ([]string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.loadedAt.IsZero() || t.loaded != t.gen || time.Since(t.loadedAt) > targetsTTL {
		var rows []struct {
			ID     string `db:"id"`
			Events string `db:"events"`
		}
		err := app.DB().Select("id", "events").From(Collection).
			Where(dbx.NewExp("[[active]] = TRUE")).OrderBy("created", "id").All(&rows)
		if err != nil {
			return nil, fmt.Errorf("load webhooks: %w", err)
		}
		hooks := make([]cachedHook, 0, len(rows))
		for _, r := range rows {
			var events []string
			_ = json.Unmarshal([]byte(r.Events), &events) // invalid: subscribed to nothing
			h := cachedHook{id: r.ID, events: map[string]bool{}}
			for _, ev := range events {
				if ev == "*" {
					h.all = true
				}
				h.events[ev] = true
			}
			hooks = append(hooks, h)
		}
		t.hooks, t.loaded, t.loadedAt = hooks, t.gen, time.Now()
	}
	var ids []string
	for _, h := range t.hooks {
		if h.all || h.events[typ] {
			ids = append(ids, h.id)
		}
	}
	return ids, nil
}

// Envelope is a delivery's body.
type Envelope struct {
	Type      string    `json:"type"`
	Timestamp string    `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData is an Envelope's data.
type EventData struct {
	Collection string         `json:"collection"`
	Action     string         `json:"action"`
	Record     map[string]any `json:"record"`
}

// Payload is the body of a delivery for a write of r at the given time: the
// record as an admin reads it through the API — the collection's visible
// fields, an auth record's email only when its owner made it visible, never
// its password hash or token key (hidden fields), no expand.
func Payload(typ, collection, action string, r *core.Record, at time.Time) ([]byte, error) {
	env := Envelope{
		Type:      typ,
		Timestamp: at.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Data:      EventData{Collection: collection, Action: action, Record: r.Fresh().PublicExport()},
	}
	body, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload of %q: %w", typ, r.Id, err)
	}
	return body, nil
}
