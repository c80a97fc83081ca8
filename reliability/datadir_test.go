package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lectern/internal/testkit"
)

// One server per data dir, and no stale cached reads after another process
// writes the same data dir (issue: a second serve, `lectern seed --force` or
// `check-counters --repair` next to a running server left its guests reading
// old pages from the response cache).

// externalBound is how long a guest may still read a page from before
// another process's commit: the cache's data_version poll (50 ms) plus slack
// for a loaded CI machine.
const externalBound = 3 * time.Second

// guestPage is a guest read of path: the status, X-Cache and the decoded body.
func guestPage(t testing.TB, a *api, path string) (map[string]any, string) {
	t.Helper()
	r, err := a.do("GET", path, "", nil)
	if err != nil || r.Status != 200 {
		t.Fatalf("GET %s: %v %s", path, err, r)
	}
	var body map[string]any
	if err := r.json(&body); err != nil {
		t.Fatal(err)
	}
	return body, r.Header.Get("X-Cache")
}

// cachedPage reads path until the cache answers it (a HIT) and returns it.
func cachedPage(t testing.TB, a *api, path string) map[string]any {
	t.Helper()
	for range 5 {
		if body, xc := guestPage(t, a, path); xc == "HIT" {
			return body
		}
	}
	t.Fatalf("GET %s: never a cache HIT", path)
	return nil
}

