// Command search benchmarks Lectern's full-text search against PocketBase's
// own list filter, and post creation with and without the search index, on a
// data dir of 100,000+ posts. See README.md; results go to RESULTS.md.
//
//	go run ./bench/search                 # seed (first run) and measure
//	go run ./bench/search -posts 200000 -fresh
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"lectern/hooks"
	"lectern/internal/dbconn"
	"lectern/internal/search"
	"lectern/internal/testkit"
	_ "lectern/migrations"
)

// Words planted in the generated posts at known rates. None is a substring of
// a generated word, so PocketBase's LIKE filter and the index count the same
// posts.
const (
	wordRare    = "zanzibarite" // 5 posts
	wordTenth   = "telemetry"   // ~10% of posts
	wordPairA   = "quasar"      // ~3% each, so ~0.1% have both
	wordPairB   = "lattice"
	wordCommon  = "platform" // ~99% of posts
	typoOfTenth = "telemetyr"
)

func main() {
	dir := flag.String("dir", filepath.Join(os.TempDir(), "lectern-search-bench"), "data dir (kept between runs)")
	posts := flag.Int("posts", 100_000, "posts to seed")
	fresh := flag.Bool("fresh", false, "delete the data dir and seed again")
	searchRuns := flag.Int("search-runs", 60, "timed requests per query for /api/search")
	listRuns := flag.Int("list-runs", 20, "timed requests per query for the PocketBase list")
	creates := flag.Int("creates", 600, "timed creates per variant (with / without index)")
	out := flag.String("out", filepath.Join("bench", "search", "RESULTS.md"), "results file")
	probe := flag.String("probe", "", "only time /api/search with this query string (q=platform) 10 times, e.g. with -cpuprofile")
	probeList := flag.String("probe-list", "", "with -probe: run this posts list filter before each search, e.g. \"body~'telemetry'\"")
	seedOnly := flag.Bool("seed-only", false, "seed the data dir and stop")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	createsOnly := flag.Bool("creates-only", false, "skip the search and list measurements, measure only creates (RESULTS.md is not written)")
	sync := flag.String("sync", "full", "data.db synchronous pragma for both apps: full (production, internal/dbconn) or normal (PocketBase's default)")
	flag.Parse()
	switch *sync {
	case "full", "normal":
		synchronous = strings.ToUpper(*sync)
	default:
		log.Fatalf("-sync %q: want full or normal", *sync)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	log.SetFlags(log.Ltime)

	if *fresh {
		if err := os.RemoveAll(*dir); err != nil {
			log.Fatal(err)
		}
	}
	app := newApp(*dir, true)
	if err := ensureSeeded(app, *posts); err != nil {
		log.Fatal(err)
	}
	if *seedOnly {
		return
	}
	authorToken, err := authorToken(app)
	if err != nil {
		log.Fatal(err)
	}
	var total int
	if err := app.DB().Select("COUNT(*)").From("posts").Row(&total); err != nil {
		log.Fatal(err)
	}
	log.Printf("data dir %s: %d posts", *dir, total)

	withIndex := newServer(app)
	if *probe != "" {
		u := "/api/search?" + *probe
		for range 10 {
			if *probeList != "" {
				t0 := time.Now()
				n := withIndex.get("/api/collections/posts/records?"+url.Values{"perPage": {"20"}, "filter": {*probeList}}.Encode(), "")
				log.Printf("list %s: %d in %s", *probeList, n, time.Since(t0))
			}
			t0 := time.Now()
			n := withIndex.get(u, "")
			log.Printf("%s: %d in %s", u, n, time.Since(t0))
		}
		return
	}
	rep := &report{posts: total, started: time.Now(), synchronous: synchronous}
	if *createsOnly {
		measureCreates(app, withIndex, rep, authorToken, *dir, *creates)
		return
	}

	// --- queries, interleaved so both sides see the same machine load
	cases := []queryCase{
		{"rare word (5 posts)", wordRare, like(wordRare)},
		{"two words (~0.1% have both)", wordPairA + " " + wordPairB, like(wordPairA) + " && " + like(wordPairB)},
		{"word in ~10% of posts", wordTenth, like(wordTenth)},
		{"word in ~99% of posts", wordCommon, like(wordCommon)},
	}
	for _, c := range cases {
		searchURL := "/api/search?" + url.Values{"q": {c.q}}.Encode()
		listURL := "/api/collections/posts/records?" + url.Values{"page": {"1"}, "perPage": {"20"}, "filter": {c.filter}}.Encode()
		s, l := &sample{}, &sample{}
		var searchTotal, listTotal int
		for i := range 3 { // warm up
			_ = i
			searchTotal = withIndex.get(searchURL, "")
			listTotal = withIndex.get(listURL, "")
		}
		// The list requests are spread evenly among the search requests, so
		// both samples span the same stretch of (shared, noisy) machine time.
		every := max(1, *searchRuns/max(1, *listRuns))
		for i := range *searchRuns {
			s.time(func() { withIndex.get(searchURL, "") })
			if i%every == 0 && l.n() < *listRuns {
				l.time(func() { withIndex.get(listURL, "") })
			}
		}
		// Then in blocks: each side alone, back to back. A list request (a
		// full scan of posts on two connections) slows the searches after it
		// for a while, so the blocks show each side without the other's wake.
		sb, lb := &sample{}, &sample{}
		for range *searchRuns / 2 {
			sb.time(func() { withIndex.get(searchURL, "") })
		}
		for range *listRuns / 2 {
			lb.time(func() { withIndex.get(listURL, "") })
		}
		rep.queries = append(rep.queries, queryResult{c, s, l, sb, lb, searchTotal, listTotal})
		log.Printf("%-30s search p50 %8s p99 %8s (%d) | list p50 %8s p99 %8s (%d) | blocks: %s vs %s", c.name,
			s.p(50), s.p(99), searchTotal, l.p(50), l.p(99), listTotal, sb.p(50), lb.p(50))
	}

	// Typo correction: the first search builds the vocabulary, later ones reuse it.
	typoURL := "/api/search?" + url.Values{"q": {typoOfTenth}}.Encode()
	start := time.Now()
	withIndex.get(typoURL, "")
	rep.typoFirst = time.Since(start)
	rep.typo = &sample{}
	for range 20 {
		rep.typo.time(func() { withIndex.get(typoURL, "") })
	}
	log.Printf("typo %q: first %s, then p50 %s", typoOfTenth, rep.typoFirst, rep.typo.p(50))

	measureCreates(app, withIndex, rep, authorToken, *dir, *creates)
	if err := rep.write(*out); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s", *out)
}

// measureCreates times creates on the same data dir through an app with the
// search hooks and one without, alternating in rounds, then deletes the posts
// it created.
func measureCreates(app core.App, withIndex *server, rep *report, authorToken, dir string, creates int) {
	plain := newServer(newApp(dir, false))
	rep.createWith, rep.createWithout = &sample{}, &sample{}
	rng := rand.New(rand.NewPCG(99, 1))
	var created []string
	const round = 50
	var durWith, durWithout, mergeTime time.Duration
	mergeSteps := 0
	for done := 0; done < creates; done += round {
		for _, v := range []struct {
			srv *server
			s   *sample
			d   *time.Duration
		}{{withIndex, rep.createWith, &durWith}, {plain, rep.createWithout, &durWithout}} {
			t0 := time.Now()
			for range round {
				body, _ := json.Marshal(map[string]any{"title": title(rng), "body": body(rng, 1_000_000), "status": "published"})
				var id string
				v.s.time(func() { id = v.srv.post("/api/collections/posts/records", authorToken, body) })
				created = append(created, id)
			}
			if v.srv == withIndex {
				// The segment merges the app's background merger would run
				// after these writes (internal/search/merge.go), run now: the
				// merger must not write during the other app's round on the
				// same database. They count in the throughput, not in any
				// create's latency, as they would in the idle time between
				// creates in production.
				t := time.Now()
				n, err := search.Merge(app)
				if err != nil {
					log.Fatal(err)
				}
				mergeSteps += n
				mergeTime += time.Since(t)
			}
			*v.d += time.Since(t0)
		}
	}
	log.Printf("merges after the rounds with the index: %d steps in %s", mergeSteps, mergeTime)
	rep.createWithRate = float64(rep.createWith.n()) / durWith.Seconds()
	rep.createWithoutRate = float64(rep.createWithout.n()) / durWithout.Seconds()
	log.Printf("create with index p50 %s p99 %s (%.0f/s) | without p50 %s p99 %s (%.0f/s) | cost %.2f× p50, %.2f× p99 (synchronous=%s)",
		rep.createWith.p(50), rep.createWith.p(99), rep.createWithRate,
		rep.createWithout.p(50), rep.createWithout.p(99), rep.createWithoutRate,
		ratio(rep.createWith.p(50), rep.createWithout.p(50)), ratio(rep.createWith.p(99), rep.createWithout.p(99)), rep.synchronous)

	// Put the data dir back as it was (the posts created without the index
	// would otherwise make the next start rebuild it).
	if err := deletePosts(app, created); err != nil {
		log.Fatal(err)
	}
}

func like(w string) string { return fmt.Sprintf("(title~'%s' || body~'%s')", w, w) }

// ---

// synchronous is data.db's synchronous pragma (-sync): both apps, with and
// without the index, open data.db as production does (internal/dbconn) at
// this level, so the create costs compare the same commits.
var synchronous = "FULL"

func newApp(dir string, withSearch bool) *core.BaseApp {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir, DBConnect: dbconn.WithSync(synchronous)})
	if err := app.Bootstrap(); err != nil {
		log.Fatal(err)
	}
	if err := app.RunAllMigrations(); err != nil {
		log.Fatal(err)
	}
	hooks.Register(app)
	if withSearch {
		search.Register(app)
	}
	return app
}

