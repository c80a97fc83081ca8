// Command bench is Lectern's whole-server benchmark. One command builds the
// contenders from this repo, seeds one data set with `lectern seed`, and runs
// every scenario against every contender, interleaved round by round, on
// 127.0.0.1:
//
//	go run ./bench            # full run (~10k posts, 5 rounds), writes bench/RESULTS.md
//	go run ./bench --small    # CI smoke: small data set, 2 short rounds
//
// See bench/README.md for the contenders, the scenarios and how to read the
// results.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"lectern/internal/authrules"
	"lectern/internal/cache"
	"lectern/internal/metrics"
)

// config is one run of the benchmark.
type config struct {
	Root     string // the repo
	Work     string // binaries, data sets, per-run data dirs, logs
	Out      string // the report (Markdown)
	Small    bool
	Rounds   int
	Cell     time.Duration // time cap of a cell
	ReadConc int
	Sizes    sizes
	Realtime []int // subscriber counts of R1
	RTWrites int
	// R2: FilterGuests guests and FilterSigned signed-in readers on one
	// post's live page; R3: FilterGuests guests over FilterPosts posts' pages
	FilterGuests, FilterSigned, FilterPosts int
	Contenders                              []string
	Skip                                    map[string]bool // scenario groups to skip: reads, authreads, writes, login, realtime (R1), filtered (R2, R3)
	Reseed                                  bool
	// AuthOnly limits the signed-in read scenarios to these names (A1…);
	// empty: all of them
	AuthOnly []string
	// Scales are extra data sets, by their number of posts, on which the
	// signed-in read scenarios, and the live post pages named, run too, in
	// the same rounds (--scales)
	Scales []scale
	// Args are the command line's flags, for the report's first line
	Args []string
	Log  io.Writer
}

func defaultConfig(small bool) config {
	c := config{
		Small:    small,
		Rounds:   5,
		Cell:     3 * time.Second,
		ReadConc: 16,
		Sizes: sizes{Users: 500, Posts: 10000, Comments: 50000, Courses: 300, Enrollments: 8000, Reviews: 5000,
			BenchUsers: 64, BenchCourses: 30},
		Realtime:     []int{1000, 5000},
		RTWrites:     5,
		FilterGuests: 5000, FilterSigned: 100, FilterPosts: 100,
		Contenders: []string{"lectern", "lectern-nocache", "bare", "jshooks", "ceiling"},
		Skip:       map[string]bool{},
		Log:        os.Stderr,
	}
	if small {
		c.Rounds = 2
		c.Cell = 600 * time.Millisecond
		c.Sizes = sizes{Users: 60, Posts: 300, Comments: 1500, Courses: 20, Enrollments: 300, Reviews: 150,
			BenchUsers: 16, BenchCourses: 10}
		c.Realtime = []int{100, 300}
		c.RTWrites = 2
		c.FilterGuests, c.FilterSigned, c.FilterPosts = 300, 10, 10
		// a tiny second data set, so the smoke goes through --scales (its
		// seeding, its cells, the growth table, a live post page on Lectern
		// and bare and its per-data-set rows) in seconds
		c.Scales = []scale{{Posts: 100, Auth: []string{"A1", "A3"}, Live: []string{"R2"}}}
	}
	return c
}

