package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestParseScales reads --scales as the README writes it and refuses what
// would fail only after building and seeding.
func TestParseScales(t *testing.T) {
	got, err := parseScales("1000, 100000:A1+A5")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Posts != 1000 || len(got[0].Auth) != 0 || got[1].Posts != 100000 ||
		strings.Join(got[1].Auth, ",") != "A1,A5" {
		t.Fatalf("parseScales = %+v", got)
	}
	if s := formatScales(got); s != "1000,100000:A1+A5" {
		t.Errorf("formatScales = %q", s)
	}
	for _, bad := range []string{"1k", "0", "-5", ":A1"} {
		if _, err := parseScales(bad); err == nil {
			t.Errorf("parseScales(%q) took it", bad)
		}
	}
	for _, tc := range []struct {
		scales []scale
		auth   []string
		want   string
	}{
		{[]scale{{Posts: 10000}}, nil, "given twice"},
		{[]scale{{Posts: 1000}, {Posts: 1000}}, nil, "given twice"},
		{[]scale{{Posts: 200000}}, nil, "above seed's limit"},
		{[]scale{{Posts: 1000, Auth: []string{"A9"}}}, nil, `"A9"`},
		{nil, []string{"a1"}, `"a1"`},
	} {
		cfg := defaultConfig(false)
		cfg.Scales, cfg.AuthOnly = tc.scales, tc.auth
		if err := cfg.checkScales(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkScales(%+v, %v) = %v, want an error with %s", tc.scales, tc.auth, err, tc.want)
		}
	}
	cfg := defaultConfig(false)
	cfg.Scales, _ = parseScales("1000,100000:A1")
	if err := cfg.checkScales(); err != nil {
		t.Errorf("the README's --scales: %v", err)
	}
}

// TestWithPosts derives the sizes the README's separate runs used: 1k posts
// with 5k comments, 100k posts with the main set's 50k comments.
func TestWithPosts(t *testing.T) {
	main := defaultConfig(false).Sizes
	for _, tc := range []struct{ posts, comments int }{{1000, 5000}, {100000, 50000}, {10000, 50000}} {
		sz := main.withPosts(tc.posts)
		want := main
		want.Posts, want.Comments = tc.posts, tc.comments
		if sz != want {
			t.Errorf("withPosts(%d) = %+v, want %+v", tc.posts, sz, want)
		}
	}
	if sz := defaultConfig(true).Sizes.withPosts(100); sz.Comments != 500 {
		t.Errorf("small withPosts(100): %d comments, want 500", sz.Comments)
	}
}

