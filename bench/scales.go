package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"lectern/internal/seed"
)

// Extra data sets (--scales): the signed-in read scenarios, and the live post
// pages (R2, R3) when named, also run on data sets of other sizes, in the
// same rounds as the main one, so how a signed-in page's latency (or a
// comment create under thousands of filtered subscribers) grows with the
// table is measured in one interleaved run instead of runs pasted side by
// side.

// scale is one extra data set: its number of posts and what runs on it.
// Bare ("1000"): the signed-in reads of --auth-scenarios. Named
// ("1000:A1+R2"): exactly the scenarios named, signed-in reads (Auth) and
// live post pages (Live) alike.
type scale struct {
	Posts int
	Auth  []string
	Live  []string
}

// named reports whether the scenarios to run were given after a colon.
func (sc scale) named() bool { return len(sc.Auth)+len(sc.Live) > 0 }

// liveScenarios are the realtime scenarios an extra data set can run: the
// live post pages, whose filters and rule queries read the posts and
// comments tables. R1 (no filter) reads nothing the size changes.
var liveScenarios = []string{"R2", "R3"}

// dataSet is one seeded data set of a run: the main one, on which every
// scenario runs, or an extra one of --scales, on which only the signed-in
// reads and live post pages named for it run.
type dataSet struct {
	scale    int // posts of an extra data set; 0 for the main one
	pristine string
	fix      *fixture
	auth     []string // the A scenarios to run on it; empty: none
	live     []string // on an extra one, the R scenarios to run on it (R2, R3)
}

// liveAtScale reports whether c runs the live post pages on an extra data
// set: Lectern, and bare PocketBase for the ratio. The JS-hooks build's
// realtime is bare PocketBase's, so it would add minutes and no answer.
func liveAtScale(c *contender) bool {
	return c.Realtime && (c.Name == "lectern" || c.Name == "bare")
}

// runsOn reports whether c has anything to run on the extra data set ds.
func (ds *dataSet) runsOn(c *contender) bool {
	return (c.AuthReads && len(ds.auth) > 0) || (liveAtScale(c) && len(ds.live) > 0)
}

// withPosts is s with n posts. Comments keep s's number per post up to s's
// own count: a smaller data set has fewer comments, a larger one the same
// (what `--posts 100000` alone seeds; 500,000 comments would add minutes of
// seeding and A2 reads one post's comments). The other sizes stay, so the
// same bench students, courses and enrollments are read on every data set.
func (s sizes) withPosts(n int) sizes {
	out := s
	out.Posts = n
	if n < s.Posts {
		out.Comments = int(int64(s.Comments) * int64(n) / int64(s.Posts))
	}
	return out
}

