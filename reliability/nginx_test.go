package reliability

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lectern/internal/testkit"
)

// TestNginxProxy runs Debian's nginx with deploy/nginx/lectern.conf (only
// its addresses and cache path changed) in front of the real binary, and
// checks what the config promises: guest reads are answered from nginx's
// cache, a write is visible through it within the documented bound, nothing
// signed-in is cached, realtime (SSE) streams through, 10 MB uploads pass.
// nginx comes from scripts/install-nginx.sh (run here when it is missing).
func TestNginxProxy(t *testing.T) {
	skipShort(t)
	nginx := findNginx(t)
	s := newServer(t, serverOptions{})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	author := w.addUsers(t, "author", "proxy-author")[0]
	for i := range 3 {
		w.create(t, "posts", author.token, map[string]any{"title": fmt.Sprintf("Proxied %d", i), "body": "<p>x</p>", "status": "published"})
	}
	proxy := startNginx(t, nginx, s.port)
	p := newAPI(proxy)
	t.Cleanup(p.close)
	var rows []string

	const list = "/api/collections/posts/records?perPage=50&sort=-created"
	get := func(path, token string) reply {
		t.Helper()
		r, err := p.do("GET", path, token, nil)
		if err != nil {
			t.Fatalf("GET %s through nginx: %v", path, err)
		}
		if r.Status != 200 {
			t.Fatalf("GET %s through nginx: %s", path, r)
		}
		return r
	}

	// guest reads hit nginx's cache
	get(list, "")
	hit := get(list, "")
	if got := hit.Header.Get("X-Proxy-Cache"); got != "HIT" {
		t.Errorf("second guest read: X-Proxy-Cache %q, want HIT (Cache-Control %q)", got, hit.Header.Get("Cache-Control"))
	}
	rows = append(rows, "| guest read, again | X-Proxy-Cache "+hit.Header.Get("X-Proxy-Cache")+" |")

	// once stale, nginx revalidates and Lectern answers 304 from memory
	time.Sleep(2100 * time.Millisecond)
	reval := get(list, "")
	if got := reval.Header.Get("X-Proxy-Cache"); got != "REVALIDATED" {
		t.Errorf("guest read after s-maxage: X-Proxy-Cache %q, want REVALIDATED", got)
	}
	rows = append(rows, "| guest read after s-maxage | X-Proxy-Cache "+reval.Header.Get("X-Proxy-Cache")+" |")

	// a write is visible through the proxy within the bound: s-maxage (1 s)
	// plus nginx's whole-second clock
	const bound = 2 * time.Second
	get(list, "")
	post := w.create(t, "posts", author.token, map[string]any{"title": "Proxied after", "body": "<p>x</p>", "status": "published"})
	acked := time.Now()
	var seenAfter time.Duration = -1
	staleLate := 0
	for time.Since(acked) < bound+1500*time.Millisecond {
		began := time.Since(acked)
		fresh := strings.Contains(string(get(list, "").Body), post["id"].(string))
		if fresh && seenAfter < 0 {
			seenAfter = began
		}
		if !fresh && began > bound+100*time.Millisecond {
			staleLate++
		}
		time.Sleep(25 * time.Millisecond)
	}
	if seenAfter < 0 || staleLate > 0 {
		t.Errorf("write not visible through nginx within %v: first fresh read started %v after the ack, %d stale reads after the bound", bound, seenAfter, staleLate)
	}
	rows = append(rows, fmt.Sprintf("| write → first fresh guest read through nginx | %v (bound %v) |", seenAfter.Round(time.Millisecond), bound))

	// nothing signed-in is cached: the author sees a draft no guest may see
	draft := w.create(t, "posts", author.token, map[string]any{"title": "Proxied draft", "body": "<p>x</p>", "status": "draft"})
	for range 3 {
		r := get(list, author.token)
		if c := r.Header.Get("X-Proxy-Cache"); c == "HIT" {
			t.Errorf("a signed-in read was answered from nginx's cache")
		}
		if !strings.Contains(string(r.Body), draft["id"].(string)) {
			t.Fatalf("the author does not see the draft: the test proves nothing")
		}
	}
	for range 3 {
		if r := get(list, ""); strings.Contains(string(r.Body), draft["id"].(string)) {
			t.Errorf("a guest got the author's signed-in page (with a draft) from nginx")
		}
	}
	signed := get(list, author.token)
	rows = append(rows, fmt.Sprintf("| signed-in read | X-Proxy-Cache %s, Cache-Control %q |", signed.Header.Get("X-Proxy-Cache"), signed.Header.Get("Cache-Control")))

	// realtime through the proxy
	c, err := openSSE(p, "proxied", "", []string{"posts"})
	if err != nil {
		t.Fatalf("realtime through nginx: %v", err)
	}
	defer c.close()
	rt := w.create(t, "posts", author.token, map[string]any{"title": "Proxied realtime", "body": "<p>x</p>", "status": "published"})
	began := time.Now()
	if !c.waitFor(10*time.Second, func(m rtMessage) bool { return m.id() == rt["id"] }) {
		t.Errorf("no realtime event through nginx within 10 s")
	}
	rows = append(rows, fmt.Sprintf("| realtime event through nginx | %v |", time.Since(began).Round(time.Millisecond)))

	// a 9.6 MB cover (the field takes up to 10 MB) passes
	big := bigPNG(t)
	rec := createWithFile(t, p, "posts", author.token, map[string]string{"title": "Proxied cover", "body": "<p>x</p>", "status": "published"}, "cover", "cover.png", big)
	if rec["cover"] == "" || rec["cover"] == nil {
		t.Errorf("upload through nginx: no cover in %v", rec)
	}
	rows = append(rows, fmt.Sprintf("| upload through nginx | %.1f MB, 200 |", float64(len(big))/(1<<20)))
	report(t, "nginx-proxy", "| check | result |", strings.Join(rows, "\n"))
}

