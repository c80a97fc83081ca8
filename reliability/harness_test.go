package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lectern/internal/testkit"
)

// The harness: build ./lectern once per test binary, start it on a free
// loopback port with its own data dir, talk HTTP, stop it. Every process a
// test starts is stopped by t.Cleanup, and carries Pdeathsig so it dies with
// the test binary even when a timeout panics past the cleanups.

const (
	superuserEmail    = "root@reliability.test"
	superuserPassword = "Reliability-pass-123"
	userPassword      = "Secret-pass-123"
)

var (
	buildOnce sync.Once
	buildDir  string
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// skipShort skips every reliability test under -short: they start real
// servers and run for seconds to minutes.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("reliability suite: skipped under -short")
	}
}

// repoRoot is the module root: the tests run in reliability/.
func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// lecternBinary builds the binary from the working tree once per test binary.
func lecternBinary(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "lectern-reliability-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "lectern")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", builtBin, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// envInt reads a positive integer knob, or returns def.
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// envDuration reads a duration knob ("90s", "5m"), or returns def.
func envDuration(t testing.TB, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a duration like 90s or 5m", name, v)
	}
	return d
}

// ---

// outputLog keeps a server's combined output (capped) and counts lines
// matching the phrases a test must never see.
type outputLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial string
	counts  map[string]int
	heap    []heapSample // from GODEBUG=gctrace=1 lines
}

// heapSample is the live Go heap after one GC, as gctrace prints it.
type heapSample struct {
	at     time.Time
	liveMB int
}

// gctrace: "gc 12 @3.401s 1%: … ms cpu, 9->10->4 MB, 11 MB goal, …"
var gctraceLine = regexp.MustCompile(`^gc \d+ @[\d.]+s .* (\d+)->(\d+)->(\d+) MB`)

var watchedPhrases = []string{"database is locked", "panic", "PANIC", "SQLITE_BUSY"}

func (o *outputLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}
	if o.buf.Len() < 4<<20 {
		o.buf.Write(p)
	}
	lines := strings.Split(o.partial+string(p), "\n")
	o.partial = lines[len(lines)-1]
	for _, line := range lines[:len(lines)-1] {
		if m := gctraceLine.FindStringSubmatch(line); m != nil {
			live, _ := strconv.Atoi(m[3])
			o.heap = append(o.heap, heapSample{time.Now(), live})
			continue
		}
		for _, w := range watchedPhrases {
			if strings.Contains(line, w) {
				o.counts[w]++
			}
		}
	}
	return len(p), nil
}

func (o *outputLog) count(phrase string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[phrase]
}

func (o *outputLog) heapSamples() []heapSample {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]heapSample(nil), o.heap...)
}

