package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"lectern/internal/seed"
)

// Extra data sets (--scales): the signed-in read scenarios also run on data
// sets of other sizes, in the same rounds as the main one, so how a signed-in
// page's latency grows with the table is measured against the uncached
// guest's in one interleaved run instead of runs pasted side by side.

// scale is one extra data set: its number of posts and the signed-in read
// scenarios that run on it (empty: those of the main data set).
type scale struct {
	Posts int
	Auth  []string
}

// dataSet is one seeded data set of a run: the main one, on which every
// scenario runs, or an extra one of --scales, on which only the signed-in
// reads run.
type dataSet struct {
	scale    int // posts of an extra data set; 0 for the main one
	pristine string
	fix      *fixture
	auth     []string // the A scenarios to run on it; empty: all
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

// parseScales reads --scales: "1000,100000:A1+A5".
func parseScales(s string) ([]scale, error) {
	var out []scale
	for _, p := range splitList(s) {
		n, names, _ := strings.Cut(p, ":")
		posts, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || posts < 1 {
			return nil, fmt.Errorf("bad size %q (posts, then optionally :A1+A3)", p)
		}
		sc := scale{Posts: posts}
		for a := range strings.SplitSeq(names, "+") {
			if a = strings.TrimSpace(a); a != "" {
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
		if len(sc.Auth) > 0 {
			parts[i] += ":" + strings.Join(sc.Auth, "+")
		}
	}
	return strings.Join(parts, ",")
}

// checkScales refuses what would fail only after minutes of building and
// seeding: a size seed refuses, a size given twice (or the main one's), an
// unknown scenario.
func (cfg *config) checkScales() error {
	var known []string
	for _, as := range authScenarios(&fixture{}, false) {
		known = append(known, as.name)
	}
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
				return fmt.Errorf("%d posts: unknown signed-in read scenario %q (known: %s)", sc.Posts, a, strings.Join(known, ","))
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