type server struct {
	h http.Handler
}

func newServer(app core.App) *server {
	mux, err := testkit.Handler(app)
	if err != nil {
		log.Fatal(err)
	}
	return &server{h: mux}
}

// get runs a GET and returns the answer's totalItems.
func (s *server) get(u, token string) int {
	req := httptest.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		log.Fatalf("GET %s: %d %s", u, rec.Code, rec.Body.String())
	}
	var res struct {
		TotalItems int `json:"totalItems"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		log.Fatal(err)
	}
	return res.TotalItems
}

// post creates a record and returns its id.
func (s *server) post(u, token string, body []byte) string {
	req := httptest.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		log.Fatalf("POST %s: %d %s", u, rec.Code, rec.Body.String())
	}
	var res struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		log.Fatal(err)
	}
	return res.ID
}

// ---

type sample struct{ d []time.Duration }

func (s *sample) time(fn func()) {
	t := time.Now()
	fn()
	s.d = append(s.d, time.Since(t))
}

func (s *sample) n() int { return len(s.d) }

// p returns the q-th percentile (nearest rank).
func (s *sample) p(q float64) time.Duration {
	if len(s.d) == 0 {
		return 0
	}
	d := slices.Clone(s.d)
	slices.Sort(d)
	i := int(float64(len(d))*q/100+0.999999) - 1
	return d[min(max(i, 0), len(d)-1)]
}

type queryCase struct {
	name, q, filter string
}

type queryResult struct {
	queryCase
	search, list           *sample // interleaved
	searchBlock, listBlock *sample // each alone
	searchTotal, listTotal int
}

type report struct {
	posts                             int
	started                           time.Time
	queries                           []queryResult
	typoFirst                         time.Duration
	typo                              *sample
	createWith, createWithout         *sample
	createWithRate, createWithoutRate float64
	synchronous                       string
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func (r *report) write(path string) error {
	var b strings.Builder
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	fmt.Fprintf(&b, "# Search benchmark results\n\n")
	fmt.Fprintf(&b, "Generated by `go run ./bench/search` (see README.md) on %s.\n\n", r.started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s, %d cores (GOMAXPROCS %d), %s/%s, %s; load average at the end %s\n",
		cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), load)
	fmt.Fprintf(&b, "- data: %d posts (~150 words each, 90%% published), requests in-process through the app's router as a guest (the posts list rule applies to both sides)\n\n", r.posts)

	fmt.Fprintf(&b, "## Search vs PocketBase's list filter\n\n")
	fmt.Fprintf(&b, "`/api/search?q=…` (all three types, ranked, facets, snippets) against what the JS SDK's\n")
	fmt.Fprintf(&b, "`getList(1, 20, {filter})` asks: `/api/collections/posts/records?page=1&perPage=20&filter=(title~'w' || body~'w')` with its total.\n\n")
	fmt.Fprintf(&b, "| query | search p50 | search p99 | list p50 | list p99 | speed-up p50 | speed-up p99 | matches (search / list) |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, q := range r.queries {
		fmt.Fprintf(&b, "| %s: `%s` | %s | %s | %s | %s | **%.1f×** | %.1f× | %d / %d |\n", q.name, q.q,
			ms(q.search.p(50)), ms(q.search.p(99)), ms(q.list.p(50)), ms(q.list.p(99)),
			ratio(q.list.p(50), q.search.p(50)), ratio(q.list.p(99), q.search.p(99)), q.searchTotal, q.listTotal)
	}
	fmt.Fprintf(&b, "\nSamples: %d search and %d list requests per query, after 3 warm-up requests each, the list requests spread evenly among the searches.\n\n", r.queries[0].search.n(), r.queries[0].list.n())
	fmt.Fprintf(&b, "The same queries in blocks (%d searches back to back, then %d list requests):\n\n", r.queries[0].searchBlock.n(), r.queries[0].listBlock.n())
	fmt.Fprintf(&b, "| query | search p50 | search p99 | list p50 | list p99 | speed-up p50 | speed-up p99 |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, q := range r.queries {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | **%.1f×** | %.1f× |\n", q.name,
			ms(q.searchBlock.p(50)), ms(q.searchBlock.p(99)), ms(q.listBlock.p(50)), ms(q.listBlock.p(99)),
			ratio(q.listBlock.p(50), q.searchBlock.p(50)), ratio(q.listBlock.p(99), q.searchBlock.p(99)))
	}
	fmt.Fprintf(&b, "\n")
	fmt.Fprintf(&b, "Search counts all listable posts, courses and lessons (the list, posts only; `~` also matches inside longer words).\n\n")
	fmt.Fprintf(&b, "Typo correction (`%s`, no exact match): first search %s (builds the vocabulary), then p50 %s, p99 %s.\n\n",
		typoOfTenth, ms(r.typoFirst), ms(r.typo.p(50)), ms(r.typo.p(99)))

	fmt.Fprintf(&b, "## Post create latency at %d posts\n\n", r.posts)
	fmt.Fprintf(&b, "`POST /api/collections/posts/records` as an author (~150-word body), through an app with the search hooks and one without, on the same data dir, alternating rounds of 50; both open data.db as production does (`internal/dbconn`, synchronous=%s).\n\n", r.synchronous)
	fmt.Fprintf(&b, "| | p50 | p99 | throughput |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| without index | %s | %s | %.0f/s |\n", ms(r.createWithout.p(50)), ms(r.createWithout.p(99)), r.createWithoutRate)
	fmt.Fprintf(&b, "| with index | %s | %s | %.0f/s |\n", ms(r.createWith.p(50)), ms(r.createWith.p(99)), r.createWithRate)
	fmt.Fprintf(&b, "| cost | **%.2f×** | **%.2f×** | %.2f× |\n\n", ratio(r.createWith.p(50), r.createWithout.p(50)),
		ratio(r.createWith.p(99), r.createWithout.p(99)), r.createWithoutRate/r.createWithRate)
	fmt.Fprintf(&b, "Samples: %d creates per variant.\n\n", r.createWith.n())

	// Targets of the issue, judged on the interleaved p50 figures (the
	// common word also on p99), and on the create ratios.
	fmt.Fprintf(&b, "## Targets\n\n| target | measured | met |\n|---|---:|:---:|\n")
	verdict := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	goals := []float64{50, 20, 5, 1}
	names := []string{"rare word ≥ 50× faster", "two words ≥ 20× faster", "~10% word ≥ 5× faster", "common word no slower"}
	for i, q := range r.queries {
		if i >= len(goals) {
			break
		}
		got := ratio(q.list.p(50), q.search.p(50))
		fmt.Fprintf(&b, "| %s (p50) | %.1f× | %s |\n", names[i], got, verdict(got >= goals[i]))
		if goals[i] == 1 {
			got99 := ratio(q.list.p(99), q.search.p(99))
			fmt.Fprintf(&b, "| %s (p99) | %.1f× | %s |\n", names[i], got99, verdict(got99 >= 1))
		}
	}
	c50 := ratio(r.createWith.p(50), r.createWithout.p(50))
	c99 := ratio(r.createWith.p(99), r.createWithout.p(99))
	fmt.Fprintf(&b, "| index costs ≤ 1.5× on create p50 | %.2f× | %s |\n", c50, verdict(c50 <= 1.5))
	fmt.Fprintf(&b, "| index costs ≤ 3× on create p99 | %.2f× | %s |\n", c99, verdict(c99 <= 3))
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
