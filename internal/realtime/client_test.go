package realtime

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func msg(i int) subscriptions.Message {
	return subscriptions.Message{Name: "comments/*", Data: []byte(fmt.Sprint(i))}
}

// drain reads what is buffered without waiting for more.
func drain(ch chan subscriptions.Message) (got []string, closed bool) {
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return got, true
			}
			got = append(got, string(m.Data))
		default:
			return got, false
		}
	}
}

func TestBufferedClientKeepsTheWrappedClient(t *testing.T) {
	inner := subscriptions.NewDefaultClient()
	inner.Set("pbRealtimeClientIP", "10.0.0.1")
	c := newBufferedClient(inner, 4, 100, time.Second, nil)
	c.Subscribe("comments/*")

	assert.Equal(t, inner.Id(), c.Id())
	assert.Equal(t, "10.0.0.1", c.Get("pbRealtimeClientIP"))
	assert.True(t, inner.HasSubscription("comments/*"))
	c.Discard()
	assert.True(t, inner.IsDiscarded(), "discarding the wrapper discards the original")
}

func TestBufferedClientQueuesWithoutAReader(t *testing.T) {
	c := newBufferedClient(subscriptions.NewDefaultClient(), 8, 100, 10*time.Second, nil)
	t0 := time.Now()
	for i := range 8 {
		c.Send(msg(i))
	}
	assert.Less(t, time.Since(t0), time.Second, "sends into free buffer room return at once")
	got, closed := drain(c.Channel())
	assert.False(t, closed)
	assert.Equal(t, []string{"0", "1", "2", "3", "4", "5", "6", "7"}, got, "in send order")
}

func TestBufferedClientFullBuffer(t *testing.T) {
	t.Run("a reader that catches up within the wait loses nothing", func(t *testing.T) {
		c := newBufferedClient(subscriptions.NewDefaultClient(), 2, 100, 5*time.Second, func(string) { t.Error("overflow") })
		var got []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			time.Sleep(50 * time.Millisecond) // the reader is late, not gone
			for m := range c.Channel() {
				got = append(got, string(m.Data))
				if len(got) == 6 {
					return
				}
			}
		}()
		for i := range 6 {
			c.Send(msg(i))
		}
		<-done
		assert.Equal(t, []string{"0", "1", "2", "3", "4", "5"}, got)
		assert.False(t, c.IsDiscarded())
	})

	t.Run("a client that does not read is disconnected, never left with a gap", func(t *testing.T) {
		var overflowed atomic.Value
		var c *bufferedClient
		c = newBufferedClient(subscriptions.NewDefaultClient(), 2, 100, 50*time.Millisecond, func(id string) {
			overflowed.Store(id)
			c.Discard() // what Register's broker.Unregister does
		})
		t0 := time.Now()
		for i := range 3 {
			c.Send(msg(i))
		}
		assert.Less(t, time.Since(t0), 40*time.Millisecond, "Send never waits, even with the channel full")
		require.Eventually(t, c.IsDiscarded, time.Second, time.Millisecond)
		assert.GreaterOrEqual(t, time.Since(t0), 50*time.Millisecond, "the third message waited FullWait for room")
		assert.Equal(t, c.Id(), overflowed.Load())

		// the SSE loop still writes what was queued, then sees the channel
		// closed and ends the connection: the client knows to resync
		got, closed := drain(c.Channel())
		assert.Equal(t, []string{"0", "1"}, got)
		assert.True(t, closed)

		c.Send(msg(3)) // after the discard: returns, sends nothing, no panic
	})

	t.Run("a client too far behind is disconnected at once", func(t *testing.T) {
		var c *bufferedClient
		c = newBufferedClient(subscriptions.NewDefaultClient(), 1, 2, time.Hour, func(string) { c.Discard() })
		for i := range 4 { // one in the channel, two queued, the fourth is one too many
			c.Send(msg(i))
		}
		require.Eventually(t, c.IsDiscarded, time.Second, time.Millisecond)
		got, closed := drain(c.Channel())
		assert.Equal(t, []string{"0"}, got)
		assert.True(t, closed)
	})
}

func TestBufferedClientDiscardDuringSends(t *testing.T) {
	// run with -race: Discard must never race a send on the channel it closes
	for range 50 {
		c := newBufferedClient(subscriptions.NewDefaultClient(), 1, 100, time.Second, nil)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() { c.Send(msg(i)) }) // most wait: the buffer holds one
		}
		wg.Go(func() {
			for range c.Channel() {
			}
		})
		time.Sleep(time.Millisecond)
		wg.Go(c.Discard)
		wg.Go(c.Discard)

		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(2 * time.Second):
			require.FailNow(t, "sends or discard hung")
		}
		assert.True(t, c.IsDiscarded())
	}
}
