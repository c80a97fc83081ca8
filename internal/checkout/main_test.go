package checkout_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/stretchr/testify/require"

	"lectern/internal/checkout"
	"lectern/internal/checkout/stripetest"
	"lectern/internal/testkit"
)

// fixture is the data dir every test clones.
var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }

const (
	webhookSecret = "whsec_test_lectern"
	secretKey     = "sk_test_lecternSecretKey123"
)

// env is one app with checkout configured against stripe-mock, its HTTP
// handler, and a paid course with one free-preview and one paid lesson.
type env struct {
	t      testing.TB
	app    *tests.TestApp
	mock   *stripetest.Mock
	h      http.Handler
	course string // the paid course (USD 599)
	lesson string // its paid lesson
}

// shared stripe-mock per test binary would outlive t.Cleanup; one per test
// is a ~50 ms start.
func newEnv(t testing.TB, mock *stripetest.Mock) *env {
	t.Helper()
	app := fixture.NewApp(t)
	t.Cleanup(app.Cleanup)
	cfg := checkout.Config{}
	if mock != nil {
		cfg = checkout.Config{SecretKey: secretKey, WebhookSecret: webhookSecret, APIURL: mock.URL}
	}
	checkout.RegisterConfig(app, cfg)
	h, err := testkit.Handler(app)
	require.NoError(t, err)
	e := &env{t: t, app: app, mock: mock, h: h}
	e.course = e.addCourse("Go for payments", 599, "USD", "published")
	e.lesson = e.addLesson(e.course, 2, false)
	e.addLesson(e.course, 1, true)
	return e
}

func (e *env) addCourse(title string, price float64, currency, status string) string {
	e.t.Helper()
	c, err := e.app.FindCollectionByNameOrId("courses")
	require.NoError(e.t, err)
	r := core.NewRecord(c)
	r.Load(map[string]any{"title": title, "instructor": testkit.UserInstructor, "durationDays": 10, "mode": "online",
		"level": "beginner", "price": price, "currency": currency, "status": status})
	require.NoError(e.t, e.app.Save(r))
	return r.Id
}

func (e *env) addLesson(course string, pos int, free bool) string {
	e.t.Helper()
	c, err := e.app.FindCollectionByNameOrId("lessons")
	require.NoError(e.t, err)
	r := core.NewRecord(c)
	r.Load(map[string]any{"course": course, "title": fmt.Sprintf("Lesson %d", pos), "position": pos, "freePreview": free, "body": "<p>secret</p>"})
	require.NoError(e.t, e.app.Save(r))
	return r.Id
}

type reply struct {
	Status int
	Body   []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), string(r.Body))
	return m
}

func (e *env) do(method, path, identity string, body any, header map[string]string) reply {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if identity != "" {
		for k, v := range fixture.Headers(identity) {
			req.Header.Set(k, v)
		}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return reply{w.Code, w.Body.Bytes()}
}

// checkout opens a checkout for identity on course and returns the session id.
func (e *env) checkout(identity, course string) string {
	e.t.Helper()
	r := e.do("POST", "/api/courses/"+course+"/checkout", identity, map[string]any{}, nil)
	require.Equal(e.t, 200, r.Status, string(r.Body))
	id, _ := r.json(e.t)["sessionId"].(string)
	require.True(e.t, strings.HasPrefix(id, "cs_"), id)
	return id
}

// deliver signs payload as Stripe does and posts it to the webhook.
func (e *env) deliver(payload []byte) reply {
	return e.do("POST", "/api/stripe/webhook", "", payload,
		map[string]string{"Stripe-Signature": stripetest.Sign(payload, webhookSecret, time.Now())})
}

func (e *env) order(session string) *core.Record {
	e.t.Helper()
	o, err := e.app.FindFirstRecordByData("orders", "stripeSessionId", session)
	require.NoError(e.t, err)
	return o
}

// enrollments of user in course.
func (e *env) enrollments(course, user string) []*core.Record {
	e.t.Helper()
	rs, err := e.app.FindRecordsByFilter("enrollments", "course = {:c} && user = {:u}", "", 0, 0, dbx.Params{"c": course, "u": user})
	require.NoError(e.t, err)
	return rs
}

func (e *env) count(collection string) int {
	e.t.Helper()
	n, err := e.app.CountRecords(collection)
	require.NoError(e.t, err)
	return int(n)
}

func (e *env) enrollmentsCount(course string) int {
	e.t.Helper()
	c, err := e.app.FindRecordById("courses", course)
	require.NoError(e.t, err)
	return c.GetInt("enrollmentsCount")
}

// session is a Checkout Session object as Stripe puts it in an event.
func session(id, order, paymentStatus, pi string, amount int64, currency string) map[string]any {
	return map[string]any{
		"id": id, "object": "checkout.session", "mode": "payment", "status": "complete",
		"payment_status": paymentStatus, "amount_total": amount, "currency": currency,
		"payment_intent": pi, "metadata": map[string]any{"order": order},
	}
}

// ---

// subscriber collects realtime messages of one client, registered with the
// app's broker as GET /api/realtime does.
type subscriber struct {
	mu     sync.Mutex
	events []map[string]any
}

func subscribe(t testing.TB, app core.App, userID string, topics ...string) *subscriber {
	t.Helper()
	client := subscriptions.NewDefaultClient()
	u, err := app.FindRecordById("users", userID)
	require.NoError(t, err)
	client.Set(apis.RealtimeClientAuthKey, u)
	client.Subscribe(topics...)
	app.SubscriptionsBroker().Register(client)
	s := &subscriber{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range client.Channel() {
			var data map[string]any
			if json.Unmarshal(msg.Data, &data) == nil {
				data["topic"] = msg.Name
				s.mu.Lock()
				s.events = append(s.events, data)
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		app.SubscriptionsBroker().Unregister(client.Id())
		<-done
	})
	return s
}

// waitFor polls until some message satisfies ok, for up to 5 s.
func (s *subscriber) waitFor(t testing.TB, what string, ok func(map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, ev := range s.events {
			if ok(ev) {
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("no realtime message %s; got %v", what, s.events)
}
