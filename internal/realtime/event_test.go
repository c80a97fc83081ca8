package realtime

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSequencer(t *testing.T) {
	t.Run("a later event's sends wait until the earlier event's are queued", func(t *testing.T) {
		s := newSequencer(nil)
		a := s.begin("")
		a.expect(2)
		a.sent(1)
		s.finish(a) // one message still on its way

		b := s.begin("")
		require.Len(t, b.earlier, 1)
		released := make(chan struct{})
		go func() { b.awaitEarlier(); close(released) }()
		select {
		case <-released:
			t.Fatal("b went ahead of a's last message")
		case <-time.After(50 * time.Millisecond):
		}
		a.sent(1)
		select {
		case <-released:
		case <-time.After(time.Second):
			t.Fatal("b still waits after a's last message")
		}
		require.Eventually(t, func() bool { return len(s.begin("").earlier) == 0 }, time.Second, time.Millisecond,
			"a flushed fanout is no longer waited for")
	})

	t.Run("events that begin before another finishes do not wait for it", func(t *testing.T) {
		s := newSequencer(nil)
		a := s.begin("")
		b := s.begin("")
		a.expect(1)
		s.finish(a)
		assert.Empty(t, b.earlier)
	})

	t.Run("a miscounted event holds the later ones for FlushTimeout at most", func(t *testing.T) {
		old := FlushTimeout
		FlushTimeout = 50 * time.Millisecond
		t.Cleanup(func() { FlushTimeout = old })
		var slow atomic.Int32
		s := newSequencer(func() { slow.Add(1) })
		a := s.begin("")
		a.expect(1) // and never sent
		s.finish(a)
		b := s.begin("")
		t0 := time.Now()
		b.awaitEarlier()
		assert.GreaterOrEqual(t, time.Since(t0), 40*time.Millisecond)
		assert.Equal(t, int32(1), slow.Load(), "reported")
	})
}

func TestEventClientCountsADeletesMessages(t *testing.T) {
	s := newSequencer(nil)
	f := s.begin("delete/comments/c1")
	inner := subscriptions.NewDefaultClient()
	inner.Set("delete/comments/c1", []subscriptions.Message{msg(1), msg(2)})
	inner.Set("delete/comments/c2", []subscriptions.Message{msg(3)}) // another delete's
	c := &eventClient{Client: inner, fanout: f}

	c.Get("delete/comments/c2")
	c.Get("auth")
	assert.Equal(t, 0, f.expected)
	c.Get("delete/comments/c1")
	assert.Equal(t, 2, f.expected)
}