// TestGrowth checks the growth figures on cells made up for two rounds:
// per-round ratios, then medians, and the verdict against the target.
func TestGrowth(t *testing.T) {
	cfg := defaultConfig(false)
	cfg.Rounds = 2
	cfg.Contenders = []string{"lectern"}
	r := &report{cfg: &cfg, fix: &fixture{Sizes: cfg.Sizes}}
	cell := func(round int, scenario string, scale int, p50ms, cpuUs float64) {
		r.add(cellResult{Round: round, Contender: "lectern", Scenario: scenario, Conc: cfg.ReadConc, N: 100,
			RPS: 1000 / p50ms, P50ms: p50ms, CPUus: cpuUs, Scale: scale})
	}
	// A1: round 1 guest 10 → 40 ms (4×), student 10 → 60 (6×): 1.5×;
	// round 2 guest 20 → 40 (2×), student 10 → 20 (2×): 1×
	for _, c := range []struct {
		round          int
		caller         string
		scale          int
		p50, cpuMicros float64
	}{
		{1, "guest", 1000, 10, 100}, {1, "guest", 0, 40, 400}, {1, "student", 1000, 10, 100}, {1, "student", 0, 60, 600},
		{2, "guest", 1000, 20, 100}, {2, "guest", 0, 40, 200}, {2, "student", 1000, 10, 100}, {2, "student", 0, 20, 200},
	} {
		cell(c.round, "A1 "+c.caller, c.scale, c.p50, c.cpuMicros)
		// A4: the guest's p50 is the throttle (flat), the CPU as A1's
		p50 := c.p50
		if c.caller == "guest" {
			p50 = 250
		}
		cell(c.round, "A4 "+c.caller, c.scale, p50, c.cpuMicros)
	}
	// only on the main data set: no growth row
	cell(1, "A5 guest", 0, 5, 50)
	cell(1, "A5 student", 0, 5, 50)

	if sc := r.authScales(); len(sc) != 2 || sc[0] != 1000 || sc[1] != 0 {
		t.Fatalf("authScales = %v, want [1000 0] (1k posts, then the main 10k)", sc)
	}
	pairs := r.growthPairs("lectern")
	if len(pairs) != 2 || pairs[0] != (growthPair{"A1", 1000, 0}) || pairs[1] != (growthPair{"A4", 1000, 0}) {
		t.Fatalf("growthPairs = %+v", pairs)
	}
	near := func(what string, v float64, ok bool, want float64) {
		t.Helper()
		if !ok || math.Abs(v-want) > 1e-9 {
			t.Errorf("%s = %v (%v), want %v", what, v, ok, want)
		}
	}
	v, ok := r.growth("lectern", "A1", "guest", 1000, 0, p50)
	near("A1 guest growth", v, ok, 3)
	v, ok = r.growth("lectern", "A1", "student", 1000, 0, p50)
	near("A1 student growth", v, ok, 4)
	v, ok = r.relGrowth("lectern", "A1", 1000, 0, p50)
	near("A1 student ÷ guest growth", v, ok, 1.25)
	v, ok, how := r.growthMet("lectern", growthPair{"A4", 1000, 0})
	near("A4 student ÷ guest CPU growth", v, ok, 1.25) // rounds: 6/4, 2/2
	if how != " (CPU)" {
		t.Errorf("A4 judged by %q, want CPU", how)
	}

	row := r.growthTargetRow()
	if !strings.Contains(row, "A1 1k→10k 1.25×, A4 1k→10k 1.25× (CPU)") || !strings.HasSuffix(row, "| yes |\n") {
		t.Errorf("target row: %s", row)
	}
	// a third round where the student's p50 grows 3× faster than the guest's
	// moves the median over the target
	cfg.Rounds = 3
	cell(3, "A1 guest", 1000, 10, 100)
	cell(3, "A1 guest", 0, 20, 200)
	cell(3, "A1 student", 1000, 10, 100)
	cell(3, "A1 student", 0, 60, 600)
	if row := r.growthTargetRow(); !strings.Contains(row, "A1 1k→10k 1.50×") || !strings.HasSuffix(row, "| **no** |\n") {
		t.Errorf("target row with a third round: %s", row)
	}
	var b strings.Builder
	r.writeGrowth(func(f string, a ...any) { b.WriteString(fmt.Sprintf(f, a...)) })
	if !strings.Contains(b.String(), "| A1 | Lectern | 1k→10k | 10.00 → 40.00 | 10.00 → 60.00 | 2.00× | 6.00× | 1.50× |") {
		t.Errorf("growth table:\n%s", b.String())
	}
}

// TestLiveScales reads the live post pages in --scales, what each extra data
// set then runs and on which contenders.
func TestLiveScales(t *testing.T) {
	got, err := parseScales("1000,100000:A1+R2+R3")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].named() || strings.Join(got[1].Auth, ",") != "A1" || strings.Join(got[1].Live, ",") != "R2,R3" {
		t.Fatalf("parseScales = %+v", got)
	}
	if s := formatScales(got); s != "1000,100000:A1+R2+R3" {
		t.Errorf("formatScales = %q", s)
	}
	cfg := defaultConfig(false)
	cfg.Scales = got
	if err := cfg.checkScales(); err != nil {
		t.Errorf("the README's --scales: %v", err)
	}
	for _, tc := range []struct{ scales, want string }{
		{"1000:R1", `"R1"`}, {"1000:R4", `"R4"`}, {"1000:A1+R2+R2", "R2 named twice"}, {"1000:A1+A1", "A1 named twice"},
	} {
		cfg.Scales, _ = parseScales(tc.scales)
		if err := cfg.checkScales(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkScales(%s) = %v, want an error with %s", tc.scales, err, tc.want)
		}
	}

	// a bare size runs the A scenarios of --auth-scenarios (all by default)
	// and no live page; a named one exactly what it names
	if a := cfg.authOf(got[0]); strings.Join(a, ",") != "A1,A2,A3,A4,A5" {
		t.Errorf("authOf(1000) = %v", a)
	}
	cfg.AuthOnly = []string{"A3"}
	if a := cfg.authOf(got[0]); strings.Join(a, ",") != "A3" {
		t.Errorf("authOf(1000) with --auth-scenarios A3 = %v", a)
	}
	onlyLive, _ := parseScales("1000:R2")
	if a := cfg.authOf(onlyLive[0]); len(a) != 0 {
		t.Errorf("authOf(1000:R2) = %v, want none", a)
	}

	all := contenders(map[string]string{}, "", "")
	for _, tc := range []struct {
		auth, live []string
		want       string
	}{
		{[]string{"A1"}, []string{"R2"}, "bare,lectern,lectern-noauthrules"},
		{nil, []string{"R2", "R3"}, "bare,lectern"},
		{[]string{"A1"}, nil, "lectern,lectern-noauthrules"},
	} {
		ds := &dataSet{scale: 1000, auth: tc.auth, live: tc.live}
		var on []string
		for _, name := range []string{"bare", "ceiling", "jshooks", "lectern", "lectern-noauthrules", "lectern-nocache", "lectern-nometrics"} {
			if ds.runsOn(all[name]) {
				on = append(on, name)
			}
		}
		if strings.Join(on, ",") != tc.want {
			t.Errorf("auth %v live %v runs on %v, want %s", tc.auth, tc.live, on, tc.want)
		}
	}
}

