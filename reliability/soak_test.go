package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak runs a bounded mixed workload against one server: readers (guests
// and signed-in users listing, viewing, searching, reading feeds), the
// crash test's writers plus post edits, and realtime
// subscribers (long-lived ones and a stream of short-lived ones). It checks:
// no 5xx, no "database is locked" in any answer, the server's output or its
// logs, memory stable after warm-up (VmRSS sampled from /proc), the server's
// open file descriptors and threads back to their baseline once the clients
// left (PocketBase exposes no goroutine count; each connection holds an fd
// and a goroutine, so the fd count is the proxy), every acknowledged write
// stored and every counter exact at the end. Memory is judged on the live Go
// heap after each GC (the server runs with GODEBUG=gctrace=1, which prints
// it): VmRSS also holds SQLite's page caches (32 MB per pooled connection,
// outside the Go heap), which grow with the database the soak keeps writing.
//
// LECTERN_SOAK sets the duration (default 25s; e.g. LECTERN_SOAK=5m).
func TestSoak(t *testing.T) {
	skipShort(t)
	duration := envDuration(t, "LECTERN_SOAK", 25*time.Second)

	s := newServer(t, serverOptions{env: []string{"GODEBUG=gctrace=1"}})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	wl := setupWorkload(t, w, 8, 20, 4, 5)
	pid := s.pid()

	// baseline once setup's connections are gone
	w.api.close()
	time.Sleep(time.Second)
	baseFDs, baseThreads, baseRSS := openFDs(pid), procStatus(pid, "Threads"), procStatus(pid, "VmRSS")
	baseKinds := fdKinds(pid)

	st := &soakStats{}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup

	// writers: the shared workload, plus enrollment flips and post edits
	wg.Go(func() { wl.run(ctx, 9, 1_000_000) })
	wg.Go(func() { soakEdits(ctx, wl, st) })
	// readers
	for i := range 4 {
		wg.Go(func() { soakReader(ctx, w, wl, st, rand.New(rand.NewPCG(uint64(i), 3))) })
	}
	// realtime: long-lived subscribers and a churn of short-lived ones
	for i, tok := range []string{"", "", wl.students[0].token, wl.students[1].token, wl.author.token, w.su} {
		wg.Go(func() { soakSubscriber(ctx, w.api, st, fmt.Sprintf("long%d", i), tok, 0) })
	}
	wg.Go(func() {
		for i := 0; i < 100000 && ctx.Err() == nil; i++ {
			tok := ""
			if i%2 == 1 {
				tok = wl.students[i%len(wl.students)].token
			}
			soakSubscriber(ctx, w.api, st, fmt.Sprintf("short%d", i), tok, time.Duration(500+i%5*300)*time.Millisecond)
		}
	})
	// sampler
	type sample struct {
		at                 time.Duration
		rss, fds, thr, dbK int
	}
	var samples []sample
	began := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				samples = append(samples, sample{time.Since(began), procStatus(pid, "VmRSS"), openFDs(pid), procStatus(pid, "Threads"), dbSizeKB(s.dir)})
			}
		}
	})
	wg.Wait()
	ran := time.Since(began)

	// clients gone: wait for the server's fds and threads to come back down
	w.api.close()
	// Sockets (a connection each, and its goroutine) must return to the
	// baseline; SQLite handles may stay up: database/sql keeps idle pooled
	// connections for PocketBase's 3-minute idle time, bounded by the pool.
	var endFDs, endThreads int
	var endKinds map[string]int
	settle := time.Now()
	for time.Since(settle) < 20*time.Second {
		endFDs, endThreads, endKinds = openFDs(pid), procStatus(pid, "Threads"), fdKinds(pid)
		if endKinds["socket"] <= baseKinds["socket"] {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	endRSS := procStatus(pid, "VmRSS")

	// memory after warm-up: the first 30% of the run is warm-up; of the
	// rest, the live heap's median over the last third must not exceed the
	// first third's by more than 25% + 8 MB (a leak at this load grows
	// without bound; a steady state does not)
	var rss, dbk []int
	peakFDs, peakRSS := 0, 0
	for _, sm := range samples {
		peakFDs, peakRSS = max(peakFDs, sm.fds), max(peakRSS, sm.rss)
		if sm.at >= ran*3/10 {
			rss, dbk = append(rss, sm.rss), append(dbk, sm.dbK)
		}
	}
	var warmRSS, lateRSS, warmDB, lateDB int
	if n := len(rss); n >= 3 {
		warmRSS, lateRSS = medianInt(rss[:n/3]), medianInt(rss[n-n/3:])
		warmDB, lateDB = dbk[0], dbk[n-1]
	}
	var heap []int
	for _, hs := range s.out.heapSamples() {
		if hs.at.After(began.Add(ran*3/10)) && hs.at.Before(began.Add(ran)) {
			heap = append(heap, hs.liveMB)
		}
	}
	var warmHeap, lateHeap int
	if n := len(heap); n >= 3 {
		warmHeap, lateHeap = medianInt(heap[:n/3]), medianInt(heap[n-n/3:])
	}
	memStable := len(heap) >= 3 && lateHeap <= warmHeap*5/4+8

	snap := wl.led.snapshot()
	s.stop()
	db := openReadOnly(t, s.dir)
	loss := checkLedger(t, db, snap)
	h := checkDB(t, db)
	db.Close()
	drift := counterDrift(t, s.dir)
	logErrors, logLocked := serverLogErrors(t, s.dir)
	outLocked := s.out.count("database is locked")

	reads, writes := st.reads.Load(), wl.writes.Load()+st.edits.Load()
	report(t, "soak", "| duration | requests (reads / writes) | req/s | 5xx | \"database is locked\" (answers / output / logs) | realtime clients / events | live heap MB warm → late (GCs) | RSS MB base → warm → late (peak) | data.db MB warm → late | sockets base / after (fds base / peak / after) | threads base / after | acked writes lost | counter drift |",
		fmt.Sprintf("| %s | %d (%d / %d) | %.0f | %d | %d / %d / %d | %d / %d | %d → %d (%d) | %.0f → %.0f → %.0f (%.0f) | %.0f → %.0f | %d / %d (%d / %d / %d) | %d / %d | %d | %d |",
			ran.Round(time.Second), reads+writes, reads, writes, float64(reads+writes)/ran.Seconds(), st.fivexx.Load(),
			st.locked.Load(), outLocked, logLocked, st.clients.Load(), st.events.Load(), warmHeap, lateHeap, len(heap),
			mb(baseRSS), mb(warmRSS), mb(lateRSS), mb(max(peakRSS, endRSS)), mb(warmDB), mb(lateDB),
			baseKinds["socket"], endKinds["socket"], baseFDs, peakFDs, endFDs, baseThreads, endThreads,
			loss.lost(), len(drift)))
	t.Logf("fds by kind: baseline %v, after the clients left %v", baseKinds, endKinds)
	t.Logf("refused writes by kind: %v; reader statuses: %v; server log errors (level ≥ error): %d %v", wl.led.refused, st.statusCounts(), len(logErrors), logErrors)

	if n := st.fivexx.Load(); n > 0 {
		t.Errorf("%d answers were 5xx; first: %s", n, st.firstBad())
	}
	if n := st.locked.Load() + int64(outLocked) + int64(logLocked); n > 0 {
		t.Errorf("\"database is locked\" seen %d times", n)
	}
	if !memStable {
		t.Errorf("memory not stable after warm-up: median live heap %d MB → %d MB over %d GCs", warmHeap, lateHeap, len(heap))
	}
	if endKinds["socket"] > baseKinds["socket"] || endKinds["other"] > baseKinds["other"] {
		t.Errorf("open fds did not come back to the baseline once clients left: %v → %v", baseKinds, endKinds)
	}
	if loss.lost() > 0 {
		t.Errorf("acknowledged writes lost: %s", loss)
	}
	if !h.ok() {
		t.Errorf("integrity %q, fk violations %d", h.Integrity, h.FKRows)
	}
	for _, d := range drift {
		t.Errorf("counter drift: %s", d)
	}
	if st.events.Load() == 0 {
		t.Error("the realtime subscribers received no event")
	}
}

// soakStats are the soak's shared counters.
type soakStats struct {
	reads, edits, fivexx, locked, clients, events atomic.Int64

	mu       sync.Mutex
	statuses map[int]int
	bad      string
}

func (s *soakStats) observe(r reply, err error, what string) {
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.statuses == nil {
		s.statuses = map[int]int{}
	}
	s.statuses[r.Status]++
	s.mu.Unlock()
	if r.Status >= 500 {
		s.fivexx.Add(1)
		s.setBad(what + " → " + r.String())
	}
	if strings.Contains(string(r.Body), "database is locked") {
		s.locked.Add(1)
		s.setBad(what + " → " + r.String())
	}
}

func (s *soakStats) setBad(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bad == "" {
		s.bad = msg
	}
}

func (s *soakStats) firstBad() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

func (s *soakStats) statusCounts() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.statuses)
}

