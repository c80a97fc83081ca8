package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMetricsEndpoint scrapes the real binary: who may read /api/metrics,
// the contract's names, cache hits counted with their route, and no series
// per record id or raw path.
func TestMetricsEndpoint(t *testing.T) {
	skipShort(t)
	const token = "metrics-token-for-the-test"
	s := newServer(t, serverOptions{env: []string{"LECTERN_METRICS_TOKEN=" + token}})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	author := w.addUsers(t, "author", "metrics-author")[0]
	student := w.addUsers(t, "student", "metrics-student")[0]
	var ids []string
	for i := range 3 {
		p := w.create(t, "posts", author.token, map[string]any{"title": fmt.Sprintf("Metrics post %d", i), "body": "<p>x</p>", "status": "published"})
		ids = append(ids, p["id"].(string))
	}

	// who may read
	for _, c := range []struct {
		who, auth string
		want      int
	}{
		{"nobody", "", 401},
		{"a wrong bearer token", "Bearer nope", 403},
		{"a signed-in student", student.token, 403},
		{"the metrics token", "Bearer " + token, 200},
		{"a superuser", w.su, 200},
	} {
		r, err := w.api.do("GET", "/api/metrics", c.auth, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != c.want {
			t.Errorf("%s: want %d, got %s", c.who, c.want, r)
		}
		if c.want != 200 && strings.Contains(string(r.Body), "lectern_") {
			t.Errorf("%s: a refusal carried metrics: %s", c.who, r)
		}
		if c.want == 200 && !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Errorf("%s: Content-Type %q", c.who, r.Header.Get("Content-Type"))
		}
	}

	// guest reads: the second of each is a cache hit answered before the router
	for _, id := range ids {
		for range 2 {
			w.api.must(t, 200, "GET", "/api/collections/posts/records/"+id, "", nil)
		}
	}
	for i := range 50 {
		w.api.do("GET", fmt.Sprintf("/api/collections/posts/records/nosuchid%07d", i), "", nil)
		w.api.do("GET", fmt.Sprintf("/api/no/such/route/%d", i), "", nil)
	}
	w.api.must(t, 200, "GET", "/api/collections/posts/records?perPage=1", student.token, nil) // a bypass

	r := w.api.must(t, 200, "GET", "/api/metrics", "Bearer "+token, nil)
	body := string(r.Body)
	for _, name := range []string{
		"lectern_http_requests_total", "lectern_http_request_duration_seconds_bucket",
		"lectern_realtime_clients", "lectern_realtime_dropped_clients_total",
		`lectern_cache_requests_total{result="hit"}`, `lectern_cache_requests_total{result="miss"}`, `lectern_cache_requests_total{result="bypass"}`,
		"lectern_webhook_deliveries_pending", "lectern_mail_sent_total",
		"lectern_search_merge_steps_total", `lectern_sqlite_wal_bytes{db="data"}`,
		"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "process_open_fds",
	} {
		if !strings.Contains(body, name) {
			t.Errorf("metrics lack %s", name)
		}
	}
	value := func(series string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no series %s in:\n%s", series, tail(body, 3000))
		}
		var v float64
		fmt.Sscan(m[1], &v)
		return v
	}
	if hits := value(`lectern_cache_requests_total{result="hit"}`); hits < 3 {
		t.Errorf("cache hits %v, want >= 3", hits)
	}
	if n := value(`lectern_http_requests_total{method="GET",route="/api/collections/{collection}/records/{id}",status="200"}`); n < 6 {
		t.Errorf("record views counted %v, want >= 6 (cache hits included)", n)
	}
	if n := value(`lectern_cache_requests_total{result="bypass"}`); n < 1 {
		t.Errorf("bypass %v, want >= 1", n)
	}
	// bounded cardinality: no id, no raw path in any label
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "lectern_http_") {
			continue
		}
		for _, raw := range append(ids, "nosuchid", "/no/such/route") {
			if strings.Contains(line, raw) {
				t.Errorf("a raw value in a label: %s", line)
			}
		}
	}
	t.Logf("series of lectern_http_requests_total: %d", strings.Count(body, "\nlectern_http_requests_total{"))

	// every metric the shipped Grafana dashboard queries exists
	dash, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "grafana", "lectern.json"))
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\b(?:lectern|go|process)_[a-z_]+`).FindAllString(string(dash), -1)
	if len(names) < 10 {
		t.Fatalf("the dashboard queries only %v", names)
	}
	for _, n := range names {
		if !regexp.MustCompile(`(?m)^` + n + `[{ ]`).MatchString(body) {
			t.Errorf("deploy/grafana/lectern.json queries %s, which /api/metrics does not expose", n)
		}
	}
}
