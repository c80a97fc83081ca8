package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"lectern/internal/authrules"
)

// report collects the cells of every round and writes RESULTS.md.
type report struct {
	cfg      *config
	fix      *fixture
	sets     []*dataSet // the main data set, then the extra ones (--scales)
	reads    []readScenario
	started  time.Time
	finished time.Time
	load0    string

	mu    sync.Mutex
	cells []cellResult
	rts   []rtResult
}

func (r *report) add(c cellResult) {
	r.mu.Lock()
	r.cells = append(r.cells, c)
	r.mu.Unlock()
}

func (r *report) addRT(c rtResult) {
	r.mu.Lock()
	r.rts = append(r.rts, c)
	r.mu.Unlock()
}

func (r *report) writeRaw(path string) error {
	b, err := json.MarshalIndent(map[string]any{"cells": r.cells, "realtime": r.rts}, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// failures lists the cells that had errors.
func (r *report) failures() []string {
	var out []string
	for _, c := range r.cells {
		if c.Errors > 0 {
			out = append(out, fmt.Sprintf("round %d %s %s: %d of %d failed, first: %s", c.Round, c.Contender, c.key(), c.Errors, c.N, c.FirstErr))
		}
	}
	for _, c := range r.rts {
		if c.Err != "" || c.Connected < c.Subs || (len(c.WriterMs) > 0 && c.Delivered < 1) || c.Unexpected > 0 {
			out = append(out, fmt.Sprintf("round %d %s %s %d%s: %d connected, %.1f%% delivered, %d unexpected %s",
				c.Round, c.Contender, c.scenario(), c.Subs, scaleSuffix(c.Scale), c.Connected, 100*c.Delivered, c.Unexpected, c.Err))
		}
	}
	return out
}

// ---

type metric func(cellResult) float64

var (
	rps  metric = func(c cellResult) float64 { return c.RPS }
	cpu  metric = func(c cellResult) float64 { return c.CPUus }
	p50  metric = func(c cellResult) float64 { return c.P50ms }
	p99  metric = func(c cellResult) float64 { return c.P99ms }
	rss  metric = func(c cellResult) float64 { return c.RSSMB }
	hitp metric = func(c cellResult) float64 {
		if c.N == 0 {
			return 0
		}
		return 100 * float64(c.Hits) / float64(c.N)
	}
)

func (r *report) find(round int, contender, key string) (cellResult, bool) {
	for _, c := range r.cells {
		if c.Round == round && c.Contender == contender && c.key() == key {
			return c, true
		}
	}
	return cellResult{}, false
}

// ratio is the median over rounds of a/b, each round's contenders compared
// with each other (they ran minutes apart, under the same background load).
func (r *report) ratio(a, b, key string, m metric) (float64, bool) {
	var v []float64
	for round := 1; round <= r.cfg.Rounds; round++ {
		x, ok1 := r.find(round, a, key)
		y, ok2 := r.find(round, b, key)
		if ok1 && ok2 && m(y) > 0 && x.N > 0 && y.N > 0 {
			v = append(v, m(x)/m(y))
		}
	}
	return median(v)
}

// value is the median over rounds of one contender's metric.
func (r *report) value(contender, key string, m metric) (float64, bool) {
	var v []float64
	for _, c := range r.cells {
		if c.Contender == contender && c.key() == key && c.N > 0 {
			v = append(v, m(c))
		}
	}
	return median(v)
}

func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

func fx(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f×", v)
	case v >= 10:
		return fmt.Sprintf("%.1f×", v)
	default:
		return fmt.Sprintf("%.2f×", v)
	}
}

func num(v float64, ok bool, prec int) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func (r *report) keys(prefix string) []string {
	var out []string
	for _, c := range r.cells {
		k := c.key()
		if strings.HasPrefix(c.Scenario, prefix) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func (r *report) label(name string) string {
	for _, c := range contenders(map[string]string{}, "", "") {
		if c.Name == name {
			return c.Label
		}
	}
	return name
}

// ---

func machine() (cpuModel string, mem string, kernel string) {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpuModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(v), &kb)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (r *report) write(path string) error {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	cfg := r.cfg
	model, mem, kernel := machine()
	sz := r.fix.Sizes

	w("# Lectern benchmark results\n\n")
	if cfg.Small {
		w("**Smoke run (`--small`): a tiny data set and short cells, to keep the suite working. Not figures to quote.**\n\n")
	}
	args := cfg.Args
	if args == nil && cfg.Small {
		args = []string{"--small"} // the smoke test, in process
	}
	w("Generated by `%s` (see [README.md](README.md)) on %s, %s → %s.\n\n",
		strings.Join(append([]string{"go run ./bench"}, args...), " "), r.started.Format("2006-01-02"),
		r.started.Format("15:04 MST"), r.finished.Format("15:04 MST"))
	w("| | |\n|---|---|\n")
	w("| machine | %d CPUs (nproc), %s, %s RAM, Linux %s |\n", runtime.NumCPU(), model, mem, kernel)
	w("| load average (1/5/15 min) | at start %s, at end %s — other work shared the machine; the rounds interleave the contenders so ratios stay comparable |\n", r.load0, loadavg())
	w("| toolchain | %s, PocketBase v0.40.4, modernc SQLite, `CGO_ENABLED=0` |\n", runtime.Version())
	w("| data set | `lectern seed %s`: %d users, %d posts, %d comments, %d courses, %d enrollments, %d reviews; plus %d bench students each enrolled in %d published courses |\n",
		strings.Join(sz.seedArgs(), " "), sz.Users, sz.Posts, sz.Comments, sz.Courses, sz.Enrollments, sz.Reviews, sz.BenchUsers, sz.BenchCourses)
	if len(r.sets) > 1 {
		var extra []string
		for _, ds := range r.sets[1:] {
			scen := strings.Join(append(slices.Clone(ds.auth), ds.live...), ", ")
			if slices.Equal(ds.auth, knownAuth()) {
				scen = strings.Join(append([]string{"A1–A5"}, ds.live...), ", ")
			}
			extra = append(extra, fmt.Sprintf("`lectern seed %s` (%s)", strings.Join(ds.fix.Sizes.seedArgs(), " "), scen))
		}
		w("| extra data sets (`--scales`) | %s; each with its own bench students, superuser and R2 readers, set up as on the main one; only the scenarios named run on them, in the same rounds: each round starts once more, on a pristine copy of each, every signed-in read contender if A scenarios run there and Lectern and bare PocketBase if R2/R3 do, rotated with the main data set's contenders |\n",
			strings.Join(extra, "; "))
	}
	w("| settings | %s, set in the data set after `migrate`, before any server starts (every contender runs on a copy of the same data dir) |\n", r.fix.Relaxed)
	w("| method | %d rounds; each round starts every contender once (rotated order) on a pristine copy of the data dir, `serve --dev=false` on 127.0.0.1; per cell a warm-up, then up to a bounded count of requests capped at %s; reads from %d workers, each on one keep-alive connection, sending `Accept-Encoding: "+acceptEncoding+"` as browsers do (Lectern's cache answers gzip, bare PocketBase and Lectern without its cache never compress); figures are medians over rounds, ratios are medians of per-round ratios |\n",
		cfg.Rounds, cfg.Cell, cfg.ReadConc)
	w("| CPU/request | server utime+stime from `/proc/<pid>/stat` over the cell ÷ requests (10 ms ticks); the load client (the bench's own minimal HTTP/1.1 client, the same for every contender; its CPU per request is in `results.json`) runs on the same %d CPUs |\n\n", runtime.NumCPU())

	w("Contenders: **Lectern** (the real binary: all hooks, rules, the response cache, whose hits skip PocketBase's request log and rate limiter); **Lectern, cache off** (same binary, `%s=off`); **bare PocketBase** (`bench/contenders/bare`: same migrations, no Lectern hooks); **PocketBase + JS hooks** (`bench/contenders/jshooks`: same migrations, the jsvm plugin with `pb_hooks/*.pb.js` doing the comment counter, rating aggregate and slugs); **net/http ceiling** (`bench/contenders/ceiling`: serves the bytes captured from Lectern's cache for each read URL, gzip-compressed where Lectern compresses them).\n\n", "LECTERN_CACHE")

	// --- targets
	w("## Targets\n\n")
	w("| target | measured | met |\n|---|---|---|\n")
	readKeys := r.keys("S")
	if len(readKeys) > 0 {
		worst, parts := 0.0, []string{}
		var ceil, eff []string
		okAll := true
		for _, k := range readKeys {
			name, _, _ := strings.Cut(k, " ")
			v, ok := r.ratio("lectern", "bare", k, rps)
			parts = append(parts, fmt.Sprintf("%s %s", name, fx(v, ok)))
			c, cok := r.ratio("ceiling", "bare", k, rps)
			ceil = append(ceil, fmt.Sprintf("%s %s", name, fx(c, cok)))
			e, eok := r.ratio("bare", "lectern", k, cpu)
			eff = append(eff, fmt.Sprintf("%s %s", name, fx(e, eok)))
			if !ok {
				okAll = false
				continue
			}
			if worst == 0 || v < worst {
				worst = v
			}
		}
		w("| guest GETs ≥ 10× bare PocketBase's throughput (S1–S6, Lectern/bare req/s) | %s. For scale, the net/http ceiling serving the same bytes reaches %s of bare here (the load client shares the CPUs). Server CPU per request, bare/Lectern: %s | %s |\n",
			strings.Join(parts, ", "), strings.Join(ceil, ", "), strings.Join(eff, ", "), yes(okAll && worst >= 10))
		parts, okAll = nil, true
		maxv := 0.0
		for i, k := range readKeys {
			if i >= 4 {
				break
			}
			v, ok := r.ratio("lectern-nocache", "bare", k, cpu)
			parts = append(parts, fmt.Sprintf("S%d %s", i+1, fx(v, ok)))
			if !ok {
				okAll = false
			}
			maxv = max(maxv, v)
		}
		w("| Lectern reads without the cache ≤ 1.10× bare CPU/request (S1–S4) | %s | %s |\n", strings.Join(parts, ", "), yes(okAll && maxv <= 1.10))
	}
	writeKeys := r.keys("W")
	if len(writeKeys) > 0 {
		var parts, jsParts []string
		okAll, jsOK := true, true
		for _, k := range writeKeys {
			v, ok := r.ratio("lectern", "bare", k, cpu)
			parts = append(parts, fmt.Sprintf("%s %s", k, fx(v, ok)))
			okAll = okAll && ok && v <= 1.5
			j, ok := r.ratio("lectern", "jshooks", k, cpu)
			jsParts = append(jsParts, fmt.Sprintf("%s %s", k, fx(j, ok)))
			jsOK = jsOK && ok && j < 1
		}
		w("| comment/review creates ≤ 1.5× a bare create (Lectern/bare CPU/request) | %s | %s |\n", strings.Join(parts, ", "), yes(okAll))
		w("| … and cheaper than JS hooks (Lectern/JS-hooks CPU/request < 1) | %s | %s |\n", strings.Join(jsParts, ", "), yes(jsOK))
	}
	if scales := r.authScales(); len(scales) > 0 {
		var parts []string
		okAll := true
		for _, sc := range scales {
			var ps []string
			for _, name := range r.authNames(sc) {
				v, ok := r.callerRatio("lectern", name, "student", "guest", rps, sc)
				ps = append(ps, fmt.Sprintf("%s %s", name, fx(v, ok)))
				okAll = okAll && ok && v >= 0.75
			}
			if len(scales) > 1 {
				parts = append(parts, fmt.Sprintf("%s posts: %s", fmtCount(r.postsOf(sc)), strings.Join(ps, ", ")))
			} else {
				parts = append(parts, strings.Join(ps, ", "))
			}
		}
		w("| signed-in student reads ≥ 0.75× an uncached guest's throughput (A1–A5, student/guest req/s, same server, same round; on every data set) | %s | %s |\n", strings.Join(parts, "; "), yes(okAll))
		w("%s", r.growthTargetRow())
	}
	if len(r.rts) > 0 {
		var parts []string
		for _, n := range cfg.Realtime {
			v, ok := r.rtValue("lectern", n, func(x rtResult) []float64 { return x.WriterMs })
			parts = append(parts, fmt.Sprintf("%d subs: %s ms", n, num(v, ok, 0)))
		}
		w("| realtime: Lectern writer response time vs subscribers (reported, no target) | %s | – |\n", strings.Join(parts, ", "))
		w("%s", r.liveTargetRows())
	}
	w("\n")

	// --- ratios
	if len(readKeys) > 0 {
		w("## Ratios: reads (guest GETs, %d clients)\n\n", cfg.ReadConc)
		w("Throughput (req/s) ratios unless marked CPU (ratios of server CPU µs per request). \"no-cache\" is Lectern with its response cache off: the cost of Lectern's hooks and rules on reads.\n\n")
		w("| scenario | Lectern/bare | Lectern/JS-hooks | bare/ceiling | Lectern/ceiling | bare/Lectern CPU | no-cache/bare | no-cache/bare CPU | no-cache/JS-hooks CPU | Lectern cache hits |\n")
		w("|---|---|---|---|---|---|---|---|---|---|\n")
		for _, k := range readKeys {
			hits, hok := r.value("lectern", k, hitp)
			w("| %s %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%% |\n", k, r.what(k),
				fx(r.ratio("lectern", "bare", k, rps)), fx(r.ratio("lectern", "jshooks", k, rps)),
				fx(r.ratio("bare", "ceiling", k, rps)), fx(r.ratio("lectern", "ceiling", k, rps)),
				fx(r.ratio("bare", "lectern", k, cpu)),
				fx(r.ratio("lectern-nocache", "bare", k, rps)), fx(r.ratio("lectern-nocache", "bare", k, cpu)),
				fx(r.ratio("lectern-nocache", "jshooks", k, cpu)), num(hits, hok, 0))
		}
		w("\n")
	}
	if len(readKeys) > 0 && r.ran("lectern-nometrics", readKeys[0]) {
		w("## Metrics cost on reads\n\n")
		w("Lectern with its Prometheus instrumentation (the default) against the same binary with `LECTERN_METRICS=off`, same rounds, interleaved. Target: ≤ 1.05× server CPU per request on a cached read.\n\n")
		w("| scenario | CPU µs/req, metrics on | metrics off | on/off CPU | on/off req/s | cache hits |\n")
		w("|---|---|---|---|---|---|\n")
		for _, k := range readKeys {
			on, onOK := r.value("lectern", k, cpu)
			off, offOK := r.value("lectern-nometrics", k, cpu)
			hits, hok := r.value("lectern", k, hitp)
			w("| %s %s | %s | %s | %s | %s | %s%% |\n", k, r.what(k), num(on, onOK, 1), num(off, offOK, 1),
				fx(r.ratio("lectern", "lectern-nometrics", k, cpu)), fx(r.ratio("lectern", "lectern-nometrics", k, rps)), num(hits, hok, 0))
		}
		w("\n")
	}
	if scales := r.authScales(); len(scales) > 0 {
		r.writeAuth(w, scales)
	}
	wk := append(writeKeys, r.keys("L")...)
	if len(wk) > 0 {
		w("## Ratios: writes and sign-in\n\n")
		w("W1 = create a comment (signed in), W2 = create a review (enrolled student), L1 = password sign-in; c = concurrent clients.\n\n")
		w("| scenario | Lectern/bare CPU | Lectern/bare p50 | Lectern/bare req/s | Lectern/JS-hooks CPU | Lectern/JS-hooks p50 | JS-hooks/bare CPU |\n")
		w("|---|---|---|---|---|---|---|\n")
		for _, k := range wk {
			w("| %s | %s | %s | %s | %s | %s | %s |\n", k,
				fx(r.ratio("lectern", "bare", k, cpu)), fx(r.ratio("lectern", "bare", k, p50)), fx(r.ratio("lectern", "bare", k, rps)),
				fx(r.ratio("lectern", "jshooks", k, cpu)), fx(r.ratio("lectern", "jshooks", k, p50)),
				fx(r.ratio("jshooks", "bare", k, cpu)))
		}
		w("\n")
	}
	if len(r.rts) > 0 {
		w("## Realtime fan-out (R1)\n\n")
		w("Guest subscribers of `comments/*` over PocketBase's realtime protocol (SSE + subscribe POST); then one unmeasured warm-up comment and %d measured ones, created one at a time. Writer = the create's own response time; delivery = from sending the create to the subscriber reading the event. PocketBase checks each subscriber's access (the list rule, a query per subscriber) before the create returns. Medians over writes and rounds.\n\n", cfg.RTWrites)
		w("| contender | subscribers | writer ms | half delivered ms | last delivered ms | delivered | server RSS per connection |\n|---|---|---|---|---|---|---|\n")
		for _, name := range []string{"lectern", "bare", "jshooks"} {
			for _, n := range cfg.Realtime {
				wr, ok := r.rtValue(name, n, func(x rtResult) []float64 { return x.WriterMs })
				if !ok {
					continue
				}
				half, hok := r.rtValue(name, n, func(x rtResult) []float64 { return x.MedianMs })
				last, lok := r.rtValue(name, n, func(x rtResult) []float64 { return x.LastMs })
				del, dok := r.rtValue(name, n, func(x rtResult) []float64 { return []float64{100 * x.Delivered} })
				kb, kok := r.rtValue(name, n, func(x rtResult) []float64 { return []float64{x.KBPerConn} })
				w("| %s | %d | %s | %s | %s | %s%% | %s KB |\n", r.label(name), n, num(wr, ok, 1), num(half, hok, 0), num(last, lok, 0), num(del, dok, 1), num(kb, kok, 1))
			}
		}
		w("\n")
	}

	r.writeLive(w)

	// --- raw
	w("## Raw figures (medians over rounds)\n\n")
	w("| scenario | contender | req/s | p50 ms | p99 ms | CPU µs/req | RSS MB | requests/round | errors |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, k := range append(append(append(readKeys, r.keys("A")...), writeKeys...), r.keys("L")...) {
		for _, name := range cfg.Contenders {
			v, ok := r.value(name, k, rps)
			if !ok {
				continue
			}
			n, _ := r.value(name, k, func(c cellResult) float64 { return float64(c.N) })
			errs := 0
			for _, c := range r.cells {
				if c.Contender == name && c.key() == k {
					errs += c.Errors
				}
			}
			w("| %s | %s | %s | %s | %s | %s | %s | %.0f | %d |\n", k, r.label(name), num(v, ok, 0),
				num2(r.value(name, k, p50)), num2(r.value(name, k, p99)), num0(r.value(name, k, cpu)), num0(r.value(name, k, rss)), n, errs)
		}
	}
	w("\n")
	if bad := r.failures(); len(bad) > 0 {
		w("## Errors\n\n")
		for _, s := range bad {
			w("- %s\n", s)
		}
		w("\n")
	}
	w("Per-round figures of every cell: `%s/results.json` (not committed).\n", "bench/out")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func num2(v float64, ok bool) string { return num(v, ok, 2) }
func num0(v float64, ok bool) string { return num(v, ok, 0) }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func (r *report) rtValue(contender string, subs int, f func(rtResult) []float64) (float64, bool) {
	return r.rtScenarioValue("R1", contender, subs, 0, f)
}

// rtScenarioValue is the median of f over every result of scenario on
// contender with subs subscribers on the data set scale (0: the main one).
func (r *report) rtScenarioValue(scenario, contender string, subs, scale int, f func(rtResult) []float64) (float64, bool) {
	var v []float64
	for _, x := range r.rts {
		if x.scenario() == scenario && x.Contender == contender && x.Subs == subs && x.Scale == scale {
			v = append(v, f(x)...)
		}
	}
	return median(v)
}

// unexpected sums the events read by subscribers whose filter excluded them
// on the data set scale.
func (r *report) unexpected(sc, contender string, scale int) int {
	n := 0
	for _, x := range r.rts {
		if x.scenario() == sc && x.Contender == contender && x.Scale == scale {
			n += x.Unexpected
		}
	}
	return n
}

// rtRatio is the median over rounds of a/b's per-round medians of f.
func (r *report) rtRatio(sc, a, b string, subs, scale int, f func(rtResult) []float64) (float64, bool) {
	var ratios []float64
	for _, x := range r.rts {
		if x.scenario() != sc || x.Contender != a || x.Subs != subs || x.Scale != scale {
			continue
		}
		for _, y := range r.rts {
			if y.scenario() == sc && y.Contender == b && y.Subs == subs && y.Scale == scale && y.Round == x.Round {
				va, aok := median(f(x))
				vb, bok := median(f(y))
				if aok && bok && vb > 0 {
					ratios = append(ratios, va/vb)
				}
			}
		}
	}
	return median(ratios)
}

func (r *report) what(key string) string {
	name, _, _ := strings.Cut(key, " ")
	for _, rs := range r.reads {
		if rs.name == name {
			return "(" + rs.what + ")"
		}
	}
	return ""
}

// ran reports whether contender has figures for the cell key.
func (r *report) ran(contender, key string) bool {
	_, ok := r.value(contender, key, func(c cellResult) float64 { return c.CPUus })
	return ok
}

// ---

// authNames lists the signed-in read scenarios that ran (A1, A2…) on the
// data set scale (0: the main one), in order.
func (r *report) authNames(scale int) []string {
	var out []string
	for _, c := range r.cells {
		name, _, _ := strings.Cut(c.Scenario, " ")
		if c.Scale == scale && strings.HasPrefix(name, "A") && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// authKey is the cell key of one caller of a signed-in read scenario on the
// data set scale (0: the main one).
func (r *report) authKey(name, caller string, scale int) string {
	return fmt.Sprintf("%s %s c%d%s", name, caller, r.cfg.ReadConc, scaleSuffix(scale))
}

// callerRatio is the median over rounds of caller a's metric over caller
// b's on the same page: both ran on the same server, one after the other.
func (r *report) callerRatio(contender, name, a, b string, m metric, scale int) (float64, bool) {
	var v []float64
	for round := 1; round <= r.cfg.Rounds; round++ {
		x, ok1 := r.find(round, contender, r.authKey(name, a, scale))
		y, ok2 := r.find(round, contender, r.authKey(name, b, scale))
		if ok1 && ok2 && m(y) > 0 && x.N > 0 && y.N > 0 {
			v = append(v, m(x)/m(y))
		}
	}
	return median(v)
}

func (r *report) writeAuth(w func(string, ...any), scales []int) {
	w("## Signed-in reads (A1–A5)\n\n")
	w("The pages a signed-in student reads, each asked on the same server in the same round by three callers one after the other (order rotated by round): an **uncached guest** (a `Cookie` header keeps it out of the response cache, as any cookie of the site does in a browser), a **student** (one of the %d bench students' tokens; each is enrolled in %d published courses) and a **superuser** (who skips every rule). %d clients. Ratios are medians of per-round ratios. A guest's filtered list that comes back empty (A4: a guest has no enrollments) is slowed by PocketBase's randomized throttle against filter timing attacks (up to 500 ms of sleep), so A4's guest req/s and p50 are not a cost: compare CPU there.\n\n",
		len(r.fix.Users), r.fix.Sizes.BenchCourses, r.cfg.ReadConc)
	if len(scales) > 1 {
		w("On %s posts (the main data set has %s; the others come from `--scales`, see the data set rows above), in the same rounds: a table per data set and contender, then how the latencies grow from one data set to the next.\n\n",
			r.sizesOf(scales), fmtCount(r.fix.Sizes.Posts))
	}
	whats := map[string]string{}
	for _, as := range authScenarios(r.fix, r.cfg.Small) {
		whats[as.name] = as.what
	}
	for _, sc := range scales {
		names := r.authNames(sc)
		prefix := ""
		if len(scales) > 1 {
			prefix = fmtCount(r.postsOf(sc)) + " posts"
			if sc == 0 {
				prefix += " (main data set)"
			}
			prefix += ": "
		}
		for _, contender := range r.cfg.Contenders {
			if !r.ran(contender, r.authKey(names[0], "student", sc)) {
				continue
			}
			w("### %s%s\n\n", prefix, r.label(contender))
			w("| scenario | guest req/s | student req/s | superuser req/s | guest p50 ms | student p50 ms | superuser p50 ms | guest CPU µs | student CPU µs | student/guest req/s | student/guest p50 | student/guest CPU | superuser/guest req/s |\n")
			w("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
			for _, name := range names {
				val := func(caller string, m metric, prec int) string {
					v, ok := r.value(contender, r.authKey(name, caller, sc), m)
					return num(v, ok, prec)
				}
				ratio := func(a string, m metric) string { return fx(r.callerRatio(contender, name, a, "guest", m, sc)) }
				w("| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, whats[name],
					val("guest", rps, 0), val("student", rps, 0), val("superuser", rps, 0),
					val("guest", p50, 2), val("student", p50, 2), val("superuser", p50, 2),
					val("guest", cpu, 0), val("student", cpu, 0),
					ratio("student", rps), ratio("student", p50), ratio("student", cpu), ratio("superuser", rps))
			}
			w("\n")
		}
		if r.ran("lectern-noauthrules", r.authKey(names[0], "student", sc)) {
			what := "With and without"
			if prefix != "" {
				what = "with and without"
			}
			w("### %s%s the specialization (`%s=off`), same rounds\n\n", prefix, what, authrules.EnvDisable)
			w("| scenario | student req/s on/off | student p50 on/off | student CPU on/off | guest req/s on/off |\n|---|---|---|---|---|\n")
			for _, name := range names {
				st, gu := r.authKey(name, "student", sc), r.authKey(name, "guest", sc)
				w("| %s | %s | %s | %s | %s |\n", name,
					fx(r.ratio("lectern", "lectern-noauthrules", st, rps)), fx(r.ratio("lectern", "lectern-noauthrules", st, p50)),
					fx(r.ratio("lectern", "lectern-noauthrules", st, cpu)), fx(r.ratio("lectern", "lectern-noauthrules", gu, rps)))
			}
			w("\n")
		}
	}
	r.writeGrowth(w)
}