// bigPNG is a valid, uncompressed PNG of about 9.6 MB.
func bigPNG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1500))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 10<<20 {
		t.Fatalf("test image %d bytes, over the field's 10 MB", buf.Len())
	}
	return buf.Bytes()
}

// findNginx returns nginx's path: LECTERN_NGINX, the PATH, or what
// scripts/install-nginx.sh installs.
func findNginx(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LECTERN_NGINX"); p != "" {
		return p
	}
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if full, err := exec.LookPath(p); err == nil {
			return full
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot(t), "scripts", "install-nginx.sh")).Output()
	if err != nil {
		t.Fatalf("nginx is missing and scripts/install-nginx.sh failed: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// startNginx runs nginx in the foreground with the shipped config, pointed
// at Lectern on lectern's port, listening on a free loopback port; it is
// stopped by pid at cleanup. It returns the proxy's base URL.
func startNginx(t *testing.T, bin string, lecternPort int) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "nginx", "lectern.conf"))
	if err != nil {
		t.Fatal(err)
	}
	// a directory the worker user can use
	dir, err := os.MkdirTemp("", "lectern-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(dir) })
	os.Chmod(dir, 0o755)
	port := testkit.FreePort(t)
	conf := string(raw)
	for _, r := range [][2]string{
		{"/var/cache/nginx/lectern", filepath.Join(dir, "cache")},
		{"server 127.0.0.1:8090;", fmt.Sprintf("server 127.0.0.1:%d;", lecternPort)},
		{"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", port)},
	} {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("deploy/nginx/lectern.conf no longer has %q: update this test with it", r[0])
		}
		conf = strings.ReplaceAll(conf, r[0], r[1])
	}
	if err := os.WriteFile(filepath.Join(dir, "lectern.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	userLine := ""
	uid, gid := -1, -1
	if os.Getuid() == 0 {
		// as root nginx's workers need a user: Debian's www-data
		u, err := osuser.Lookup("www-data")
		if err != nil {
			t.Fatalf("running as root and no www-data user: %v", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		userLine = "user www-data;"
	}
	for _, sub := range []string{"cache", "tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"} {
		p := filepath.Join(dir, sub)
		os.MkdirAll(p, 0o755)
		if uid >= 0 {
			os.Chown(p, uid, gid)
			os.Chown(filepath.Dir(p), uid, gid)
		}
	}
	main := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    include %[2]s/lectern.conf;
}
`, userLine, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// by pid: SIGQUIT is nginx's graceful stop; the group takes the workers
		syscall.Kill(cmd.Process.Pid, syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for !healthy(hc, base) {
		select {
		case <-done:
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %s\n%s", out.String(), errLog)
		default:
		}
		if time.Now().After(deadline) {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx not proxying after 30 s: %s\n%s", out.String(), errLog)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return base
}
