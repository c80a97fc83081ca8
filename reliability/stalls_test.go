package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestLitestreamWriteStalls measures, side by side in one run, what
// replication costs an operator's writes: the same bounded steady write load
// (the crash test's mixed workload plus probe comments at a fixed rate)
// against Lectern alone, against Lectern as it was before the fix under
// Litestream (transactions begun deferred: -X lectern/internal/dbconn.txLock=deferred)
// and against Lectern as shipped under Litestream with deploy/litestream.yml.
// Each probe's latency is from sending it to its answer; a stall is a second
// or more without any probe acknowledged.
//
// Like the drill it needs Litestream (LECTERN_DR_DRILL=1, LITESTREAM_BIN).
// Knobs: LECTERN_STALL_WRITE_FOR (default 20s per variant), LECTERN_DR_RATE
// (probes per second, default 50), LECTERN_STALL_ROUNDS (default 1; the
// variants run in a rotated order each round), LECTERN_STALL_CONFIG (one more
// Litestream config to measure with the shipped binary).
//
// It asserts what an operator must never see, except in the "before"
// variant, which shows it: a probe write failing, and with the shipped
// binary and config a write waiting 5 s or more (PocketBase gives up a
// locked statement after 7.35 s of retries).
func TestLitestreamWriteStalls(t *testing.T) {
	skipShort(t)
	if os.Getenv("LECTERN_DR_DRILL") != "1" {
		t.Skip("set LECTERN_DR_DRILL=1 and LITESTREAM_BIN (scripts/install-litestream.sh) to measure Litestream's write stalls")
	}
	ls := os.Getenv("LITESTREAM_BIN")
	if ls == "" {
		t.Fatal("LITESTREAM_BIN is not set: LITESTREAM_BIN=$(scripts/install-litestream.sh)")
	}
	root := repoRoot(t)
	shipped := lecternBinary(t)
	variants := []stallVariant{
		{name: "no Litestream", bin: shipped},
		{name: "Litestream, before (deferred BEGIN)", bin: deferredBinary(t), config: filepath.Join(root, "deploy", "litestream.yml"), before: true},
		{name: "Litestream, shipped (BEGIN IMMEDIATE)", bin: shipped, config: filepath.Join(root, "deploy", "litestream.yml"), shipped: true},
	}
	if c := os.Getenv("LECTERN_STALL_CONFIG"); c != "" {
		variants = append(variants, stallVariant{name: "Litestream, " + filepath.Base(c), bin: shipped, config: c})
	}
	writeFor := envDuration(t, "LECTERN_STALL_WRITE_FOR", 20*time.Second)
	rate := envInt(t, "LECTERN_DR_RATE", 50)
	results := make([][]stallResult, len(variants))
	for round := range envInt(t, "LECTERN_STALL_ROUNDS", 1) {
		for k := range variants {
			i := (k + round) % len(variants)
			v := variants[i]
			t.Run(fmt.Sprintf("round%d/%s", round+1, v.name), func(t *testing.T) {
				r := measureStalls(t, v, ls, writeFor, rate, uint64(round+1))
				t.Logf("%s: %s", v.name, r)
				results[i] = append(results[i], r)
				if r.failed > 0 && !v.before {
					t.Errorf("%d of %d probe writes failed or got no answer", r.failed, r.sent)
				}
				if v.shipped && r.max >= 5*time.Second {
					t.Errorf("a write waited %s with the shipped binary and config", r.max.Round(time.Millisecond))
				}
			})
		}
	}
	var rows []string
	for i, v := range variants {
		for _, r := range results[i] {
			rows = append(rows, fmt.Sprintf("| %s | %d | %d | %d | %s | %s | %s | %d | %s | %d | %.1f MB |",
				v.name, r.sent, r.acked, r.failed, ms(r.p50), ms(r.p99), ms(r.max), r.stalls, ms(r.longestGap), r.workloadAcks, float64(r.walBytes)/1e6))
		}
	}
	report(t, "litestream-stalls", "| variant | probes sent | acked | failed | p50 | p99 | max | stalls ≥1 s | longest gap | workload writes acked | WAL at the end |", strings.Join(rows, "\n"))
}

type stallVariant struct {
	name    string
	bin     string
	config  string // "" runs no Litestream
	before  bool
	shipped bool
}

type stallResult struct {
	sent, acked, failed int
	workloadAcks        int
	p50, p99, max       time.Duration
	stalls              int
	longestGap          time.Duration
	walBytes            int64 // data.db-wal when the load ended
}

