package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Mailpit is a real SMTP server (github.com/axllent/mailpit) started on
// loopback for a test, read back through its REST API. It runs as a separate
// binary that scripts/mailpit.sh installs: its go.mod pins other SQLite
// versions than PocketBase's, so it is never imported.
type Mailpit struct {
	SMTPHost string
	SMTPPort int
	API      string // base URL of the REST API
	hc       *http.Client
}

var (
	mailpitOnce sync.Once
	mailpitBin  string
	mailpitErr  error
)

// mailpitBinary runs scripts/mailpit.sh (which builds the pinned version
// once, then only prints its path).
func mailpitBinary() (string, error) {
	mailpitOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			mailpitErr = err
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "mailpit.sh"))
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			mailpitErr = fmt.Errorf("scripts/mailpit.sh: %w\n%s", err, stderr.String())
			return
		}
		mailpitBin = strings.TrimSpace(string(out))
	})
	return mailpitBin, mailpitErr
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a TCP port free on 127.0.0.1 for a server a test starts.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartMailpit starts a mailpit for t on two free loopback ports and stops
// it in t.Cleanup.
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	bin, err := mailpitBinary()
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		smtpPort, apiPort := FreePort(t), FreePort(t)
		cmd := exec.Command(bin,
			"--smtp", "127.0.0.1:"+strconv.Itoa(smtpPort),
			"--listen", "127.0.0.1:"+strconv.Itoa(apiPort),
			"--disable-version-check", "--smtp-disable-rdns", "--quiet",
			"--max", "10000",
			"--database", filepath.Join(t.TempDir(), "mailpit.db"))
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		m := &Mailpit{SMTPHost: "127.0.0.1", SMTPPort: smtpPort, API: "http://127.0.0.1:" + strconv.Itoa(apiPort),
			hc: &http.Client{Timeout: 10 * time.Second}}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				deadline = time.Time{}
				continue
			default:
			}
			if res, err := m.hc.Get(m.API + "/api/v1/info"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					if c, err := net.DialTimeout("tcp", net.JoinHostPort(m.SMTPHost, strconv.Itoa(smtpPort)), time.Second); err == nil {
						c.Close()
						t.Cleanup(func() {
							_ = cmd.Process.Kill()
							<-exited
						})
						return m
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		<-exited
		if attempt == 2 { // a port taken between picking and binding: try others
			t.Fatalf("mailpit did not start:\n%s", logs.String())
		}
	}
}

// MailAddress is an address as mailpit reports it.
type MailAddress struct {
	Name, Address string
}

// MailSummary is one message of mailpit's list.
type MailSummary struct {
	ID        string
	MessageID string
	From      MailAddress
	To        []MailAddress
	ReplyTo   []MailAddress
	Subject   string
	Created   time.Time
}

// MailMessage is one message in full.
type MailMessage struct {
	MailSummary
	Text, HTML string
}

func (m *Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	res, err := m.hc.Get(m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("mailpit GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("mailpit GET %s: %v", path, err)
	}
}

// Messages lists every message caught so far (newest first), or those
// matching a mailpit search query ("to:a@b.test", "subject:word") when one is given.
func (m *Mailpit) Messages(t testing.TB, query ...string) []MailSummary {
	t.Helper()
	var out []MailSummary
	for start := 0; ; {
		var page struct {
			Total    int `json:"messages_count"`
			Messages []MailSummary
		}
		path := fmt.Sprintf("/api/v1/messages?start=%d&limit=500", start)
		if len(query) > 0 && query[0] != "" {
			path = fmt.Sprintf("/api/v1/search?query=%s&start=%d&limit=500", url.QueryEscape(query[0]), start)
		}
		m.get(t, path, &page)
		out = append(out, page.Messages...)
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			return out
		}
	}
}

// Message returns one message in full (text and HTML parts).
func (m *Mailpit) Message(t testing.TB, id string) MailMessage {
	t.Helper()
	var msg MailMessage
	m.get(t, "/api/v1/message/"+url.PathEscape(id), &msg)
	return msg
}

// Headers returns one message's headers.
func (m *Mailpit) Headers(t testing.TB, id string) http.Header {
	t.Helper()
	var h map[string][]string
	m.get(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return http.Header(h)
}

// WaitFor polls until at least n messages match query (see Messages), or
// fails after timeout.
func (m *Mailpit) WaitFor(t testing.TB, n int, query string, timeout time.Duration) []MailSummary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := m.Messages(t, query)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d message(s) matching %q after %s, want %d", len(got), query, timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