func soakReader(ctx context.Context, w *world, wl *workload, st *soakStats, rng *rand.Rand) {
	for i := 0; i < 1_000_000 && ctx.Err() == nil; i++ {
		tok := ""
		if rng.IntN(2) == 0 {
			tok = wl.students[rng.IntN(len(wl.students))].token
		}
		post := wl.posts[rng.IntN(len(wl.posts))]
		paths := []string{
			"/api/collections/posts/records?sort=-publishedAt&expand=author&perPage=20",
			"/api/collections/posts/records/" + post,
			"/api/collections/comments/records?perPage=50&sort=-created&filter=" + url.QueryEscape(`post="`+post+`"`),
			"/api/collections/courses/records?sort=-ratingAvg&perPage=20",
			"/api/collections/reviews/records?perPage=20&expand=user",
			"/api/collections/lessons/records?perPage=50",
			"/api/collections/enrollments/records?perPage=50",
			"/api/search?q=workload",
			"/feed.xml",
		}
		p := paths[rng.IntN(len(paths))]
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		r, err := w.api.doCtx(rctx, "GET", p, tok, nil, nil)
		cancel()
		st.reads.Add(1)
		st.observe(r, err, "GET "+p)
	}
}

// soakEdits are the writes the crash workload lacks: the author rewriting
// post bodies (sanitizing, excerpt, reading time, search index).
func soakEdits(ctx context.Context, wl *workload, st *soakStats) {
	rng := rand.New(rand.NewPCG(17, 17))
	for i := 0; i < 1_000_000 && ctx.Err() == nil; i++ {
		time.Sleep(20 * time.Millisecond)
		post := wl.posts[rng.IntN(len(wl.posts))]
		r, err := wl.w.api.do("PATCH", "/api/collections/posts/records/"+post, wl.author.token,
			map[string]any{"body": fmt.Sprintf("<p>Edited %d times: %s</p>", i, strings.Repeat("words ", rng.IntN(300)))})
		st.edits.Add(1)
		st.observe(r, err, "PATCH post "+post)
	}
}

