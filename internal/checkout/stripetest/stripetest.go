// Package stripetest runs Stripe's own fake, stripe-mock, for the payment
// tests, and signs events the way Stripe signs them (stripe-go's
// webhook.GenerateTestSignedPayload).
//
// stripe-mock is stateless: it checks every request against Stripe's OpenAPI
// spec and answers with fixtures (an open, unpaid session for any id). A thin
// front in this package forwards every call to it, records what Lectern sent,
// and lets a test say what Stripe knows about a session (paid, expired) by
// merging fields into stripe-mock's answers for it.
package stripetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"
)

// Binary returns the path of stripe-mock: $STRIPE_MOCK_BIN, or the one
// scripts/stripe-mock.sh installs (running it when missing).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("STRIPE_MOCK_BIN"); p != "" {
		return p
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "stripe-mock.sh"))
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/stripe-mock.sh: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module lectern")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("stripetest: no lectern go.mod above the working directory")
		}
		dir = parent
	}
}

// Mock is a running stripe-mock behind the recording front.
type Mock struct {
	// URL is the API base URL to give Lectern (LECTERN_STRIPE_API_URL).
	URL string
	// MockURL is stripe-mock's own address, without the front.
	MockURL string

	mu       sync.Mutex
	requests []Request
	sessions map[string]map[string]any // API path → fields merged into its answers
}

// Request is one call Lectern made to Stripe.
type Request struct {
	Method, Path string
	Form         url.Values // the form-encoded body
	Header       http.Header
}

// Start runs stripe-mock on free loopback ports and the front before it;
// both are stopped when the test ends.
func Start(t testing.TB) *Mock {
	t.Helper()
	bin := Binary(t)
	httpPort, httpsPort := freePort(t), freePort(t)
	cmd := exec.Command(bin,
		"-http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"-https-addr", fmt.Sprintf("127.0.0.1:%d", httpsPort))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	m := &Mock{MockURL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), sessions: map[string]map[string]any{}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.MockURL + "/v1/balance")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("stripe-mock exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock did not answer within 30 s: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	target, _ := url.Parse(m.MockURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = m.patch
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		m.mu.Lock()
		m.requests = append(m.requests, Request{Method: r.Method, Path: r.URL.Path, Form: form, Header: r.Header.Clone()})
		m.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	m.URL = front.URL
	return m
}

// SetSession makes Stripe report fields (payment_status, amount_total, …)
// for the Checkout Session id from now on.
func (m *Mock) SetSession(id string, fields map[string]any) {
	m.SetObject("/v1/checkout/sessions/"+id, fields)
}

// SetObject makes Stripe report fields for the object at an API path
// ("/v1/charges/ch_123") from now on.
func (m *Mock) SetObject(path string, fields map[string]any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions[path] == nil {
		m.sessions[path] = map[string]any{}
	}
	for k, v := range fields {
		m.sessions[path][k] = v
	}
}

// Requests returns the calls made so far.
func (m *Mock) Requests() []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Request(nil), m.requests...)
}

// patch merges an object's fields into stripe-mock's answer about it.
func (m *Mock) patch(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	m.mu.Lock()
	fields := m.sessions[resp.Request.URL.Path]
	m.mu.Unlock()
	if fields == nil {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return err
	}
	for k, v := range fields {
		obj[k] = v
	}
	body, _ = json.Marshal(obj)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ---

// APIVersion is the Stripe API version the test events claim: an older
// release train than stripe-go's, as a real endpoint pinned to its creation
// date sends. Lectern must accept it.
const APIVersion = "2024-06-20"

// Event builds the JSON of a Stripe event of type typ about object.
func Event(id, typ string, object map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"id":               id,
		"object":           "event",
		"api_version":      APIVersion,
		"created":          time.Now().Unix(),
		"type":             typ,
		"livemode":         false,
		"pending_webhooks": 1,
		"request":          map[string]any{"id": nil, "idempotency_key": nil},
		"data":             map[string]any{"object": object},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// EventAt is Event with Stripe's creation time set (for ordering cases).
func EventAt(id, typ string, created time.Time, object map[string]any) []byte {
	var ev map[string]any
	_ = json.Unmarshal(Event(id, typ, object), &ev)
	ev["created"] = created.Unix()
	b, _ := json.Marshal(ev)
	return b
}

// Sign returns the Stripe-Signature header for payload signed with secret at t.
func Sign(payload []byte, secret string, t time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: t}).Header
}
