package reliability

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestGracefulRestart: under a steady, bounded mixed load of guest reads,
// signed-in writes and 200 realtime subscribers, SIGTERM the server, then
// start it again on the same data. Every request that got an answer got a
// correct one, no acknowledged write is lost, the server exits 0 within 15 s,
// and the subscribers reconnect (as the SDK does) and receive an event written
// after the restart.
func TestGracefulRestart(t *testing.T) {
	skipShort(t)
	nSubs := envInt(t, "LECTERN_GRACEFUL_SUBSCRIBERS", 200)
	s := newServer(t, serverOptions{})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	author := w.addUsers(t, "author", "graceful-author")[0]
	student := w.addUsers(t, "student", "graceful-student")[0]
	first := w.create(t, "posts", author.token, map[string]any{"title": "Graceful first", "body": "<p>x</p>", "status": "published"})
	firstID := first["id"].(string)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// subscribers: reconnect whenever the stream ends, as the SDK does
	subs := make([]*subscriber, nSubs)
	var wg sync.WaitGroup
	for i := range subs {
		subs[i] = &subscriber{name: fmt.Sprintf("sub%d", i)}
		wg.Add(1)
		go func() { defer wg.Done(); subs[i].run(ctx, w.api) }()
	}
	waitUntil(t, 60*time.Second, "every subscriber connected", func() bool {
		for _, sub := range subs {
			if sub.connects.Load() < 1 {
				return false
			}
		}
		return true
	})

	// the load: guest reads and signed-in writes, each answer checked
	var st loadStats
	ids := newIDGen("gr")
	var ackMu sync.Mutex
	var acked []string
	loadCtx, stopLoad := context.WithCancel(ctx)
	var lwg sync.WaitGroup
	for i := range 4 {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for n := 0; n < 100000 && loadCtx.Err() == nil; n++ {
				path := "/api/collections/posts/records?perPage=5&sort=-created"
				if rng.IntN(2) == 0 {
					path = "/api/collections/posts/records/" + firstID
				}
				r, err := w.api.doCtx(loadCtx, "GET", path, "", nil, nil)
				st.read(r, err, path, firstID)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	for i := range 2 {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			for n := 0; n < 20000 && loadCtx.Err() == nil; n++ {
				id := ids.next()
				var r reply
				var err error
				if i == 0 {
					r, err = w.api.doCtx(loadCtx, "POST", "/api/collections/posts/records", author.token,
						map[string]any{"id": id, "title": "Graceful " + id, "body": "<p>load</p>", "status": "published"}, nil)
				} else {
					r, err = w.api.doCtx(loadCtx, "POST", "/api/collections/comments/records", student.token,
						map[string]any{"id": id, "post": firstID, "body": "graceful " + id}, nil)
				}
				if st.write(r, err, id) {
					ackMu.Lock()
					acked = append(acked, id)
					ackMu.Unlock()
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}

	time.Sleep(2 * time.Second) // steady load before the signal

	// a request in flight at the signal, still sending its body 2.5 s later:
	// it must be finished, not cut (PocketBase alone gives in-flight
	// requests 1 s)
	slowID := ids.next()
	pr, pw := io.Pipe()
	slow := make(chan reply, 1)
	go func() {
		r, err := w.api.doCtx(ctx, "POST", "/api/collections/posts/records", author.token, pr, map[string]string{"Content-Type": "application/json"})
		if err != nil {
			r.Body = []byte(err.Error())
		}
		slow <- r
	}()
	body := fmt.Sprintf(`{"id": %q, "title": "Graceful slow", "body": "<p>slow</p>", "status": "published"}`, slowID)
	pw.Write([]byte(body[:20]))
	time.Sleep(200 * time.Millisecond) // the request is being read
	go func() {
		time.Sleep(2500 * time.Millisecond)
		pw.Write([]byte(body[20:]))
		pw.Close()
	}()

	before := st.snapshot()
	took, state := s.terminate(15 * time.Second)
	if r := <-slow; r.Status != 200 {
		t.Errorf("the request in flight at SIGTERM was cut: %d %s", r.Status, r.Body)
	} else {
		ackMu.Lock()
		acked = append(acked, slowID)
		ackMu.Unlock()
	}
	downAt := time.Now()
	if state == nil {
		t.Fatalf("lectern did not exit within 15 s of SIGTERM")
	}
	if !state.Success() {
		t.Errorf("lectern exited with %v after SIGTERM; want 0\n%s", state, tail(s.out.String(), 2000))
	}
	if took > 15*time.Second {
		t.Errorf("exit took %v, want <= 15 s", took)
	}
	s.start()
	restartGap := time.Since(downAt)
	time.Sleep(2 * time.Second) // load on the restarted server
	stopLoad()
	lwg.Wait()
	after := st.snapshot()

	// realtime: every subscriber reconnected and gets an event written now
	marker := w.create(t, "posts", author.token, map[string]any{"title": "Graceful marker", "body": "<p>x</p>", "status": "published"})
	markerID := marker["id"].(string)
	missed := 0
	for _, sub := range subs {
		if !sub.waitFor(30*time.Second, markerID) {
			missed++
		}
	}
	reconnected := 0
	for _, sub := range subs {
		if sub.connects.Load() >= 2 {
			reconnected++
		}
	}
	stop()
	wg.Wait()

	if bad := st.firstBad(); bad != "" {
		t.Errorf("an answered request was wrong: %s", bad)
	}
	if missed > 0 {
		t.Errorf("%d of %d subscribers did not receive the event written after the restart", missed, nSubs)
	}
	if reconnected < nSubs {
		t.Errorf("%d of %d subscribers reconnected", reconnected, nSubs)
	}
	ackMu.Lock()
	ackedIDs := append([]string(nil), acked...)
	ackMu.Unlock()
	db := openReadOnly(t, s.dir)
	defer db.Close()
	var lost []string
	for _, table := range []string{"posts", "comments"} {
		for _, id := range missing(t, db, table, ackedIDs) {
			// an id is in one table only: lost when in neither
			if len(present(t, db, map[string]string{"posts": "comments", "comments": "posts"}[table], []string{id})) == 0 {
				lost = append(lost, id)
			}
		}
	}
	lost = dedupe(lost)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged writes lost: %v", len(lost), lost[:min(5, len(lost))])
	}
	if after.answered == before.answered {
		t.Errorf("no request was answered after the restart")
	}
	report(t, "graceful-restart",
		"| subscribers | answered (reads/writes) | wrong answers | unanswered during the restart | acked writes | lost | SIGTERM → exit | exit code | down (SIGTERM → healthy again) | subscribers with the post-restart event |",
		fmt.Sprintf("| %d | %d (%d/%d) | %d | %d | %d | %d | %v | %d | %v | %d/%d |",
			nSubs, after.answered, after.reads, after.writes, after.bad, after.unanswered, len(ackedIDs), len(lost),
			took.Round(time.Millisecond), state.ExitCode(), (took+restartGap).Round(time.Millisecond), nSubs-missed, nSubs))
}

// terminate sends SIGTERM and waits up to grace for the exit; it returns the
// time to exit and the process state (nil if it had to be killed).
func (s *server) terminate(grace time.Duration) (time.Duration, *os.ProcessState) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	began := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return time.Since(began), cmd.ProcessState
	case <-time.After(grace):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return time.Since(began), nil
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// subscriber is a guest subscribed to posts that reconnects (every 250 ms
// while the server is away) whenever its stream ends.
type subscriber struct {
	name     string
	connects atomic.Int64
	mu       sync.Mutex
	seen     map[string]bool
	notify   chan struct{}
	once     sync.Once
}

func (s *subscriber) init() {
	s.once.Do(func() {
		s.seen = map[string]bool{}
		s.notify = make(chan struct{}, 1)
	})
}

func (s *subscriber) run(ctx context.Context, a *api) {
	s.init()
	for ctx.Err() == nil {
		c, err := openSSE(a, s.name, "", []string{"posts"})
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		s.connects.Add(1)
		func() {
			defer c.close()
			n := 0
			for {
				select {
				case <-ctx.Done():
					return
				case <-c.done:
					s.take(c.messages()[n:])
					return
				case <-c.notify:
				case <-time.After(100 * time.Millisecond):
				}
				msgs := c.messages()
				s.take(msgs[n:])
				n = len(msgs)
			}
		}()
	}
}

func (s *subscriber) take(msgs []rtMessage) {
	if len(msgs) == 0 {
		return
	}
	s.mu.Lock()
	for _, m := range msgs {
		s.seen[m.id()] = true
	}
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *subscriber) waitFor(timeout time.Duration, id string) bool {
	s.init()
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		ok := s.seen[id]
		s.mu.Unlock()
		if ok {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-s.notify:
		case <-time.After(min(left, 50*time.Millisecond)):
		}
	}
}

// loadStats counts the load's outcomes; an answer that is not what the
// request should get is "bad".
type loadStats struct {
	mu                                       sync.Mutex
	answered, reads, writes, unanswered, bad int
	bad1                                     string
}

type loadSnapshot struct{ answered, reads, writes, unanswered, bad int }

func (l *loadStats) snapshot() loadSnapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return loadSnapshot{l.answered, l.reads, l.writes, l.unanswered, l.bad}
}

func (l *loadStats) firstBad() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bad1
}

