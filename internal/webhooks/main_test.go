package webhooks_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
	"lectern/internal/webhooks"
)

var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

// ---
// An implementation of the Standard Webhooks verification written from the
// specification's text, independent of the library the server signs with:
//
//   - the signed content is "{webhook-id}.{webhook-timestamp}.{body}";
//   - the key is the base64-decoded part of the secret after "whsec_";
//   - the signature is base64(HMAC-SHA256(key, content)), sent in
//     webhook-signature as "v1,<signature>", several separated by spaces;
//   - a timestamp further than the tolerance from now is refused.
//
// TestSpecVector checks it against the specification's published example.

func specSign(secret, id, ts string, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

func specVerify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s from now", ts, d)
	}
	want, err := specSign(secret, id, ts, body)
	if err != nil {
		return err
	}
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

// ---

// received is one request a receiver got.
type received struct {
	ID, Timestamp string
	ContentType   string
	Body          []byte
	VerifyErr     error
}

// receiver is a webhook endpoint on loopback that verifies every request
// with the independent implementation and answers with respond (200 when
// nil). n counts from 1.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	secret  string
	got     []received
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		got := received{
			ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
			ContentType: r.Header.Get("Content-Type"), Body: body,
			VerifyErr: specVerify(rc.secret, r.Header, body, time.Now()),
		}
		rc.got = append(rc.got, got)
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// ---

// env is a test app with webhooks bound, served in process.
type env struct {
	app *tests.TestApp
	svc *webhooks.Service
	mux http.Handler
}

// fast is the options of most tests: loopback receivers allowed, retries in
// milliseconds.
var fast = webhooks.Options{AllowPrivate: true, Schedule: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}, Timeout: 5 * time.Second}

// newEnv builds the env; also binds more of the app (another package's
// routes) before the handler is built.
func newEnv(t *testing.T, opts webhooks.Options, also ...func(core.App)) *env {
	t.Helper()
	app := fixture.NewApp(t)
	svc := webhooks.RegisterWith(app, opts)
	for _, f := range also {
		f(app)
	}
	// building the handler runs OnServe, which starts the worker; Cleanup
	// runs OnTerminate, which stops it before the db closes
	mux, err := testkit.Handler(app)
	require.NoError(t, err)
	t.Cleanup(app.Cleanup)
	return &env{app: app, svc: svc, mux: mux}
}

// call sends one API request as identity and returns the status and body.
func (e *env) call(t *testing.T, method, path, identity string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range fixture.Headers(identity) {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// addWebhook saves a webhook through the app (its hooks generate the
// secret) and hands the secret to the receiver.
func (e *env) addWebhook(t *testing.T, rc *receiver, events ...string) *core.Record {
	t.Helper()
	c, err := e.app.FindCollectionByNameOrId(webhooks.Collection)
	require.NoError(t, err)
	r := core.NewRecord(c)
	ev, _ := json.Marshal(events)
	r.Load(map[string]any{"url": rc.srv.URL + "/hook", "events": string(ev), "active": true})
	require.NoError(t, e.app.Save(r))
	rc.setSecret(r.GetString("secret"))
	return r
}

func (e *env) deliveries(t *testing.T, webhook string) []*core.Record {
	t.Helper()
	rs, err := e.app.FindRecordsByFilter(webhooks.Deliveries, "webhook = {:w}", "created", 0, 0, map[string]any{"w": webhook})
	require.NoError(t, err)
	return rs
}

// onlyDelivery waits until webhook has exactly one delivery, in status, and
// returns it.
func (e *env) onlyDelivery(t *testing.T, webhook, status, what string) *core.Record {
	t.Helper()
	var d *core.Record
	waitFor(t, 10*time.Second, what, func() bool {
		ds := e.deliveries(t, webhook)
		if len(ds) == 1 && ds[0].GetString("status") == status {
			d = ds[0]
			return true
		}
		return false
	})
	return d
}

func (e *env) delivery(t *testing.T, id string) *core.Record {
	t.Helper()
	r, err := e.app.FindRecordById(webhooks.Deliveries, id)
	require.NoError(t, err)
	return r
}

// newTopic saves a topic through the app.
func (e *env) newTopic(t *testing.T, app core.App, name string) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId("topics")
	require.NoError(t, err)
	r := core.NewRecord(c)
	r.Set("name", name)
	require.NoError(t, app.Save(r))
	return r
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

func (e *env) statusIs(id, status string) func() bool {
	return func() bool {
		r, err := e.app.FindRecordById(webhooks.Deliveries, id)
		return err == nil && r.GetString("status") == status
	}
}