func (o *outputLog) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// server is one data dir and the lectern process serving it (restartable).
type server struct {
	t    testing.TB
	bin  string
	dir  string // the pb_data dir
	port int
	url  string
	args []string // extra serve flags
	env  []string // extra environment of the server process
	out  *outputLog

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// serverOptions configures newServer.
type serverOptions struct {
	dir  string   // an existing pb_data to serve (default: a fresh one)
	args []string // extra serve flags, e.g. --origins
	env  []string // extra environment, e.g. GODEBUG=gctrace=1
}

// newServer prepares a data dir (migrated, with the reliability superuser)
// and returns a stopped server over it; call start.
func newServer(t testing.TB, opts serverOptions) *server {
	t.Helper()
	s := &server{t: t, bin: lecternBinary(t), dir: opts.dir, args: opts.args, env: opts.env, out: &outputLog{}}
	if s.dir == "" {
		s.dir = filepath.Join(t.TempDir(), "pb_data")
	}
	s.port = testkit.FreePort(t)
	s.url = fmt.Sprintf("http://127.0.0.1:%d", s.port)
	t.Cleanup(s.stop)
	s.cli("migrate", "up")
	s.cli("superuser", "upsert", superuserEmail, superuserPassword)
	return s
}

// cli runs a lectern command against the data dir (the server must not run).
func (s *server) cli(args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append(args, "--dir", s.dir)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("lectern %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start launches `lectern serve` and waits until /api/health answers 200; it
// returns the time from spawning the process to the first healthy answer.
func (s *server) start() time.Duration {
	s.t.Helper()
	d, err := s.tryStart(60 * time.Second)
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

func (s *server) tryStart(timeout time.Duration) (time.Duration, error) {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return 0, errors.New("server already running")
	}
	args := append([]string{"serve", "--http", fmt.Sprintf("127.0.0.1:%d", s.port), "--dir", s.dir, "--dev=false"}, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	go func() {
		cmd.Wait()
		close(done)
	}()
	if err := s.waitHealthy(timeout, done); err != nil {
		return 0, fmt.Errorf("%w\noutput:\n%s", err, tail(s.out.String(), 4000))
	}
	return time.Since(began), nil
}

// waitHealthy polls /api/health until it answers 200, the process exits or
// the timeout passes.
func (s *server) waitHealthy(timeout time.Duration, exited <-chan struct{}) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("lectern exited before it was healthy")
		default:
		}
		if healthy(hc, s.url) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("lectern not healthy after %s", timeout)
}

func healthy(hc *http.Client, url string) bool {
	res, err := hc.Get(url + "/api/health")
	if err != nil {
		return false
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// pid is the running server's process id (0 when stopped).
func (s *server) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// exited returns a channel closed when the current process exits.
func (s *server) exited() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.signal(syscall.SIGKILL, 0)
}

// stop asks the server to shut down (SIGTERM), then kills it after 15 s.
func (s *server) stop() {
	s.signal(syscall.SIGTERM, 15*time.Second)
}

func (s *server) signal(sig syscall.Signal, grace time.Duration) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.t.Errorf("lectern pid %d did not exit after %v", cmd.Process.Pid, sig)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// report prints a test's figures — a markdown table, the form
// RELIABILITY.md quotes — after a "FIGURES <name>" line (shown with -v).
func report(t testing.TB, name, header, rows string) {
	t.Helper()
	sep := "|" + strings.Repeat("---|", strings.Count(header, "|")-1)
	fmt.Printf("FIGURES %s\n%s\n%s\n%s\n", name, header, sep, rows)
}

// ---

// api is an HTTP client of one server.
type api struct {
	base string
	hc   *http.Client
}

func newAPI(base string) *api {
	tr := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	return &api{base: base, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

func (a *api) close() { a.hc.CloseIdleConnections() }

// reply is one HTTP answer.
type reply struct {
	Status int
	Body   []byte
	Header http.Header
}

func (r reply) String() string {
	return fmt.Sprintf("%d %s", r.Status, tail(string(r.Body), 400))
}

// json decodes the body into v.
func (r reply) json(v any) error { return json.Unmarshal(r.Body, v) }

// do sends a request; body is nil, a string or []byte (sent as JSON), or any
// other value (marshalled to JSON).
func (a *api) do(method, path, token string, body any) (reply, error) {
	return a.doCtx(context.Background(), method, path, token, body, nil)
}

func (a *api) doCtx(ctx context.Context, method, path, token string, body any, header map[string]string) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return reply{Status: res.StatusCode, Header: res.Header}, err
	}
	return reply{Status: res.StatusCode, Body: raw, Header: res.Header}, nil
}

// must sends a request and fails the test unless the status is want.
func (a *api) must(t testing.TB, want int, method, path, token string, body any) reply {
	t.Helper()
	r, err := a.do(method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.Status != want {
		t.Fatalf("%s %s: want %d, got %s", method, path, want, r)
	}
	return r
}

// ---

// world is the data a test builds through the API: a superuser token and
// users of every role with their tokens.
type world struct {
	api   *api
	su    string // superuser token
	users map[string]*user
}

type user struct {
	name, id, email, role, token string
}

// superuserToken signs the reliability superuser in.
func superuserToken(t testing.TB, a *api) string {
	t.Helper()
	r := a.must(t, 200, "POST", "/api/collections/_superusers/auth-with-password", "",
		map[string]any{"identity": superuserEmail, "password": superuserPassword})
	var out struct{ Token string }
	if err := r.json(&out); err != nil || out.Token == "" {
		t.Fatalf("superuser token: %v %s", err, r)
	}
	return out.Token
}

func newWorld(t testing.TB, s *server) *world {
	t.Helper()
	a := newAPI(s.url)
	t.Cleanup(a.close)
	return &world{api: a, su: superuserToken(t, a), users: map[string]*user{}}
}

// relaxRateLimits switches the per-IP limits off: a test is one IP making
// hundreds of writes a second. Only the abuse test keeps them on.
func (w *world) relaxRateLimits(t testing.TB) {
	t.Helper()
	w.api.must(t, 200, "PATCH", "/api/settings", w.su, map[string]any{"rateLimits": map[string]any{"enabled": false}})
}

// addUsers creates users (as the superuser, so it may set the role) and
// signs each in, a few at a time (password hashing is the slow part).
func (w *world) addUsers(t testing.TB, role string, names ...string) []*user {
	t.Helper()
	out := make([]*user, len(names))
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			u, err := w.addUser(role, name)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			out[i] = u
			if u != nil {
				w.users[name] = u
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	return out
}

func (w *world) addUser(role, name string) (*user, error) {
	u := &user{name: name, email: name + "@reliability.test", role: role}
	r, err := w.api.do("POST", "/api/collections/users/records", w.su, map[string]any{
		"email": u.email, "password": userPassword, "passwordConfirm": userPassword,
		"name": name, "role": role, "verified": true,
	})
	if err != nil || r.Status != 200 {
		return nil, fmt.Errorf("create user %s: %v %s", name, err, r)
	}
	var rec struct{ ID string }
	r.json(&rec)
	u.id = rec.ID
	r, err = w.api.do("POST", "/api/collections/users/auth-with-password", "", map[string]any{"identity": u.email, "password": userPassword})
	if err != nil || r.Status != 200 {
		return nil, fmt.Errorf("sign in %s: %v %s", name, err, r)
	}
	var auth struct{ Token string }
	r.json(&auth)
	u.token = auth.Token
	return u, nil
}

// create posts a record as token and returns its decoded JSON.
func (w *world) create(t testing.TB, collection, token string, data map[string]any) map[string]any {
	t.Helper()
	r := w.api.must(t, 200, "POST", "/api/collections/"+collection+"/records", token, data)
	var rec map[string]any
	if err := r.json(&rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// count is a collection's total rows, as the superuser sees them.
func (w *world) count(t testing.TB, collection string) int {
	t.Helper()
	r := w.api.must(t, 200, "GET", "/api/collections/"+collection+"/records?perPage=1&fields=id", w.su, nil)
	var page struct{ TotalItems int }
	if err := r.json(&page); err != nil {
		t.Fatal(err)
	}
	return page.TotalItems
}

// ---

// idGen makes record ids a client may choose (15 chars of [a-z0-9]), unique
// across every run of a test thanks to a random prefix.
type idGen struct {
	mu     sync.Mutex
	prefix string
	n      int
}

func newIDGen(prefix string) *idGen {
	p := prefix + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	if len(p) > 7 {
		p = p[:7]
	}
	return &idGen{prefix: p}
}

func (g *idGen) next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	s := fmt.Sprintf("%s%d", g.prefix, g.n)
	if len(s) < 15 {
		s = g.prefix + strings.Repeat("0", 15-len(s)) + strconv.Itoa(g.n)
	}
	return s[:15]
}

// ---

// procStatus reads a field of /proc/<pid>/status in kB (VmRSS) or as a count (Threads).
func procStatus(pid int, field string) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(strings.TrimPrefix(line, field+":"))
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return -1
}

// openFDs counts the process's open file descriptors (sockets included).
func openFDs(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(entries)
}

func removeAll(dir string) {
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// fdKinds counts the process's open fds by kind: "socket", "sqlite" (a
// database, WAL or shm file: pooled connections) and "other".
func fdKinds(pid int) map[string]int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		switch {
		case err != nil:
		case strings.HasPrefix(target, "socket:"):
			out["socket"]++
		case strings.HasSuffix(target, ".db") || strings.HasSuffix(target, ".db-wal") || strings.HasSuffix(target, ".db-shm"):
			out["sqlite"]++
		default:
			out["other"]++
		}
	}
	return out
}
