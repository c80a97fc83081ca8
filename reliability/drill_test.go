package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lectern/internal/testkit"
)

// TestDisasterRecoveryDrill replicates a running server's data.db and
// auxiliary.db with Litestream (deploy/litestream.yml, unchanged) to S3
// (gofakes3 on loopback) while writers work at a steady rate, then kills
// Lectern and Litestream together with SIGKILL and deletes the data dir (the
// disk is gone). It restores both databases from S3 into an empty dir with
// `litestream restore`, starts Lectern on it and measures what an operator
// would: the recovery point (acknowledged writes missing, and the seconds of
// writes they span), the recovery time (restore + start to the first 200),
// PRAGMA integrity_check on both files, and `lectern check-counters`.
//
// It needs the Litestream binary (scripts/install-litestream.sh), so it runs
// only when LECTERN_DR_DRILL=1 (scripts/test.sh's "dr drill" step sets it):
//
//	LECTERN_DR_DRILL=1 LITESTREAM_BIN=$(scripts/install-litestream.sh) \
//	  go test ./reliability -run TestDisasterRecoveryDrill -v -count=1
//
// Knobs: LECTERN_DR_WRITE_FOR (default 12s of writes), LECTERN_DR_RATE
// (probe writes per second, default 50), LECTERN_DR_SEED_POSTS (seed the data
// first to reach a size; 0 by default), LECTERN_DR_ROUNDS (default 1).
func TestDisasterRecoveryDrill(t *testing.T) {
	skipShort(t)
	if os.Getenv("LECTERN_DR_DRILL") != "1" {
		t.Skip("set LECTERN_DR_DRILL=1 and LITESTREAM_BIN (scripts/install-litestream.sh) to run the disaster-recovery drill")
	}
	ls := os.Getenv("LITESTREAM_BIN")
	if ls == "" {
		t.Fatal("LITESTREAM_BIN is not set: LITESTREAM_BIN=$(scripts/install-litestream.sh)")
	}
	var rows []string
	for round := range envInt(t, "LECTERN_DR_ROUNDS", 1) {
		rows = append(rows, drillRound(t, ls, uint64(round+1)))
	}
	report(t, "dr-drill", "| data.db | writes acked | acked writes missing | recovery point (s of writes) | longest write pause | restore | start to first 200 | recovery time | integrity | check-counters |",
		strings.Join(rows, "\n"))
}