// waitFor polls the guest page until ok says it is fresh; it fails the test
// after externalBound and returns how long it took and the X-Cache of the
// first fresh answer.
func waitFor(t testing.TB, a *api, path string, ok func(map[string]any) bool) (time.Duration, string) {
	t.Helper()
	began := time.Now()
	var last map[string]any
	for time.Since(began) < externalBound {
		body, xc := guestPage(t, a, path)
		if ok(body) {
			return time.Since(began), xc
		}
		last = body
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GET %s: still stale %s after the other process's write: %v", path, externalBound, tail(fmt.Sprint(last), 300))
	return 0, ""
}

func total(body map[string]any) int {
	n, _ := body["totalItems"].(float64)
	return int(n)
}

func TestCLIWritesReachServerCache(t *testing.T) {
	skipShort(t)
	s := newServer(t, serverOptions{})
	s.cli("seed", "--users", "8", "--posts", "6", "--comments", "12", "--courses", "1", "--enrollments", "2", "--reviews", "1")
	s.start()
	a := newAPI(s.url)
	t.Cleanup(a.close)
	const list = "/api/collections/posts/records?perPage=1&sort=-created"
	var rows []string

	t.Run("seed --force", func(t *testing.T) {
		before := total(cachedPage(t, a, list))
		s.cli("seed", "--force", "--users", "8", "--posts", "30", "--comments", "12", "--courses", "1", "--enrollments", "2", "--reviews", "1")
		// the truth: a request-target the cache has never seen
		fresh := total(cachedOrNot(t, a, list+"&bust="+fmt.Sprint(time.Now().UnixNano())))
		if fresh == before {
			t.Fatalf("seed --force did not change the published posts (%d): the test proves nothing", before)
		}
		took, xc := waitFor(t, a, list, func(b map[string]any) bool { return total(b) == fresh })
		if xc == "HIT" {
			t.Errorf("first fresh answer was a HIT")
		}
		rows = append(rows, fmt.Sprintf("| seed --force | %d → %d posts | %s | %v |", before, fresh, xc, took.Round(time.Millisecond)))
	})

	t.Run("check-counters --repair", func(t *testing.T) {
		// a post with visible comments, its counter drifted by a raw write
		// (itself another process's commit)
		db := openWritable(t, s.dir)
		var id string
		var count int
		if err := db.QueryRow(`SELECT id, commentsCount FROM posts WHERE status = 'published' AND commentsCount > 0 LIMIT 1`).Scan(&id, &count); err != nil {
			t.Fatalf("a published post with comments: %v", err)
		}
		path := "/api/collections/posts/records/" + id
		if got := cachedPage(t, a, path)["commentsCount"]; got != float64(count) {
			t.Fatalf("commentsCount %v, database %d", got, count)
		}
		if _, err := db.Exec(`UPDATE posts SET commentsCount = commentsCount + 7 WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		db.Close()
		waitFor(t, a, path, func(b map[string]any) bool { return b["commentsCount"] == float64(count+7) })
		cachedPage(t, a, path)
		out := s.cli("check-counters", "--repair")
		if !strings.Contains(out, "Repaired") {
			t.Fatalf("check-counters --repair: %s", out)
		}
		took, xc := waitFor(t, a, path, func(b map[string]any) bool { return b["commentsCount"] == float64(count) })
		if xc == "HIT" {
			t.Errorf("first repaired answer was a HIT")
		}
		rows = append(rows, fmt.Sprintf("| check-counters --repair | commentsCount %d → %d | %s | %v |", count+7, count, xc, took.Round(time.Millisecond)))
	})

	t.Run("reindex", func(t *testing.T) {
		cachedPage(t, a, list)
		s.cli("reindex")
		// the page reads the same, but the cache must have let go of it: the
		// index tables changed under it
		began := time.Now()
		xc := "HIT"
		for xc == "HIT" && time.Since(began) < externalBound {
			_, xc = guestPage(t, a, list)
		}
		if xc == "HIT" {
			t.Fatalf("still a cache HIT %v after reindex committed", externalBound)
		}
		rows = append(rows, fmt.Sprintf("| reindex | (same page) | %s | %v |", xc, time.Since(began).Round(time.Millisecond)))
	})
	report(t, "cli-writes-vs-cache", "| command | change | X-Cache of the first fresh read | after the command exited |", strings.Join(rows, "\n"))
}

// cachedOrNot is a plain guest read (its X-Cache ignored).
func cachedOrNot(t testing.TB, a *api, path string) map[string]any {
	body, _ := guestPage(t, a, path)
	return body
}

// openWritable opens pb_data/data.db for writing, as another process would.
func openWritable(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "data.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOneServerPerDataDir(t *testing.T) {
	skipShort(t)
	s := newServer(t, serverOptions{})
	s.start()
	first := s.pid()

	// a second serve on the same dir is refused, naming the first
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "serve", "--http", fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), "--dir", s.dir, "--dev=false")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("second serve exited 0:\n%s", out)
	}
	want := fmt.Sprintf("already served by another lectern (pid %d ", first)
	if !strings.Contains(string(out), want) {
		t.Fatalf("second serve's refusal does not name pid %d:\n%s", first, out)
	}
	if !healthy(&http.Client{Timeout: 2 * time.Second}, s.url) {
		t.Fatal("the first server is no longer healthy")
	}

	// kill -9 leaves no stale lock: the next serve starts
	s.kill()
	s.start()
	// and a clean exit releases it too
	s.stop()
	s.start()
	t.Logf("refusal: %s", strings.TrimSpace(string(out)))
}

// TestUnwritableDataDB: a data.db the server's user cannot write (a backup
// restored as root, the service running as its own user) fails start-up with
// the path and the fix, instead of serving 400s for every write.
func TestUnwritableDataDB(t *testing.T) {
	skipShort(t)
	s := newServer(t, serverOptions{})
	// a directory the unprivileged user can reach
	base, err := os.MkdirTemp("", "lectern-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(base) })
	dir := filepath.Join(base, "pb_data")
	if err := os.Rename(s.dir, dir); err != nil {
		t.Fatal(err)
	}
	s.dir = dir

	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		full := append([]string{"serve", "--http", fmt.Sprintf("127.0.0.1:%d", s.port), "--dir", dir, "--dev=false"}, args...)
		var cmd *exec.Cmd
		if os.Getuid() == 0 {
			// root writes anything: run as nobody, the binary and the dir
			// made reachable for it
			for _, p := range []string{base, filepath.Dir(s.bin)} {
				os.Chmod(p, 0o755)
			}
			filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, 65534, 65534) })
			os.Chown(filepath.Join(dir, "data.db"), 0, 0) // restored as root
			cmd = exec.CommandContext(ctx, "setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", s.bin}, full...)...)
		} else {
			os.Chmod(filepath.Join(dir, "data.db"), 0o444)
			cmd = exec.CommandContext(ctx, s.bin, full...)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if os.Getuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err != nil {
			t.Skip("running as root without setpriv: cannot drop privileges to make data.db unwritable")
		}
	}
	out, err := run()
	if err == nil {
		t.Fatalf("serve started on an unwritable data.db:\n%s", out)
	}
	for _, want := range []string{filepath.Join(dir, "data.db") + " is not writable", "chown -R"} {
		if !strings.Contains(out, want) {
			t.Errorf("start-up error lacks %q:\n%s", want, out)
		}
	}
	t.Logf("refusal: %s", strings.TrimSpace(out))
}