func main() {
	// --small chooses the defaults that the other flags then override
	small := false
	for _, a := range os.Args[1:] {
		switch a {
		case "-small", "--small", "-small=true", "--small=true":
			small = true
		}
	}
	cfg := defaultConfig(small)

	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./bench [flags]   (from the repo root)\n\n")
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.Small, "small", cfg.Small, "CI smoke: small data set, 2 short rounds (~1-2 min once built)")
	fs.StringVar(&cfg.Root, "root", "", "the repo (default: found from the working directory)")
	fs.StringVar(&cfg.Work, "work", "", "work dir for binaries, data sets and logs (default <root>/bench/out)")
	fs.StringVar(&cfg.Out, "out", "", "report file (default <root>/bench/RESULTS.md; with --small <work>/RESULTS-small.md)")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds; each runs every contender once, in a rotated order")
	fs.DurationVar(&cfg.Cell, "cell", cfg.Cell, "time cap of each cell (after its warm-up)")
	fs.IntVar(&cfg.ReadConc, "read-conc", cfg.ReadConc, "concurrent clients of the read scenarios")
	fs.IntVar(&cfg.Sizes.Posts, "posts", cfg.Sizes.Posts, "seeded posts")
	fs.IntVar(&cfg.Sizes.Comments, "comments", cfg.Sizes.Comments, "seeded comments")
	fs.IntVar(&cfg.Sizes.Courses, "courses", cfg.Sizes.Courses, "seeded courses")
	fs.IntVar(&cfg.Sizes.Reviews, "reviews", cfg.Sizes.Reviews, "seeded reviews")
	fs.IntVar(&cfg.Sizes.Enrollments, "enrollments", cfg.Sizes.Enrollments, "seeded enrollments")
	fs.IntVar(&cfg.Sizes.Users, "users", cfg.Sizes.Users, "seeded users")
	rt := fs.String("realtime", joinInts(cfg.Realtime), "R1 subscriber counts, comma separated")
	cont := fs.String("contenders", strings.Join(cfg.Contenders, ","), "contenders to run")
	fs.IntVar(&cfg.FilterGuests, "filter-guests", cfg.FilterGuests, "R2/R3 guest subscribers with the README's live post filter")
	fs.IntVar(&cfg.FilterSigned, "filter-signed", cfg.FilterSigned, "R2 signed-in subscribers on the same post")
	fs.IntVar(&cfg.FilterPosts, "filter-posts", cfg.FilterPosts, "R3 posts the guests' filters spread over")
	skip := fs.String("skip", "", "scenario groups to skip: reads,authreads,writes,login,realtime (R1),filtered (R2, R3)")
	authOnly := fs.String("auth-scenarios", "", "signed-in read scenarios to run, comma separated (default all: A1,A2,A3,A4,A5)")
	scales := fs.String("scales", formatScales(cfg.Scales), "extra data set sizes in posts, comma separated, on which the signed-in reads run too, in the same rounds;\n"+
		"comments scale with the posts up to --comments, the other sizes stay; N:A1+A3+R2+R3 runs exactly those scenarios on size N\n"+
		"(R2, R3: the live post pages, on lectern and bare; default for N: the A scenarios of --auth-scenarios); e.g. 1000,100000:A1+R2+R3")
	fs.BoolVar(&cfg.Reseed, "reseed", false, "seed the data set again even if an identical one exists")
	_ = fs.Parse(os.Args[1:])
	cfg.Args = os.Args[1:]
	var err error
	if cfg.Realtime, err = parseInts(*rt); err != nil {
		fmt.Fprintln(os.Stderr, "--realtime:", err)
		os.Exit(2)
	}
	cfg.Contenders = splitList(*cont)
	cfg.AuthOnly = splitList(*authOnly)
	if cfg.Scales, err = parseScales(*scales); err != nil {
		fmt.Fprintln(os.Stderr, "--scales:", err)
		os.Exit(2)
	}
	for _, s := range splitList(*skip) {
		cfg.Skip[s] = true
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run is the whole benchmark: build, seed, capture, rounds, report.
func run(ctx context.Context, cfg *config) error {
	if err := cfg.resolve(); err != nil {
		return err
	}
	logw := cfg.Log
	started := time.Now()
	load0 := loadavg()
	fmt.Fprintf(logw, "bench: %s, work dir %s\n", map[bool]string{true: "smoke (--small)", false: "full run"}[cfg.Small], cfg.Work)

	fmt.Fprintln(logw, "building the contenders…")
	bins, err := build(ctx, cfg.Root, filepath.Join(cfg.Work, "bin"), logw)
	if err != nil {
		return err
	}
	fmt.Fprintln(logw, "preparing the data set…")
	pristine, fix, err := prepareData(ctx, cfg.Root, cfg.Work, bins["lectern"], cfg.Sizes, cfg.Reseed, logw)
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "  %s\n", fix.Relaxed)
	mainAuth := cfg.AuthOnly
	if len(mainAuth) == 0 {
		mainAuth = knownAuth()
	}
	sets := []*dataSet{{pristine: pristine, fix: fix, auth: mainAuth}}
	for _, sc := range cfg.Scales {
		ds := &dataSet{scale: sc.Posts, auth: cfg.authOf(sc), live: sc.Live}
		if cfg.Skip["authreads"] {
			ds.auth = nil
		}
		if cfg.Skip["filtered"] {
			ds.live = nil
		}
		if !slices.ContainsFunc(cfg.Contenders, func(name string) bool {
			c, ok := contenders(bins, "", "")[name]
			return ok && ds.runsOn(c)
		}) {
			// nothing left to run on it (skipped, or no contender of the
			// run takes part): not even seeded
			fmt.Fprintf(logw, "the data set of %s posts (--scales): nothing of this run takes part, skipped\n", fmtCount(sc.Posts))
			continue
		}
		fmt.Fprintf(logw, "preparing the data set of %s posts (--scales)…\n", fmtCount(sc.Posts))
		if ds.pristine, ds.fix, err = prepareData(ctx, cfg.Root, cfg.Work, bins["lectern"], cfg.Sizes.withPosts(sc.Posts), cfg.Reseed, logw); err != nil {
			return fmt.Errorf("data set of %d posts: %w", sc.Posts, err)
		}
		sets = append(sets, ds)
	}
	if !cfg.Skip["filtered"] && cfg.FilterSigned > 0 {
		// each data set has its own users (and token keys): R2's readers
		// sign in on the one they read
		for _, ds := range sets {
			if ds.scale > 0 && !slices.Contains(ds.live, "R2") {
				continue
			}
			if ds.fix.Readers, err = readerTokens(ds.pristine, cfg.FilterSigned); err != nil {
				return fmt.Errorf("signed-in realtime readers%s: %w", scaleSuffix(ds.scale), err)
			}
		}
	}

	runDir := filepath.Join(cfg.Work, "run")
	logDir := filepath.Join(cfg.Work, "logs")
	for _, d := range []string{runDir, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	reads := readScenarios(fix, cfg.Small)
	var urls []string
	for _, rs := range reads {
		urls = append(urls, rs.urls...)
	}

	all := contenders(bins, cfg.Root, filepath.Join(cfg.Work, "capture.json"))
	var chosen []*contender
	for _, name := range cfg.Contenders {
		c, ok := all[name]
		if !ok {
			return fmt.Errorf("unknown contender %q", name)
		}
		chosen = append(chosen, c)
	}

	// the ceiling serves Lectern's own bytes for every read URL, compressed
	// as Lectern's cache hits are
	fmt.Fprintln(logw, "capturing Lectern's read responses for the ceiling…")
	dir := filepath.Join(runDir, "capture")
	if err := copyDir(pristine, dir); err != nil {
		return err
	}
	s, err := start(ctx, all["lectern"], dir, filepath.Join(logDir, "capture.log"))
	if err != nil {
		return err
	}
	captured, err := capture(ctx, s, urls)
	s.stop()
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	b, _ := json.Marshal(captured)
	if err := os.WriteFile(filepath.Join(cfg.Work, "capture.json"), b, 0o644); err != nil {
		return err
	}

	// one unit per (data set, contender): every contender on the main data
	// set, then on each extra one the signed-in read contenders (if A
	// scenarios run there) and Lectern and bare (if R2 or R3 do); a round
	// runs every unit once
	type unit struct {
		c  *contender
		ds *dataSet
	}
	var units []unit
	for _, ds := range sets {
		for _, c := range chosen {
			if ds.scale == 0 || ds.runsOn(c) {
				units = append(units, unit{c, ds})
			}
		}
	}
	rep := &report{cfg: cfg, fix: fix, sets: sets, reads: reads, started: started, load0: load0}
	for round := 1; round <= cfg.Rounds; round++ {
		// rotate the order so no contender (or data set) always runs first
		// or last
		for k := range units {
			u := units[(k+round-1)%len(units)]
			if err := runContender(ctx, cfg, u.c, u.ds, round, runDir, logDir, reads, rep); err != nil {
				return err
			}
		}
		if err := rep.writeRaw(filepath.Join(cfg.Work, "results.json")); err != nil {
			return err
		}
	}
	rep.finished = time.Now()
	if err := rep.write(cfg.Out); err != nil {
		return err
	}
	fmt.Fprintf(logw, "bench: done in %s; report %s\n", time.Since(started).Round(time.Second), cfg.Out)
	if bad := rep.failures(); len(bad) > 0 {
		return fmt.Errorf("cells with errors:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

// contenders are the servers under test, by name.
func contenders(bins map[string]string, root, capturePath string) map[string]*contender {
	pb := func(dataDir, addr string) []string {
		return []string{"serve", "--http", addr, "--dir", dataDir, "--dev=false"}
	}
	hooksDir := filepath.Join(root, "bench", "contenders", "jshooks", "pb_hooks")
	return map[string]*contender{
		"lectern": {Name: "lectern", Label: "Lectern", Reads: true, Writes: true, Realtime: true, AuthReads: true,
			bin: bins["lectern"], args: pb},
		"lectern-nocache": {Name: "lectern-nocache", Label: "Lectern, cache off", Reads: true,
			bin: bins["lectern"], args: pb, env: []string{cache.EnvDisable + "=off"}},
		// not in the default list: `--contenders lectern,lectern-nometrics
		// --skip writes,login,realtime` measures what metrics cost a read
		"lectern-nometrics": {Name: "lectern-nometrics", Label: "Lectern, metrics off", Reads: true,
			bin: bins["lectern"], args: pb, env: []string{metrics.EnvDisable + "=off"}},
		// not in the default list: `--contenders lectern,lectern-noauthrules
		// --skip reads,writes,login,realtime` measures what the signed-in
		// read specialization (internal/authrules) changes
		"lectern-noauthrules": {Name: "lectern-noauthrules", Label: "Lectern, authrules off", AuthReads: true,
			bin: bins["lectern"], args: pb, env: []string{authrules.EnvDisable + "=off"}},
		"bare": {Name: "bare", Label: "bare PocketBase", Reads: true, Writes: true, Realtime: true,
			bin: bins["bare"], args: pb},
		"jshooks": {Name: "jshooks", Label: "PocketBase + JS hooks", Reads: true, Writes: true, Realtime: true,
			bin: bins["jshooks"], args: func(dataDir, addr string) []string {
				return append(pb(dataDir, addr), "--hooksDir", hooksDir)
			}},
		"ceiling": {Name: "ceiling", Label: "net/http ceiling", Reads: true,
			bin: bins["ceiling"], args: func(_, addr string) []string {
				return []string{"--http", addr, "--responses", capturePath}
			}},
	}
}

// runContender starts c on a pristine copy of the data set ds and runs every
// scenario it takes part in: on an extra data set (--scales), the signed-in
// reads and live post pages named for it only.
func runContender(ctx context.Context, cfg *config, c *contender, ds *dataSet, round int, runDir, logDir string,
	reads []readScenario, rep *report) error {
	logw := cfg.Log
	fix := ds.fix
	name, on := c.Name, ""
	if ds.scale > 0 {
		name = fmt.Sprintf("%s-%dposts", c.Name, ds.scale)
		on = fmt.Sprintf(", %s posts", fmtCount(ds.scale))
	}
	dir := filepath.Join(runDir, name)
	if c.Name != "ceiling" {
		if err := copyDir(ds.pristine, dir); err != nil {
			return err
		}
	}
	s, err := start(ctx, c, dir, filepath.Join(logDir, fmt.Sprintf("%s-r%d.log", name, round)))
	if err != nil {
		return err
	}
	defer s.stop()
	fmt.Fprintf(logw, "round %d/%d  %-16s (pid %d, RSS %.0f MB%s)\n", round, cfg.Rounds, c.Label, s.pid(), float64(rssBytes(s.pid()))/(1<<20), on)

	runCell := func(cl cell) error {
		r, err := cl.run(ctx, s, round)
		if err != nil {
			return fmt.Errorf("%s %s: %w", name, cl.scenario, err)
		}
		r.Scale = ds.scale
		rep.add(r)
		hits := ""
		if r.Hits > 0 {
			hits = fmt.Sprintf("  %3.0f%% hits", 100*float64(r.Hits)/float64(max(r.N, 1)))
		}
		errs := ""
		if r.Errors > 0 {
			errs = fmt.Sprintf("  %d ERRORS: %s", r.Errors, r.FirstErr)
		}
		fmt.Fprintf(logw, "  %-3s c%-3d %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  %7.0f µs CPU/req (client %3.0f)  %4.0f MB%s%s\n",
			r.Scenario, r.Conc, r.RPS, r.P50ms, r.P99ms, r.CPUus, r.ClientCPU, r.RSSMB, hits, errs)
		return nil
	}

	// the main data set's scenarios other than the signed-in reads
	main := ds.scale == 0
	if main && c.Reads && !cfg.Skip["reads"] {
		for _, rs := range reads {
			if err := runCell(rs.cell(cfg.ReadConc, 1_000_000, cfg.Cell)); err != nil {
				return err
			}
		}
	}
	if c.AuthReads && !cfg.Skip["authreads"] && len(ds.auth) > 0 {
		// every caller of a page back to back, in an order rotated by
		// round, before any write changes the data
		for _, as := range authScenarios(fix, cfg.Small) {
			if !slices.Contains(ds.auth, as.name) {
				continue
			}
			for _, caller := range authOrder(round) {
				if err := runCell(as.cell(fix, caller, cfg.ReadConc, cfg.Cell)); err != nil {
					return err
				}
			}
		}
	}
	if main && c.Writes && !cfg.Skip["writes"] {
		w := &writer{f: fix}
		n1, n16 := 600, 800
		if cfg.Small {
			n1, n16 = 40, 80
		}
		for _, cl := range []cell{
			w.commentCell(1, n1, cfg.Cell), w.commentCell(16, n16, cfg.Cell),
			w.reviewCell(1, n1, cfg.Cell), w.reviewCell(16, n16, cfg.Cell),
		} {
			if err := runCell(cl); err != nil {
				return err
			}
		}
	}
	if main && c.Writes && !cfg.Skip["login"] {
		n := 200
		if cfg.Small {
			n = 20
		}
		if err := runCell(loginCell(fix, 4, n, cfg.Cell)); err != nil {
			return err
		}
	}
	if main && c.Realtime && !cfg.Skip["realtime"] {
		for _, n := range cfg.Realtime {
			r := realtime(ctx, s, fix, round, n, cfg.RTWrites, 500*time.Millisecond)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rep.addRT(r)
			fmt.Fprintf(logw, "  R1  %5d subscribers (%d connected in %.1fs, %.1f KB each): writer %s ms, last delivery %s ms, %.0f%% delivered%s\n",
				n, r.Connected, r.ConnectSec, r.KBPerConn, fmtMs(r.WriterMs), fmtMs(r.LastMs), 100*r.Delivered, errSuffix(r.Err))
			time.Sleep(time.Second) // let the server drop the closed connections
		}
	}
	// the live post pages: every realtime contender on the main data set,
	// Lectern and bare on an extra one that names them
	if c.Realtime && !cfg.Skip["filtered"] && (main || liveAtScale(c)) {
		type livePage struct {
			name string
			run  func() rtResult
		}
		var todo []livePage
		for _, lp := range []livePage{
			{"R2", func() rtResult {
				return filteredOnePost(ctx, s, fix, round, cfg.FilterGuests, cfg.FilterSigned, cfg.RTWrites, 500*time.Millisecond)
			}},
			{"R3", func() rtResult {
				return filteredSpread(ctx, s, fix, round, cfg.FilterGuests, cfg.FilterPosts, cfg.RTWrites, 500*time.Millisecond)
			}},
		} {
			if main || slices.Contains(ds.live, lp.name) {
				todo = append(todo, lp)
			}
		}
		for i, lp := range todo {
			r := lp.run()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.Scale = ds.scale
			rep.addRT(r)
			fmt.Fprintf(logw, "  %s  %5d subscribers (%d signed in, %d posts; %d connected in %.1fs): writer %s ms, last delivery %s ms, %.0f%% delivered, %d unexpected%s\n",
				r.Scenario, r.Subs, r.Signed, r.Posts, r.Connected, r.ConnectSec, fmtMs(r.WriterMs), fmtMs(r.LastMs), 100*r.Delivered, r.Unexpected, errSuffix(r.Err))
			if i < len(todo)-1 {
				// let the server drop the closed connections before the
				// next page; after the last one it is stopped anyway
				time.Sleep(time.Second)
			}
		}
	}
	return nil
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return "  ERROR: " + e
}

func fmtMs(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// resolve fills in the paths.
func (cfg *config) resolve() error {
	if cfg.Root == "" {
		root, err := findRoot()
		if err != nil {
			return err
		}
		cfg.Root = root
	}
	if cfg.Work == "" {
		cfg.Work = filepath.Join(cfg.Root, "bench", "out")
	}
	// absolute: the JS-hooks contender is built from its own directory, where
	// a relative --work would put its binary inside the source tree
	var err error
	if cfg.Work, err = filepath.Abs(cfg.Work); err != nil {
		return err
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Join(cfg.Root, "bench", "RESULTS.md")
		if cfg.Small {
			cfg.Out = filepath.Join(cfg.Work, "RESULTS-small.md")
		}
	}
	if cfg.Rounds < 1 {
		return errors.New("--rounds must be at least 1")
	}
	if err := cfg.checkScales(); err != nil {
		return fmt.Errorf("--scales: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return os.MkdirAll(cfg.Work, 0o755)
}

// findRoot walks up from the working directory to Lectern's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module lectern\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it inside the Lectern repo (no go.mod of module lectern above the working directory)")
		}
		dir = parent
	}
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		var n int
		if _, err := fmt.Sscan(p, &n); err != nil || n < 1 {
			return nil, fmt.Errorf("bad count %q", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ",")
}