func drillRound(t *testing.T, litestreamBin string, seed uint64) string {
	const bucket = "lectern-replica"
	s3 := startFakeS3(t, bucket)
	s := newServer(t, serverOptions{})
	if n := envInt(t, "LECTERN_DR_SEED_POSTS", 1); n > 1 {
		// s.cli's 2-minute bound is for small commands; 100 MB takes longer
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		out, err := exec.CommandContext(ctx, s.bin, "seed", "--posts", fmt.Sprint(n), "--comments", fmt.Sprint(n*5), "--dir", s.dir).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("lectern seed: %v\n%s", err, tail(string(out), 2000))
		}
	}
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	wl := setupWorkload(t, w, 6, 4, 3, seed)

	// Litestream as the operator runs it: the shipped config, values by env
	lsEnv := []string{
		"LECTERN_DATA_DIR=" + s.dir,
		"LITESTREAM_S3_BUCKET=" + bucket,
		"LITESTREAM_S3_ENDPOINT=" + s3.url,
		"LITESTREAM_S3_REGION=us-east-1",
		"LITESTREAM_S3_FORCE_PATH_STYLE=true",
		"LITESTREAM_ACCESS_KEY_ID=" + fakeS3Key,
		"LITESTREAM_SECRET_ACCESS_KEY=" + fakeS3Secret,
	}
	cfg := filepath.Join(repoRoot(t), "deploy", "litestream.yml")
	if c := os.Getenv("LECTERN_DR_CONFIG"); c != "" {
		cfg = c // another Litestream config to drill, e.g. other intervals
	}
	rep := startLitestream(t, litestreamBin, cfg, lsEnv)
	drillWait(t, 3*time.Minute, "the first replica of data.db and auxiliary.db in S3", func() bool {
		return len(s3.keys(t, bucket, "lectern/data.db/")) > 0 && len(s3.keys(t, bucket, "lectern/auxiliary.db/")) > 0
	})
	dbSize := fileSize(filepath.Join(s.dir, "data.db"))

	// --- steady writes: the mixed workload, plus probe comments at a fixed
	// rate whose acknowledgement times give the recovery point in seconds
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); wl.run(ctx, seed, 1_000_000) }()
	probes := &probeLog{}
	rate := envInt(t, "LECTERN_DR_RATE", 50)
	go func() { defer wg.Done(); probes.run(ctx, wl, rate) }()
	time.Sleep(envDuration(t, "LECTERN_DR_WRITE_FOR", 12*time.Second))

	// --- the disk is gone: both processes die at once, the data dir with them.
	// The kill lands while writes flow steadily (a probe acknowledged in the
	// last 100 ms and at least half the rate in the last second, waited for
	// up to 20 s): during one of Litestream's checkpoint pauses nothing is
	// acknowledged, so nothing could be lost, and right after one the queued
	// writes are acknowledged in a burst.
	flowing := time.Now().Add(20 * time.Second)
	for time.Now().Before(flowing) && !probes.steady(rate) {
		time.Sleep(5 * time.Millisecond)
	}
	killedAt := time.Now()
	syscall.Kill(-rep.Process.Pid, syscall.SIGKILL)
	s.kill()
	cancel()
	wg.Wait()
	<-rep.done
	snap := wl.led.snapshot()
	acked := probes.acked()
	if err := os.RemoveAll(s.dir); err != nil {
		t.Fatal(err)
	}

	// --- restore both databases from S3 into an empty dir
	restored := filepath.Join(t.TempDir(), "pb_data")
	if err := os.MkdirAll(restored, 0o755); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	for _, db := range []string{"data.db", "auxiliary.db"} {
		out := runLitestream(t, litestreamBin, lsEnv, "restore", "-config", cfg, "-o", filepath.Join(restored, db), filepath.Join(s.dir, db))
		// the exit code is 0 even when nothing was restored: check the file
		if fileSize(filepath.Join(restored, db)) == 0 {
			t.Fatalf("litestream restore of %s wrote no file:\n%s", db, out)
		}
	}
	restoreTook := time.Since(began)

	rs := &server{t: t, bin: s.bin, dir: restored, port: testkit.FreePort(t), out: &outputLog{}}
	rs.url = fmt.Sprintf("http://127.0.0.1:%d", rs.port)
	t.Cleanup(rs.stop)
	startTook := rs.start()
	ra := newAPI(rs.url)
	defer ra.close()
	// the restored server serves the restored data: the superuser signs in,
	// a guest list answers
	superuserToken(t, ra)
	ra.must(t, 200, "GET", "/api/collections/posts/records?perPage=5", "", nil)
	rs.stop()

	// --- what was lost, and is what's there sound
	db := openReadOnly(t, restored)
	health := checkDB(t, db)
	loss := checkLedger(t, db, snap)
	found := map[string]bool{}
	for _, id := range present(t, db, "comments", probeIDs(acked)) {
		found[id] = true
	}
	db.Close()
	aux, err := sql.Open("sqlite", "file:"+filepath.Join(restored, "auxiliary.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var auxIntegrity string
	if err := aux.QueryRow("PRAGMA integrity_check").Scan(&auxIntegrity); err != nil {
		t.Fatal(err)
	}
	aux.Close()
	countersOut, countersErr := exec.Command(s.bin, "check-counters", "--dir", restored).CombinedOutput()

	// recovery point: from the oldest acknowledged probe that is missing to the
	// kill (0 when every acknowledged probe survived)
	var firstMissing time.Time
	missingProbes := 0
	for _, p := range acked {
		if !found[p.id] {
			missingProbes++
			if firstMissing.IsZero() || p.at.Before(firstMissing) {
				firstMissing = p.at
			}
		}
	}
	rpo := 0.0
	if !firstMissing.IsZero() {
		rpo = killedAt.Sub(firstMissing).Seconds()
	}
	rto := restoreTook + startTook
	if len(acked) > 0 {
		last := acked[len(acked)-1].at
		t.Logf("last probe acknowledged %s before the kill; probes acked in the last second: %d; pauses over 500ms between acks: %s",
			killedAt.Sub(last).Round(time.Millisecond), countSince(acked, killedAt.Add(-time.Second)), pauses(acked, killedAt))
	}
	t.Logf("data.db %.1f MB; %d writes acked (%d probes at %d/s); missing: %d probes, %d of the workload (%v); recovery point %.2fs; restore %s + start %s = %s; integrity %s/%s; check-counters: %v %s",
		float64(dbSize)/1e6, snap.acks+len(acked), len(acked), rate, missingProbes, loss.lost(), loss, rpo,
		restoreTook.Round(time.Millisecond), startTook.Round(time.Millisecond), rto.Round(time.Millisecond),
		health.Integrity, auxIntegrity, countersErr, strings.TrimSpace(string(countersOut)))

	if len(acked) < rate {
		t.Errorf("only %d probe writes acknowledged: the load did not run", len(acked))
	}
	if !health.ok() || auxIntegrity != "ok" {
		t.Errorf("restored databases not sound: data.db %+v, auxiliary.db %s", health, auxIntegrity)
	}
	if countersErr != nil {
		t.Errorf("check-counters on the restored data: %v\n%s", countersErr, countersOut)
	}
	if rpo > 1.0 {
		t.Errorf("recovery point %.2fs: over the 1 s target", rpo)
	}
	if rto > 30*time.Second {
		t.Errorf("recovery time %s: over the 30 s target", rto)
	}
	counters := "exact"
	if countersErr != nil {
		counters = "DRIFT"
	}
	return fmt.Sprintf("| %.1f MB | %d | %d probes + %d others | %.2f | %s | %s | %s | %s | %s / %s | %s |",
		float64(dbSize)/1e6, snap.acks+len(acked), missingProbes, loss.lost(), rpo, longestPause(acked, killedAt).Round(10*time.Millisecond),
		restoreTook.Round(time.Millisecond), startTook.Round(time.Millisecond), rto.Round(time.Millisecond),
		health.Integrity, auxIntegrity, counters)
}

// litestreamProc is a running `litestream replicate`.
type litestreamProc struct {
	*exec.Cmd
	done chan struct{}
}

// startLitestream runs `litestream replicate -config cfg` in its own process
// group (killed by t.Cleanup if the test ends first). AWS_CA_BUNDLE is
// dropped: the AWS SDK refuses to start when it points at a missing file.
func startLitestream(t *testing.T, bin, cfg string, env []string) *litestreamProc {
	t.Helper()
	cmd := exec.Command(bin, "replicate", "-config", cfg)
	cmd.Env = append(envWithout("AWS_CA_BUNDLE"), env...)
	out := &outputLog{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &litestreamProc{Cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("litestream output:\n%s", tail(out.String(), 3000))
		}
		if p := os.Getenv("LECTERN_DR_LITESTREAM_LOG"); p != "" {
			os.WriteFile(p, []byte(out.String()), 0o644) // for a look at its checkpoints
		}
	})
	return p
}

