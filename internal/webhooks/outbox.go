package webhooks

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"lectern/hooks"
)

// Actions of the event types ("posts.update").
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// The outbox rows are written from the record *Execute hooks: they run for
// every save and delete however it is made (API, dashboard, GraphQL, Go
// code, cascades) around the very INSERT/UPDATE/DELETE of the row, inside
// the transaction of whatever wraps the write (the comment hook's, a
// delete's cascade) or one of their own. Either the record and its
// deliveries commit together or neither does.
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
	return !c.IsView() && !strings.HasPrefix(c.Name, "_") && c.Name != Collection && c.Name != Deliveries
}

func (s *Service) outbox(e *core.RecordEvent, action string) error {
	c := e.Record.Collection()
	if !Subscribable(c) {
		return e.Next()
	}
	typ := c.Name + "." + action
	targets, err := matchingWebhooks(e.App, typ)
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
		body, err := Payload(typ, c.Name, action, e.Record, time.Now())
		if err != nil {
			return err
		}
		rows := make([]map[string]any, len(targets))
		for i, id := range targets {
			rows[i] = map[string]any{"webhook": id, "type": typ, "payload": string(body)}
		}
		_, err = s.queue.Enqueue(tx, rows...)
		return err
	})
}

// matchingWebhooks lists the active webhooks subscribed to typ: one small
// query on every write of a subscribable collection (the webhooks table has
// a handful of rows), so a webhook added or deactivated counts from the next
// write on, in this process or another.
func matchingWebhooks(app core.App, typ string) ([]string, error) {
	var ids []string
	err := app.DB().NewQuery(`SELECT [[id]] FROM {{` + Collection + `}} WHERE [[active]] = TRUE AND EXISTS (
		SELECT 1 FROM json_each(CASE WHEN json_valid([[events]]) AND json_type([[events]]) = 'array' THEN [[events]] ELSE '[]' END)
		WHERE [[value]] IN ('*', {:type})) ORDER BY [[created]], [[id]]`).
		Bind(dbx.Params{"type": typ}).Column(&ids)
	if err != nil {
		return nil, fmt.Errorf("find webhooks for %s: %w", typ, err)
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