// parseScales reads --scales: "1000,100000:A1+R2+R3". Names starting with R
// are live post pages, the others signed-in reads (checkScales checks them).
func parseScales(s string) ([]scale, error) {
	var out []scale
	for _, p := range splitList(s) {
		n, names, _ := strings.Cut(p, ":")
		posts, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || posts < 1 {
			return nil, fmt.Errorf("bad size %q (posts, then optionally :A1+A3+R2)", p)
		}
		sc := scale{Posts: posts}
		for a := range strings.SplitSeq(names, "+") {
			switch a = strings.TrimSpace(a); {
			case a == "":
			case strings.HasPrefix(a, "R"):
				sc.Live = append(sc.Live, a)
			default:
				sc.Auth = append(sc.Auth, a)
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

func formatScales(v []scale) string {
	parts := make([]string, len(v))
	for i, sc := range v {
		parts[i] = strconv.Itoa(sc.Posts)
		if sc.named() {
			parts[i] += ":" + strings.Join(append(slices.Clone(sc.Auth), sc.Live...), "+")
		}
	}
	return strings.Join(parts, ",")
}

// knownAuth lists the signed-in read scenarios' names (A1…A5).
func knownAuth() []string {
	var known []string
	for _, as := range authScenarios(&fixture{}, false) {
		known = append(known, as.name)
	}
	return known
}

// authOf is the signed-in read scenarios to run on sc: the named ones (none
// when sc names only live post pages), or for a bare size those of
// --auth-scenarios (all when it is empty).
func (cfg *config) authOf(sc scale) []string {
	if sc.named() {
		return sc.Auth
	}
	if len(cfg.AuthOnly) > 0 {
		return cfg.AuthOnly
	}
	return knownAuth()
}

// checkScales refuses what would fail only after minutes of building and
// seeding: a size seed refuses, a size given twice (or the main one's), an
// unknown scenario.
func (cfg *config) checkScales() error {
	known := knownAuth()
	for _, a := range cfg.AuthOnly {
		if !slices.Contains(known, a) {
			return fmt.Errorf("unknown signed-in read scenario %q (--auth-scenarios takes %s)", a, strings.Join(known, ","))
		}
	}
	seen := map[int]bool{cfg.Sizes.Posts: true}
	for _, sc := range cfg.Scales {
		if sc.Posts > seed.Limits["posts"] {
			return fmt.Errorf("%d posts is above seed's limit of %d", sc.Posts, seed.Limits["posts"])
		}
		if seen[sc.Posts] {
			return fmt.Errorf("%d posts given twice (or is the main data set's --posts)", sc.Posts)
		}
		seen[sc.Posts] = true
		for _, a := range sc.Auth {
			if !slices.Contains(known, a) {
				return fmt.Errorf("%d posts: unknown scenario %q (known: %s)", sc.Posts, a, strings.Join(append(known, liveScenarios...), ","))
			}
		}
		for _, a := range sc.Live {
			if !slices.Contains(liveScenarios, a) {
				return fmt.Errorf("%d posts: unknown scenario %q (known: %s; R1 has no filter, so the table size plays no part in it)",
					sc.Posts, a, strings.Join(append(known, liveScenarios...), ","))
			}
		}
		for _, names := range [][]string{sc.Auth, sc.Live} {
			for i, a := range names {
				if slices.Contains(names[:i], a) {
					return fmt.Errorf("%d posts: %s named twice", sc.Posts, a)
				}
			}
		}
	}
	return nil
}

// fmtCount writes n with thousands separators: 100,000.
func fmtCount(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtShort writes a size for the growth table: 1k, 100k, 300.
func fmtShort(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// scaleSuffix tells an extra data set's cells from the main one's in their
// keys (and the raw table).
func scaleSuffix(scale int) string {
	if scale == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s posts)", fmtCount(scale))
}

// ---

// postsOf is the number of posts of the data set a cell's Scale names.
func (r *report) postsOf(scale int) int {
	if scale == 0 {
		return r.fix.Sizes.Posts
	}
	return scale
}

// authScales lists the data sets (as cells' Scale) whose signed-in reads
// ran, the fewest posts first.
func (r *report) authScales() []int {
	var out []int
	for _, c := range r.cells {
		if strings.HasPrefix(c.Scenario, "A") && !slices.Contains(out, c.Scale) {
			out = append(out, c.Scale)
		}
	}
	slices.SortFunc(out, func(a, b int) int { return r.postsOf(a) - r.postsOf(b) })
	return out
}

// growth is the median over rounds of caller's metric on data set to over
// the same round's on data set from, on one contender.
func (r *report) growth(contender, name, caller string, from, to int, m metric) (float64, bool) {
	var v []float64
	for round := 1; round <= r.cfg.Rounds; round++ {
		a, ok1 := r.find(round, contender, r.authKey(name, caller, from))
		b, ok2 := r.find(round, contender, r.authKey(name, caller, to))
		if ok1 && ok2 && a.N > 0 && b.N > 0 && m(a) > 0 {
			v = append(v, m(b)/m(a))
		}
	}
	return median(v)
}

// relGrowth is the median over rounds of the student's growth over the
// guest's from data set from to data set to: (student_to / student_from) ÷
// (guest_to / guest_from), which is also how much the student/guest ratio
// (two cells back to back on one server) changed, so the load of the moment
// mostly cancels out.
func (r *report) relGrowth(contender, name string, from, to int, m metric) (float64, bool) {
	var v []float64
	for round := 1; round <= r.cfg.Rounds; round++ {
		var x [4]float64
		ok := true
		for i, k := range []struct {
			caller string
			scale  int
		}{{"student", from}, {"student", to}, {"guest", from}, {"guest", to}} {
			c, found := r.find(round, contender, r.authKey(name, k.caller, k.scale))
			ok = ok && found && c.N > 0 && m(c) > 0
			x[i] = m(c)
		}
		if ok {
			v = append(v, (x[1]/x[0])/(x[3]/x[2]))
		}
	}
	return median(v)
}

// growthTarget is how much faster than the uncached guest's a signed-in
// student's p50 may grow with the table.
const growthTarget = 1.3

// growthPair is one scenario's step between consecutive data sets it ran on.
type growthPair struct {
	name     string
	from, to int // cells' Scale
}

// growthPairs lists, for each signed-in scenario that ran on contender on
// two or more data sets, the steps between consecutive ones.
func (r *report) growthPairs(contender string) []growthPair {
	scales := r.authScales()
	var names []string
	for _, sc := range scales {
		for _, n := range r.authNames(sc) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	var out []growthPair
	for _, name := range names {
		prev, have := 0, false
		for _, sc := range scales {
			if !r.ran(contender, r.authKey(name, "student", sc)) || !r.ran(contender, r.authKey(name, "guest", sc)) {
				continue
			}
			if have {
				out = append(out, growthPair{name, prev, sc})
			}
			prev, have = sc, true
		}
	}
	return out
}

// growthMet judges one step against the target: by p50, except on A4, whose
// guest p50 is PocketBase's randomized throttle after an empty filtered list
// (a guest has no enrollments), a sleep that does not grow with anything:
// there the CPU per request is compared.
func (r *report) growthMet(contender string, g growthPair) (float64, bool, string) {
	if g.name == "A4" {
		v, ok := r.relGrowth(contender, g.name, g.from, g.to, cpu)
		return v, ok, " (CPU)"
	}
	v, ok := r.relGrowth(contender, g.name, g.from, g.to, p50)
	return v, ok, ""
}

func (r *report) stepLabel(g growthPair) string {
	return fmtShort(r.postsOf(g.from)) + "→" + fmtShort(r.postsOf(g.to))
}

// growthTargetRow is the Targets table's row for the growth target, on
// Lectern; empty when no scenario ran on two data sets.
func (r *report) growthTargetRow() string {
	pairs := r.growthPairs("lectern")
	if len(pairs) == 0 {
		return ""
	}
	var parts []string
	okAll := true
	for _, g := range pairs {
		v, ok, how := r.growthMet("lectern", g)
		parts = append(parts, fmt.Sprintf("%s %s %s%s", g.name, r.stepLabel(g), fx(v, ok), how))
		okAll = okAll && ok && v <= growthTarget
	}
	return fmt.Sprintf("| a signed-in student's p50 grows with the table ≤ %.1f× as fast as an uncached guest's (student p50 growth ÷ guest p50 growth between consecutive data sets, same rounds; A4 by CPU, its guest p50 being PocketBase's throttle) | %s | %s |\n",
		growthTarget, strings.Join(parts, ", "), yes(okAll))
}

// writeGrowth writes the growth table of every contender with signed-in
// reads on two or more data sets.
func (r *report) writeGrowth(w func(string, ...any)) {
	var rows []string
	for _, contender := range r.cfg.Contenders {
		for _, g := range r.growthPairs(contender) {
			val := func(caller string, sc int) string {
				v, ok := r.value(contender, r.authKey(g.name, caller, sc), p50)
				return num(v, ok, 2)
			}
			v, ok, how := r.growthMet(contender, g)
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s → %s | %s → %s | %s | %s | %s | %s | %s%s |\n",
				g.name, r.label(contender), r.stepLabel(g),
				val("guest", g.from), val("guest", g.to), val("student", g.from), val("student", g.to),
				fx(r.growth(contender, g.name, "guest", g.from, g.to, p50)), fx(r.growth(contender, g.name, "student", g.from, g.to, p50)),
				fx(r.relGrowth(contender, g.name, g.from, g.to, p50)), fx(r.relGrowth(contender, g.name, g.from, g.to, cpu)),
				yes(ok && v <= growthTarget), how))
		}
	}
	if len(rows) == 0 {
		return
	}
	w("### Growth with the table\n\n")
	w("How each caller's p50 grows from one data set to the next larger one on which the scenario ran, same contender, same rounds: growth is the median over rounds of a round's p50 on the larger data set over that round's on the smaller; student ÷ guest is the median of the per-round ratios of the two growths, which is also how much the student/guest p50 ratio (two cells back to back on one server) changed, so the machine's load of the moment mostly cancels out. Target: ≤ %.1f× (a signed-in page gets slower with the table no faster than a guest's). Only posts and comments differ between the data sets, so A3–A5, which read courses, lessons and enrollments, measure the same tables on each (their growth should stay near 1×). A4's guest p50 is PocketBase's throttle, not a cost: its verdict is by CPU.\n\n", growthTarget)
	w("| scenario | contender | posts | guest p50 ms | student p50 ms | guest p50 growth | student p50 growth | student ÷ guest p50 growth | student ÷ guest CPU growth | ≤ %.1f× |\n", growthTarget)
	w("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range rows {
		w("%s", row)
	}
	w("\n")
}

// --- the live post pages (R2, R3) per data set

// liveSubs is the subscribers of a live post page scenario: R2's guests and
// signed-in readers, R3's guests.
func (r *report) liveSubs(sc string) int {
	if sc == "R2" {
		return r.cfg.FilterGuests + r.cfg.FilterSigned
	}
	return r.cfg.FilterGuests
}

// liveScales lists the data sets (as results' Scale) on which R2 or R3 ran,
// the fewest posts first.
func (r *report) liveScales() []int {
	var out []int
	for _, x := range r.rts {
		if sc := x.scenario(); (sc == "R2" || sc == "R3") && !slices.Contains(out, x.Scale) {
			out = append(out, x.Scale)
		}
	}
	slices.SortFunc(out, func(a, b int) int { return r.postsOf(a) - r.postsOf(b) })
	return out
}

// liveFigures are one live post page scenario's medians on one contender and
// data set.
type liveFigures struct {
	writer, half, last, delivered float64
	ok, hok, lok, dok             bool
	unexpected                    int
}

func (r *report) liveFigures(sc, contender string, scale int) liveFigures {
	subs := r.liveSubs(sc)
	var f liveFigures
	f.writer, f.ok = r.rtScenarioValue(sc, contender, subs, scale, func(x rtResult) []float64 { return x.WriterMs })
	f.half, f.hok = r.rtScenarioValue(sc, contender, subs, scale, func(x rtResult) []float64 { return x.MedianMs })
	f.last, f.lok = r.rtScenarioValue(sc, contender, subs, scale, func(x rtResult) []float64 { return x.LastMs })
	f.delivered, f.dok = r.rtScenarioValue(sc, contender, subs, scale, func(x rtResult) []float64 { return []float64{100 * x.Delivered} })
	f.unexpected = r.unexpected(sc, contender, scale)
	return f
}

// met judges Lectern's figures against the scenario's targets: create p50 <
// 30 ms, every event delivered, none unexpected, and for R2 the last
// delivery p50 < 250 ms.
func (f liveFigures) met(sc string) bool {
	ok := f.ok && f.writer < 30 && f.dok && f.delivered >= 100 && f.unexpected == 0
	if sc == "R2" {
		ok = ok && f.lok && f.last < 250
	}
	return ok
}

// liveTargetRows are the Targets table's R2 and R3 rows, on Lectern: one row
// each, naming every data set the scenario ran on (the main one alone: as
// before --scales took R2 and R3).
func (r *report) liveTargetRows() string {
	var b strings.Builder
	cfg := r.cfg
	for _, sc := range liveScenarios {
		var parts []string
		okAll, found := true, false
		scales := r.liveScales()
		for _, scale := range scales {
			f := r.liveFigures(sc, "lectern", scale)
			if !f.ok {
				continue
			}
			found = true
			okAll = okAll && f.met(sc)
			part := fmt.Sprintf("create %s ms, %s%% delivered, %d unexpected", num(f.writer, f.ok, 1), num(f.delivered, f.dok, 1), f.unexpected)
			if sc == "R2" {
				part = fmt.Sprintf("create %s ms, last delivery %s ms, %s%% delivered, %d unexpected",
					num(f.writer, f.ok, 1), num(f.last, f.lok, 0), num(f.delivered, f.dok, 1), f.unexpected)
			}
			if len(scales) > 1 {
				part = fmt.Sprintf("%s posts: %s", fmtCount(r.postsOf(scale)), part)
			}
			parts = append(parts, part)
		}
		if !found {
			continue
		}
		every := ""
		if len(scales) > 1 {
			every = ", on every data set"
		}
		if sc == "R2" {
			fmt.Fprintf(&b, "| live post page (R2: %d guests + %d signed in, filter on one post): create p50 < 30 ms, last delivery p50 < 250 ms, every event delivered%s | %s | %s |\n",
				cfg.FilterGuests, cfg.FilterSigned, every, strings.Join(parts, "; "), yes(okAll))
		} else {
			fmt.Fprintf(&b, "| live post pages (R3: %d guests over %d posts' filters): create p50 < 30 ms%s | %s | %s |\n",
				cfg.FilterGuests, cfg.FilterPosts, every, strings.Join(parts, "; "), yes(okAll))
		}
	}
	return b.String()
}

// writeLive writes the R2/R3 section: one table on the main data set alone,
// or one per data set, the fewest posts first, when --scales named them.
func (r *report) writeLive(w func(string, ...any)) {
	scales := r.liveScales()
	if len(scales) == 0 {
		return
	}
	cfg := r.cfg
	w("## Live post pages (R2, R3)\n\n")
	w("The README's live post page: each subscriber sends what `pb.collection(\"comments\").subscribe(\"*\", cb, { filter: 'post = \"…\"' })` sends (topic `comments/*` with the filter in its options), then one unmeasured warm-up comment and %d measured ones are created one at a time. R2: %d guests and %d signed-in students on one post, every comment on it (each reaches every subscriber). R3: %d guests spread evenly over %d posts, each comment reaching its post's subscribers only. PocketBase runs the comments' list rule and then the subscription's filter as a query per subscriber before the create returns; Lectern runs them once per distinct (identity, subscription). Writer = the create's own response time; delivery = from sending the create to the subscriber reading the event (expected subscribers only); unexpected = events read by a subscriber whose filter excludes them. Medians over writes and rounds; ratios are medians of per-round ratios.\n\n",
		cfg.RTWrites, cfg.FilterGuests, cfg.FilterSigned, cfg.FilterGuests, cfg.FilterPosts)
	if len(scales) > 1 {
		w("On %s posts (the main data set has %s; the others come from `--scales`, see the data set rows above), in the same rounds: a table per data set. On an extra data set only Lectern and bare PocketBase run them, each on its own pristine copy; the ratios compare contenders on the same data set in the same round.\n\n",
			r.sizesOf(scales), fmtCount(r.fix.Sizes.Posts))
	}
	for _, scale := range scales {
		if len(scales) > 1 {
			main := ""
			if scale == 0 {
				main = " (main data set)"
			}
			w("### R2, R3 on %s posts%s\n\n", fmtCount(r.postsOf(scale)), main)
		}
		w("| scenario | contender | subscribers | writer ms | half delivered ms | last delivered ms | delivered | unexpected | writer vs Lectern | last delivery vs Lectern |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, sc := range liveScenarios {
			subs := r.liveSubs(sc)
			for _, name := range []string{"lectern", "bare", "jshooks"} {
				f := r.liveFigures(sc, name, scale)
				if !f.ok {
					continue
				}
				wRatio, wok := r.rtRatio(sc, name, "lectern", subs, scale, func(x rtResult) []float64 { return x.WriterMs })
				lRatio, lok := r.rtRatio(sc, name, "lectern", subs, scale, func(x rtResult) []float64 { return x.LastMs })
				w("| %s | %s | %d | %s | %s | %s | %s%% | %d | %s | %s |\n", sc, r.label(name), subs, num(f.writer, f.ok, 1), num(f.half, f.hok, 0), num(f.last, f.lok, 0),
					num(f.delivered, f.dok, 1), f.unexpected, fx(wRatio, wok), fx(lRatio, lok))
			}
		}
		w("\n")
	}
}

// sizesOf lists the data sets' sizes in posts, as the report names them.
func (r *report) sizesOf(scales []int) string {
	var sizes []string
	for _, sc := range scales {
		sizes = append(sizes, fmtCount(r.postsOf(sc)))
	}
	return strings.Join(sizes, ", ")
}