func (l *loadStats) outcome(err error, bad string, write bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil && bad == "" {
		l.unanswered++
		return
	}
	l.answered++
	if write {
		l.writes++
	} else {
		l.reads++
	}
	if bad != "" {
		l.bad++
		if l.bad1 == "" {
			l.bad1 = bad
		}
	}
}

func (l *loadStats) read(r reply, err error, path, id string) {
	bad := ""
	if err == nil || r.Status != 0 {
		var body map[string]any
		switch {
		case r.Status != 200:
			bad = fmt.Sprintf("GET %s: %s", path, r)
		case r.json(&body) != nil:
			bad = fmt.Sprintf("GET %s: a body that is not JSON: %s", path, r)
		case strings.Contains(path, "/records/") && body["id"] != id:
			bad = fmt.Sprintf("GET %s: another record: %s", path, r)
		case !strings.Contains(path, "/records/") && body["items"] == nil:
			bad = fmt.Sprintf("GET %s: no items: %s", path, r)
		}
		if err != nil && bad == "" {
			bad = fmt.Sprintf("GET %s: %d then %v", path, r.Status, err)
		}
	}
	l.outcome(err, bad, false)
}

// write reports whether the write was acknowledged.
func (l *loadStats) write(r reply, err error, id string) bool {
	bad := ""
	ok := false
	if err == nil || r.Status != 0 {
		var body map[string]any
		switch {
		case r.Status != 200:
			bad = fmt.Sprintf("create %s: %s", id, r)
		case r.json(&body) != nil || body["id"] != id:
			bad = fmt.Sprintf("create %s: %s", id, r)
		default:
			ok = err == nil
		}
	}
	l.outcome(err, bad, true)
	return ok
}