func (r stallResult) String() string {
	return fmt.Sprintf("%d probes sent, %d acked, %d failed; latency p50 %s p99 %s max %s; %d stalls ≥1 s, longest gap %s; %d workload writes acked; WAL %.1f MB",
		r.sent, r.acked, r.failed, ms(r.p50), ms(r.p99), ms(r.max), r.stalls, ms(r.longestGap), r.workloadAcks, float64(r.walBytes)/1e6)
}

func ms(d time.Duration) string {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}

func measureStalls(t *testing.T, v stallVariant, litestreamBin string, writeFor time.Duration, rate int, seed uint64) stallResult {
	s := newServer(t, serverOptions{})
	s.bin = v.bin
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	wl := setupWorkload(t, w, 6, 4, 3, seed)

	if v.config != "" {
		const bucket = "lectern-replica"
		s3 := startFakeS3(t, bucket)
		rep := startLitestream(t, litestreamBin, v.config, []string{
			"LECTERN_DATA_DIR=" + s.dir,
			"LITESTREAM_S3_BUCKET=" + bucket,
			"LITESTREAM_S3_ENDPOINT=" + s3.url,
			"LITESTREAM_S3_REGION=us-east-1",
			"LITESTREAM_S3_FORCE_PATH_STYLE=true",
			"LITESTREAM_ACCESS_KEY_ID=" + fakeS3Key,
			"LITESTREAM_SECRET_ACCESS_KEY=" + fakeS3Secret,
		})
		drillWait(t, 3*time.Minute, "the first replica of data.db in S3", func() bool {
			return len(s3.keys(t, bucket, "lectern/data.db/")) > 0
		})
		defer func() {
			syscall.Kill(-rep.Process.Pid, syscall.SIGKILL)
			<-rep.done
		}()
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); wl.run(ctx, seed, 1_000_000) }()
	probes := &latencyLog{}
	go func() { defer wg.Done(); probes.run(ctx, wl, rate) }()
	time.Sleep(writeFor)
	ended := time.Now()
	cancel()
	wg.Wait()
	r := probes.result(ended)
	r.walBytes = fileSize(filepath.Join(s.dir, "data.db-wal"))
	r.workloadAcks = wl.led.snapshot().acks
	s.stop()
	return r
}

// latencyLog sends probe comments at a fixed rate and keeps each one's
// latency (send to answer) and acknowledgement time.
type latencyLog struct {
	mu     sync.Mutex
	sent   int
	failed int
	lat    []time.Duration
	acks   []time.Time
}

func (p *latencyLog) run(ctx context.Context, wl *workload, perSecond int) {
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	ids := newIDGen("s")
	student, post := wl.students[0], wl.posts[0]
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		id := ids.next()
		p.mu.Lock()
		p.sent++
		p.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			// not the load's context: a probe in flight when the load ends
			// still gets its answer, and its latency counts
			rctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			began := time.Now()
			r, err := wl.w.api.doCtx(rctx, "POST", "/api/collections/comments/records", student.token,
				map[string]any{"id": id, "post": post, "body": "probe " + id}, nil)
			at := time.Now()
			p.mu.Lock()
			defer p.mu.Unlock()
			if err != nil || r.Status != 200 {
				p.failed++
				return
			}
			p.lat = append(p.lat, at.Sub(began))
			p.acks = append(p.acks, at)
		}()
	}
}

func (p *latencyLog) result(ended time.Time) stallResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := stallResult{sent: p.sent, acked: len(p.lat), failed: p.failed}
	if len(p.lat) == 0 {
		return r
	}
	lat := slices.Clone(p.lat)
	slices.Sort(lat)
	r.p50 = lat[len(lat)/2]
	r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	r.max = lat[len(lat)-1]
	acks := slices.Clone(p.acks)
	slices.SortFunc(acks, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i <= len(acks); i++ {
		end := ended
		if i < len(acks) {
			end = acks[i]
		}
		gap := end.Sub(acks[i-1])
		if gap < 0 {
			gap = 0 // the last probes answered after the load ended
		}
		if gap >= time.Second {
			r.stalls++
		}
		r.longestGap = max(r.longestGap, gap)
	}
	return r
}

// deferredBinary builds Lectern with transactions begun deferred, as before
// the fix (internal/dbconn's txLock), for the side-by-side measurement.
func deferredBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lectern-deferred")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X lectern/internal/dbconn.txLock=deferred", "-o", bin, ".")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (deferred): %v\n%s", err, out)
	}
	return bin
}
