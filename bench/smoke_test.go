package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestSmoke runs the whole benchmark in its --small mode (about two minutes
// once the binaries are in the build cache): it builds every contender,
// seeds a small data set and a tinier one (--scales), runs every scenario on
// every contender for two short rounds, the signed-in reads and R2 on the
// tinier set too, and writes the report. It fails when a cell had errors, so CI
// keeps the suite working. Only with LECTERN_BENCH_SMOKE=1: plain
// `go test ./...` stays fast.
func TestSmoke(t *testing.T) {
	if os.Getenv("LECTERN_BENCH_SMOKE") != "1" {
		t.Skip("set LECTERN_BENCH_SMOKE=1 to run the benchmark smoke (go run ./bench --small)")
	}
	cfg := defaultConfig(true)
	cfg.Work = t.TempDir()
	cfg.Log = testLog{t}
	if err := run(context.Background(), &cfg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	report := string(b)
	for _, want := range []string{"## Targets", "## Ratios: reads", "## Ratios: writes", "## Realtime fan-out", "| S1 c16 (", "| W2 c16 |",
		"## Signed-in reads (A1–A5)", "| A1 (front page", "| A5 (course list",
		// the extra data set of --scales (100 posts, A1 and A3) beside the main one
		"| extra data sets (`--scales`) |", "### 100 posts: Lectern", "### 300 posts (main data set): Lectern",
		"### Growth with the table", "| A1 | Lectern | 100→300 |", "| A3 | Lectern | 100→300 |", "| A1 guest c16 (100 posts) | Lectern |",
		// and R2 on it, on Lectern and bare: a table per data set, the
		// target row naming both
		"### R2, R3 on 100 posts\n", "### R2, R3 on 300 posts (main data set)\n", "| R2 | bare PocketBase | 310 |",
		"every event delivered, on every data set | 100 posts: create "} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(report, "## Errors") {
		t.Errorf("the report lists errors:\n%s", report)
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
