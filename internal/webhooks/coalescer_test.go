package webhooks

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A caller arriving while a run is under way gets a run that began after it
// (that run may have missed its write), shared by every caller that arrived
// meanwhile; a run cut short by its runner's context is run again for the
// waiters.
func TestCoalescer(t *testing.T) {
	var c coalescer
	var runs atomic.Int32
	started := make(chan int32, 10)
	release := make(chan struct{})
	fn := func(ctx context.Context) error {
		n := runs.Add(1)
		started <- n
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	bg := context.Background()

	// the first run, held open
	first := make(chan error, 1)
	go func() { first <- c.do(bg, bg, fn) }()
	if n := <-started; n != 1 {
		t.Fatalf("run %d started, want 1", n)
	}
	// ten callers arrive during it: none may return with the first run
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := c.do(bg, bg, fn); err != nil {
				t.Errorf("waiter: %v", err)
			}
		})
	}
	waitQueued(t, &c, 10)
	release <- struct{}{} // ends the first run
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := <-started; n != 2 {
		t.Fatalf("run %d started, want 2", n)
	}
	close(release) // ends the second and any other
	wg.Wait()
	if n := runs.Load(); n != 2 {
		t.Errorf("%d runs for 11 callers arriving in two waves, want 2", n)
	}

	// a run cut short by its runner's stop is run again by a waiter
	var c2 coalescer
	runs.Store(0)
	hold := make(chan struct{})
	fn2 := func(ctx context.Context) error {
		if runs.Add(1) == 1 {
			<-ctx.Done()
			return ctx.Err()
		}
		<-hold
		return nil
	}
	stopCtx, stop := context.WithCancel(bg)
	cut := make(chan error, 1)
	go func() { cut <- c2.do(stopCtx, stopCtx, fn2) }()
	waitFor(t, func() bool { return runs.Load() == 1 })
	waiter := make(chan error, 1)
	go func() { waiter <- c2.do(bg, bg, fn2) }()
	waitQueued(t, &c2, 1)
	stop()
	if err := <-cut; err == nil {
		t.Error("the stopped run reported no error")
	}
	close(hold)
	if err := <-waiter; err != nil {
		t.Errorf("the waiter got %v; want its own complete run", err)
	}
	if n := runs.Load(); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

// waitQueued waits until n callers wait for the next run.
func waitQueued(t *testing.T, c *coalescer, n int) {
	t.Helper()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.next != nil && c.next.waiters == n
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