func runLitestream(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(envWithout("AWS_CA_BUNDLE"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("litestream %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func envWithout(name string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func drillWait(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probe is one acknowledged probe write and when its answer came.
type probe struct {
	id string
	at time.Time
}

// probeLog writes comments at a fixed rate (one student, one post) and keeps
// the acknowledged ones with their acknowledgement time.
type probeLog struct {
	mu  sync.Mutex
	ids []probe
}

func (p *probeLog) run(ctx context.Context, wl *workload, perSecond int) {
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	ids := newIDGen("p")
	student, post := wl.students[0], wl.posts[0]
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// each probe in its own goroutine: a slow answer must not lower the rate
		id := ids.next()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			r, err := wl.w.api.doCtx(rctx, "POST", "/api/collections/comments/records", student.token,
				map[string]any{"id": id, "post": post, "body": "probe " + id}, nil)
			if err == nil && r.Status == 200 {
				at := time.Now()
				p.mu.Lock()
				p.ids = append(p.ids, probe{id, at})
				p.mu.Unlock()
			}
		}()
	}
}

// steady reports whether probes flow: one acknowledged in the last 100 ms
// and at least half the rate over the last second.
func (p *probeLog) steady(rate int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ids) == 0 || time.Since(p.ids[len(p.ids)-1].at) > 100*time.Millisecond {
		return false
	}
	return countSince(p.ids, time.Now().Add(-time.Second)) >= rate/2
}

func (p *probeLog) acked() []probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]probe(nil), p.ids...)
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// pauses lists the gaps of more than 500 ms between acknowledgements (and
// before the kill), as "1.2s at -3.4s" (relative to the kill).
func pauses(ps []probe, killedAt time.Time) string {
	var out []string
	for i := 1; i <= len(ps); i++ {
		end := killedAt
		if i < len(ps) {
			end = ps[i].at
		}
		if gap := end.Sub(ps[i-1].at); gap > 500*time.Millisecond {
			out = append(out, fmt.Sprintf("%s at -%s", gap.Round(10*time.Millisecond), killedAt.Sub(ps[i-1].at).Round(10*time.Millisecond)))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func longestPause(ps []probe, killedAt time.Time) time.Duration {
	var max time.Duration
	for i := 1; i <= len(ps); i++ {
		end := killedAt
		if i < len(ps) {
			end = ps[i].at
		}
		max = maxDur(max, end.Sub(ps[i-1].at))
	}
	return max
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func countSince(ps []probe, from time.Time) int {
	n := 0
	for _, p := range ps {
		if !p.at.Before(from) {
			n++
		}
	}
	return n
}

func probeIDs(ps []probe) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.id
	}
	return out
}
