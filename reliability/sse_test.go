package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A realtime subscriber speaking PocketBase's protocol: GET /api/realtime
// opens an SSE stream whose first event is PB_CONNECT {clientId}; POST
// /api/realtime {clientId, subscriptions} (with the subscriber's
// Authorization) chooses the topics. Each record event is
// {"action": "...", "record": {...}} under the topic's name.

// rtMessage is one received event.
type rtMessage struct {
	Topic  string
	Action string
	Record map[string]any
	At     time.Time
}

func (m rtMessage) id() string { s, _ := m.Record["id"].(string); return s }

// collection is the record's collectionName.
func (m rtMessage) collection() string { s, _ := m.Record["collectionName"].(string); return s }

type sseClient struct {
	name     string
	clientID string
	cancel   context.CancelFunc
	done     chan struct{}

	mu     sync.Mutex
	msgs   []rtMessage
	err    error
	notify chan struct{}
}

// openSSE connects, waits for PB_CONNECT and subscribes to topics as token
// ("" for a guest). The stream is read until close.
func openSSE(a *api, name, token string, topics []string) (*sseClient, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", a.base+"/api/realtime", nil)
	if err != nil {
		cancel()
		return nil, err
	}
	// a client without a timeout: the stream lives until we cancel it
	hc := &http.Client{Transport: a.hc.Transport}
	res, err := hc.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		cancel()
		return nil, fmt.Errorf("realtime connect: status %d", res.StatusCode)
	}
	c := &sseClient{name: name, cancel: cancel, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	connected := make(chan string, 1)
	go func() {
		defer close(c.done)
		defer res.Body.Close()
		rd := bufio.NewReaderSize(res.Body, 64<<10)
		var event, data string
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				if !errors.Is(err, context.Canceled) && ctx.Err() == nil {
					c.mu.Lock()
					c.err = err
					c.mu.Unlock()
				}
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case line == "":
				if event == "PB_CONNECT" {
					var m struct{ ClientID string }
					json.Unmarshal([]byte(data), &m)
					connected <- m.ClientID
				} else if event != "" {
					var m struct {
						Action string         `json:"action"`
						Record map[string]any `json:"record"`
					}
					if json.Unmarshal([]byte(data), &m) == nil {
						c.mu.Lock()
						c.msgs = append(c.msgs, rtMessage{Topic: event, Action: m.Action, Record: m.Record, At: time.Now()})
						c.mu.Unlock()
						select {
						case c.notify <- struct{}{}:
						default:
						}
					}
				}
				event, data = "", ""
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimPrefix(line, "event:")
			case strings.HasPrefix(line, "data:"):
				data += strings.TrimPrefix(line, "data:")
			}
		}
	}()
	select {
	case c.clientID = <-connected:
	case <-time.After(15 * time.Second):
		c.close()
		return nil, errors.New("realtime: no PB_CONNECT within 15s")
	}
	r, err := a.do("POST", "/api/realtime", token, map[string]any{"clientId": c.clientID, "subscriptions": topics})
	if err != nil || r.Status != 204 {
		c.close()
		return nil, fmt.Errorf("realtime subscribe: %v %s", err, r)
	}
	return c, nil
}

// close ends the stream and waits for the reader.
func (c *sseClient) close() {
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
	}
}

// messages returns a copy of everything received so far.
func (c *sseClient) messages() []rtMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]rtMessage(nil), c.msgs...)
}

func (c *sseClient) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// waitFor waits until some received message satisfies match, or timeout.
func (c *sseClient) waitFor(timeout time.Duration, match func(rtMessage) bool) bool {
	deadline := time.Now().Add(timeout)
	seen := 0
	for {
		c.mu.Lock()
		msgs := c.msgs[seen:]
		seen = len(c.msgs)
		c.mu.Unlock()
		for _, m := range msgs {
			if match(m) {
				return true
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-c.notify:
		case <-time.After(min(left, 50*time.Millisecond)):
		}
	}
}