// soakSubscriber holds a realtime connection until ctx ends (hold = 0) or for hold.
func soakSubscriber(ctx context.Context, a *api, st *soakStats, name, token string, hold time.Duration) {
	c, err := openSSE(a, name, token, []string{"comments", "posts", "courses", "reviews", "enrollments"})
	if err != nil {
		if ctx.Err() == nil {
			st.setBad("realtime " + name + ": " + err.Error())
		}
		return
	}
	st.clients.Add(1)
	if hold == 0 {
		<-ctx.Done()
	} else {
		select {
		case <-ctx.Done():
		case <-time.After(hold):
		}
	}
	c.close()
	st.events.Add(int64(c.count()))
}

func medianInt(xs []int) int {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func mb(kb int) float64 { return float64(kb) / 1024 }

// dbSizeKB is the size of data.db and its WAL.
func dbSizeKB(dir string) int {
	n := int64(0)
	for _, f := range []string{"data.db", "data.db-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			n += fi.Size()
		}
	}
	return int(n / 1024)
}

// serverLogErrors reads the server's request/error log (auxiliary.db _logs):
// entries at error level or above, and entries mentioning a locked database.
func serverLogErrors(t testing.TB, dir string) (errors []string, locked int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "auxiliary.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT message || ' ' || data FROM _logs WHERE level >= 8 ORDER BY created LIMIT 20`)
	if err != nil {
		t.Logf("read _logs: %v", err)
		return nil, 0
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		errors = append(errors, tail(s, 600))
	}
	rows.Close()
	db.QueryRow(`SELECT COUNT(*) FROM _logs WHERE message LIKE '%database is locked%' OR data LIKE '%database is locked%'`).Scan(&locked)
	return errors, locked
}
