package seed

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// sampler is a sink that writes nothing and measures the live heap every
// few thousand records, after a collection, so it sees what the planner
// keeps rather than what it has not yet freed.
type sampler struct {
	puts, peak uint64
	base       uint64
	byStage    map[string]int
}

func (s *sampler) stage(name string, n int) { s.byStage[name] = n }
func (s *sampler) failed() bool             { return false }
func (s *sampler) put(it item) {
	if s.puts++; s.puts%4000 == 0 {
		s.sample()
	}
}
func (s *sampler) sample() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > s.base {
		s.peak = max(s.peak, m.HeapAlloc-s.base)
	}
}

// TestGenerateKeepsLittlePerRecord: the seed writes records as they are
// made, so what the planner holds is the little it needs of earlier records
// (ids, roles, dates), not the records. It used to build the whole data set
// first, about 1.2 KB a record: a billion-post request grew by 100 MB/s.
func TestGenerateKeepsLittlePerRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap while generating 60,000 records")
	}
	opts := DefaultOptions()
	opts.Users, opts.Posts, opts.Comments, opts.Courses, opts.Enrollments, opts.Reviews = 2000, 8000, 40000, 300, 6000, 3000

	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s := &sampler{base: m.HeapAlloc, byStage: map[string]int{}}
	p := generate(opts, time.Now(), s)
	s.sample()
	runtime.KeepAlive(p)

	perRecord := float64(s.peak) / float64(s.puts)
	t.Logf("%d records, peak live heap %.1f MB above the start: %.0f bytes a record", s.puts, float64(s.peak)/1e6, perRecord)
	if s.puts < 55_000 {
		t.Fatalf("only %d records generated", s.puts)
	}
	if perRecord > 250 {
		t.Errorf("the planner keeps %.0f bytes a record; records should be handed to the sink and dropped (under 250 bytes each kept)", perRecord)
	}
	// every stage announced its true size up front (the progress bar's total)
	for name, want := range map[string]int{"users": 2000, "posts": 8000, "comments": 40000, "courses": 300, "enrollments": 6000, "reviews": 3000} {
		if s.byStage[name] != want {
			t.Errorf("stage %s announced %d records, want %d", name, s.byStage[name], want)
		}
	}
	if s.byStage["lessons"] < 3*300 || s.byStage["lessons"] > 12*300 {
		t.Errorf("lessons stage announced %d", s.byStage["lessons"])
	}
}

// TestProgressLinesWithinAStage: in a log (no terminal) a long collection
// reports as it goes, not only when it is done.
func TestProgressLinesWithinAStage(t *testing.T) {
	defer func(d time.Duration) { lineEvery = d }(lineEvery)
	lineEvery = 0 // every record, for the test

	var out strings.Builder
	p := newProgress(&out, false, map[string]int{"posts": 5, "comments": 9})
	p.stage("posts", 3)
	for range 3 {
		p.add(1)
	}
	p.stageDone()

	want := []string{
		"seed: posts             1 of 3 so far",
		"seed: posts             2 of 3 so far",
		"seed: posts             3 in ",
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i, lines[i], w)
		}
	}
	// the total follows the stage's real size (3, not the estimated 5)
	if !strings.Contains(lines[2], "[3/12 records]") {
		t.Errorf("last line %q: want [3/12 records]", lines[2])
	}
}
