package realtime

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// ClientBuffer is how many messages a realtime client's channel holds for its
// SSE loop. A slot is 40 bytes (the message's name and data headers; the data
// is allocated either way), so 32 cost about 1.3 KB per connection against
// the ~30 KB a connection already costs (bench R1); a write's burst (a
// comment create sends the comment and its post's new count) fits many times.
var ClientBuffer = 32

// MaxQueued is how many more messages a client may have waiting behind a full
// channel before it is disconnected at once.
var MaxQueued = 1024

// FullWait is how long a message may wait for room in a full channel before
// the client is disconnected. A client that reads keeps up within
// milliseconds; one that has not taken a message for this long is stalled (a
// gone peer, a frozen tab), and PocketBase would park one goroutine per
// message for it until the connection dies. Disconnecting is the signal the
// SDK understands: it reconnects, resubscribes and fires PB_CONNECT, where an
// app refetches. Dropping a message and keeping the connection would leave
// the client unaware that it missed data.
var FullWait = 10 * time.Second

// bufferedClient is a PocketBase realtime client whose Send never blocks and
// keeps call order: a message goes straight into the buffered channel when
// nothing is waiting before it, else to the back of a queue that one pump
// goroutine moves into the channel as the SSE loop makes room.
//
// It wraps the client PocketBase created for the connection, so its id, store
// (the connection's IP, later its auth) and subscriptions are the original's;
// only the channel and the send/discard pair that guards it are its own.
type bufferedClient struct {
	subscriptions.Client

	ch       chan subscriptions.Message
	maxQueue int
	wait     time.Duration
	overflow func(id string)

	mu        sync.Mutex
	queue     []subscriptions.Message // waiting for room, oldest first
	pumping   bool
	discarded bool
	done      chan struct{}  // closed by Discard: stops the pump
	pump      sync.WaitGroup // Discard closes ch only once the pump is out
	closeOnce sync.Once

	// subsVersion counts subscription changes; topics caches the client's
	// topics of each collection grouped on (group.go; a comment create also
	// updates its post) for that version, so that an event does not re-read
	// 5,000 unchanged subscription sets
	subsVersion atomic.Uint64
	topicsMu    sync.Mutex
	topics      [maxCachedCollections]*clientTopics // most recent first
}

// maxCachedCollections is how many collections' topics a client caches (a
// comment create updates its post: two collections per event).
const maxCachedCollections = 4

// clientTopics is a client's topics of one collection, as grouping reads
// them: the subscriptions (never modified once cached) and their key.
type clientTopics struct {
	version  uint64
	id, name string // the collection's, as asked (a rename changes the name)
	subs     map[string]subscriptions.SubscriptionOptions
	key      string
}

// Subscribe and Unsubscribe are the wrapped client's; the version changes
// after the change so that a reader that saw the old version recomputes.
func (c *bufferedClient) Subscribe(subs ...string) {
	c.Client.Subscribe(subs...)
	c.subsVersion.Add(1)
}

func (c *bufferedClient) Unsubscribe(subs ...string) {
	c.Client.Unsubscribe(subs...)
	c.subsVersion.Add(1)
}

// topicsOf returns the client's topics of a collection, cached until its
// subscriptions change.
func (c *bufferedClient) topicsOf(id, name string) (map[string]subscriptions.SubscriptionOptions, string) {
	v := c.subsVersion.Load()
	c.topicsMu.Lock()
	for _, t := range c.topics {
		if t != nil && t.id == id && t.name == name && t.version == v {
			c.topicsMu.Unlock()
			return t.subs, t.key
		}
	}
	c.topicsMu.Unlock()
	subs, key := readTopics(c.Client, id, name)
	t := &clientTopics{version: v, id: id, name: name, subs: subs, key: key}
	c.topicsMu.Lock()
	// drop this collection's stale entry (or the oldest) and put t first
	last := len(c.topics) - 1
	for i, old := range c.topics {
		if old != nil && old.id == id {
			last = i
			break
		}
	}
	copy(c.topics[1:last+1], c.topics[:last])
	c.topics[0] = t
	c.topicsMu.Unlock()
	return subs, key
}

func newBufferedClient(inner subscriptions.Client, size, maxQueue int, wait time.Duration, overflow func(id string)) *bufferedClient {
	return &bufferedClient{
		Client:   inner,
		ch:       make(chan subscriptions.Message, size),
		maxQueue: maxQueue,
		wait:     wait,
		overflow: overflow,
		done:     make(chan struct{}),
	}
}

// Channel is read by PocketBase's SSE loop; after Discard it yields the
// messages still buffered, then reports closed, which ends the connection.
func (c *bufferedClient) Channel() chan subscriptions.Message { return c.ch }

// Send queues m without waiting. PocketBase calls it from a fresh goroutine
// per message; the order of the calls is the order the client receives.
func (c *bufferedClient) Send(m subscriptions.Message) {
	c.mu.Lock()
	if c.discarded {
		c.mu.Unlock()
		return
	}
	if len(c.queue) == 0 {
		select {
		case c.ch <- m: // Discard closes ch under mu: never a send on a closed channel
			c.mu.Unlock()
			return
		default:
		}
	}
	if len(c.queue) >= c.maxQueue {
		c.mu.Unlock()
		c.disconnect()
		return
	}
	c.queue = append(c.queue, m)
	if !c.pumping {
		c.pumping = true
		c.pump.Add(1)
		go c.pumpQueue()
	}
	c.mu.Unlock()
}

// pumpQueue moves the queue into the channel, oldest first, and disconnects
// the client when one message waited FullWait for room.
func (c *bufferedClient) pumpQueue() {
	stalled := c.drainQueue()
	c.pump.Done()
	if stalled {
		c.disconnect()
	}
}

func (c *bufferedClient) drainQueue() (stalled bool) {
	t := time.NewTimer(c.wait)
	defer t.Stop()
	for {
		c.mu.Lock()
		if c.discarded || len(c.queue) == 0 {
			c.pumping = false
			c.mu.Unlock()
			return false
		}
		m := c.queue[0]
		c.mu.Unlock()

		t.Reset(c.wait)
		select {
		case c.ch <- m: // ch is closed only after this goroutine is done
			c.mu.Lock()
			if len(c.queue) > 0 { // Discard may have emptied it meanwhile
				c.queue[0] = subscriptions.Message{}
				c.queue = c.queue[1:]
			}
			c.mu.Unlock()
		case <-c.done:
			return false
		case <-t.C:
			c.mu.Lock()
			c.pumping = false
			c.mu.Unlock()
			return true
		}
	}
}

// disconnect ends a client that cannot keep up (see FullWait).
func (c *bufferedClient) disconnect() {
	if c.overflow != nil {
		c.overflow(c.Id())
		return
	}
	c.Discard()
}

// Discard closes the channel once and discards the wrapped client too. It is
// safe to call any number of times, concurrently with Send.
func (c *bufferedClient) Discard() {
	c.mu.Lock()
	first := !c.discarded
	if first {
		c.discarded = true
		c.queue = nil
		close(c.done)
	}
	c.mu.Unlock()
	// no new pump starts once discarded; wait for the running one to leave
	// its send on ch before closing ch
	c.pump.Wait()
	c.closeOnce.Do(func() { close(c.ch) })
	c.Client.Discard()
}

// IsDiscarded reports whether Discard was called.
func (c *bufferedClient) IsDiscarded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.discarded
}