// TestLiveReport checks the R2/R3 figures per data set on results made up
// for two rounds: the target rows name each data set and fail when one does,
// the tables are per data set with their own ratios, and a run on the main
// data set alone keeps the rows it had.
func TestLiveReport(t *testing.T) {
	cfg := defaultConfig(false)
	cfg.Rounds = 2
	cfg.Contenders = []string{"lectern", "bare"}
	r := &report{cfg: &cfg, fix: &fixture{Sizes: cfg.Sizes}}
	add := func(scale int, contender string, writer, last float64) {
		for round := 1; round <= 2; round++ {
			for _, sc := range liveScenarios {
				r.addRT(rtResult{Scenario: sc, Round: round, Contender: contender, Subs: r.liveSubs(sc), Connected: r.liveSubs(sc),
					WriterMs: []float64{writer * float64(round)}, LastMs: []float64{last}, MedianMs: []float64{last / 2}, Delivered: 1, Scale: scale})
			}
		}
	}
	add(0, "lectern", 10, 100)
	add(0, "bare", 300, 400)

	rows := r.liveTargetRows()
	if !strings.Contains(rows, "every event delivered | create 15.0 ms, last delivery 100 ms, 100.0% delivered, 0 unexpected | yes |") ||
		!strings.Contains(rows, "create p50 < 30 ms | create 15.0 ms, 100.0% delivered, 0 unexpected | yes |") || strings.Contains(rows, "posts:") {
		t.Errorf("target rows on the main data set alone:\n%s", rows)
	}

	// 100k posts: Lectern's creates take 20 and 40 ms (median 30: not < 30)
	add(100000, "lectern", 20, 200)
	add(100000, "bare", 900, 1000)
	add(1000, "lectern", 5, 50)
	rows = r.liveTargetRows()
	want2 := "| live post page (R2: 5000 guests + 100 signed in, filter on one post): create p50 < 30 ms, last delivery p50 < 250 ms, every event delivered, on every data set | " +
		"1,000 posts: create 7.5 ms, last delivery 50 ms, 100.0% delivered, 0 unexpected; 10,000 posts: create 15.0 ms, last delivery 100 ms, 100.0% delivered, 0 unexpected; " +
		"100,000 posts: create 30.0 ms, last delivery 200 ms, 100.0% delivered, 0 unexpected | **no** |\n"
	if !strings.Contains(rows, want2) || strings.Count(rows, "\n") != 2 {
		t.Errorf("target rows:\n%s\nwant the R2 row\n%s", rows, want2)
	}
	if !strings.Contains(rows, "(R3: 5000 guests over 100 posts' filters): create p50 < 30 ms, on every data set | 1,000 posts: create 7.5 ms") {
		t.Errorf("R3 target row:\n%s", rows)
	}

	var b strings.Builder
	r.writeLive(func(f string, a ...any) { b.WriteString(fmt.Sprintf(f, a...)) })
	out := b.String()
	i1, i10, i100 := strings.Index(out, "### R2, R3 on 1,000 posts\n"), strings.Index(out, "### R2, R3 on 10,000 posts (main data set)\n"), strings.Index(out, "### R2, R3 on 100,000 posts\n")
	if i1 < 0 || i10 < i1 || i100 < i10 {
		t.Fatalf("the tables are not one per data set, the fewest posts first:\n%s", out)
	}
	// bare/Lectern per round, each data set on its own: on 100k 900/20 and
	// 1800/40 (45×), on the main one 300/10 and 600/20 (30×)
	if want := "| R2 | bare PocketBase | 5100 | 1350.0 | 500 | 1000 | 100.0% | 0 | 45.0× | 5.00× |"; !strings.Contains(out[i100:], want) {
		t.Errorf("the 100,000-post table lacks %q:\n%s", want, out[i100:])
	}
	if want := "| R3 | bare PocketBase | 5000 | 450.0 | 200 | 400 | 100.0% | 0 | 30.0× | 4.00× |"; !strings.Contains(out[i10:i100], want) {
		t.Errorf("the main table lacks %q:\n%s", want, out[i10:i100])
	}
	if strings.Contains(out[i1:i10], "bare PocketBase") {
		t.Errorf("the 1,000-post table has bare figures it never ran:\n%s", out[i1:i10])
	}
}
