package mail_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/mail"
	"lectern/internal/testkit"
)

func TestContactMailReplyToHoneypotAndRateLimit(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	// as behind a reverse proxy: the client IP comes from X-Forwarded-For
	s := app.Settings()
	s.TrustedProxy.Headers = []string{"X-Forwarded-For"}
	require.NoError(t, app.Save(s))
	c := newClient(t, app)
	ip := map[string]string{"X-Forwarded-For": "203.0.113.7"}

	a := c.json(http.MethodPost, mail.PathContact,
		`{"name":"Dana Reader","email":"dana@example.test","subject":"Course question","message":"Is the Go course <b>online</b>?"}`, ip)
	require.Equal(t, http.StatusAccepted, a.Status, a.Body)
	require.JSONEq(t, `{}`, a.Body)
	msgs, err := app.FindAllRecords("messages")
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, "new", m.GetString("status"))
	assert.Equal(t, "Is the Go course online?", m.GetString("body"), "stored as plain text")
	assert.NotEmpty(t, m.GetString("ip"))

	got := mp.WaitFor(t, 1, "to:admin@lectern.test", 10*time.Second)
	full := mp.Message(t, got[0].ID)
	require.Len(t, full.ReplyTo, 1)
	assert.Equal(t, "dana@example.test", full.ReplyTo[0].Address, "Reply-To is the sender")
	assert.Equal(t, "Dana Reader", full.ReplyTo[0].Name)
	assert.Contains(t, full.Subject, "Course question")
	assert.Contains(t, full.Text, "Is the Go course online?")
	assert.Contains(t, full.Text, site+"/_/#/collections?collection=messages&record="+m.Id)
	assert.Len(t, mp.Messages(t), 1, "mailed to the one admin of the fixture, nobody else")

	// the honeypot: the same 202, stored as spam, mailed to nobody
	a = c.json(http.MethodPost, mail.PathContact,
		`{"name":"Bot","email":"bot@example.test","message":"Buy now","website":"http://spam.example"}`, ip)
	require.Equal(t, http.StatusAccepted, a.Status, a.Body)
	require.JSONEq(t, `{}`, a.Body)
	spam, err := app.FindFirstRecordByData("messages", "email", "bot@example.test")
	require.NoError(t, err)
	assert.Equal(t, "spam", spam.GetString("status"))
	require.NoError(t, mail.WaitOutbox(app))
	assert.Len(t, mp.Messages(t), 1, "a honeypot message is mailed to nobody")

	// per IP: 5 in 10 minutes (the two above count), then 429
	for i := 0; i < 3; i++ {
		a = c.json(http.MethodPost, mail.PathContact, `{"name":"Dana","email":"dana@example.test","message":"again"}`, ip)
		require.Equal(t, http.StatusAccepted, a.Status, a.Body)
	}
	a = c.json(http.MethodPost, mail.PathContact, `{"name":"Dana","email":"dana@example.test","message":"once more"}`, ip)
	assert.Equal(t, http.StatusTooManyRequests, a.Status, a.Body)
	// another IP is not limited by it
	a = c.json(http.MethodPost, mail.PathContact, `{"name":"Eve","email":"eve@example.test","message":"hello"}`,
		map[string]string{"X-Forwarded-For": "198.51.100.9"})
	assert.Equal(t, http.StatusAccepted, a.Status, a.Body)
	n, err := app.CountRecords("messages")
	require.NoError(t, err)
	assert.EqualValues(t, 6, n, "the refused request stored nothing")
}

func TestContactErrors(t *testing.T) {
	mp := testkit.StartMailpit(t)
	factory := func(t testing.TB) *tests.TestApp { return newApp(t, mp) }
	scenarios := []tests.ApiScenario{
		{
			Name: "guest sending an empty form", Method: http.MethodPost, URL: mail.PathContact,
			Body: strings.NewReader(`{}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"name":{"code":"validation_required"`, `"email":{"code":"validation_required"`, `"message":{"code":"validation_required"`},
			ExpectedEvents:  map[string]int{"*": 0},
		},
		{
			Name: "guest with a malformed email", Method: http.MethodPost, URL: mail.PathContact,
			Body: strings.NewReader(`{"name":"A","email":"nope","message":"hi"}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"email":{"code":"validation_is_email"`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "guest with only markup as the message", Method: http.MethodPost, URL: mail.PathContact,
			Body: strings.NewReader(`{"name":"A","email":"a@example.test","message":"<script>x</script>"}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"message":{"code":"validation_required"`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "guest creating a message through the records API", Method: http.MethodPost, URL: "/api/collections/messages/records",
			Body: strings.NewReader(`{"name":"A","email":"a@example.test","body":"hi","status":"new"}`), ExpectedStatus: 403,
			ExpectedContent: []string{`"status":403`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "student listing messages", Method: http.MethodGet, URL: "/api/collections/messages/records",
			Headers: fixture.Headers(testkit.Student), ExpectedStatus: 200, ExpectedContent: []string{`"totalItems":0`},
		},
	}
	for _, s := range scenarios {
		s.TestAppFactory = factory
		s.Test(t)
	}
	(&tests.ApiScenario{
		Name: "contact while mail is not configured", Method: http.MethodPost, URL: mail.PathContact,
		Body: strings.NewReader(`{"name":"A","email":"a@example.test","message":"hi"}`), ExpectedStatus: 503,
		ExpectedContent: []string{`"message":"Contact form is not configured."`}, ExpectedEvents: map[string]int{"*": 0},
		TestAppFactory: func(t testing.TB) *tests.TestApp { return newApp(t, nil) },
	}).Test(t)
}

func TestServerFieldsIgnoreAdminValues(t *testing.T) {
	app := newApp(t, nil)
	c := newClient(t, app)
	a := c.json(http.MethodPost, "/api/collections/subscribers/records",
		`{"email":"Imported@Example.test","status":"active","confirmedAt":"2001-01-01 00:00:00.000Z","unsubscribedAt":"2001-01-01 00:00:00.000Z"}`, fixture.Headers(testkit.Admin))
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	sub := subscriber(t, app, "imported@example.test")
	assert.NotContains(t, sub.GetDateTime("confirmedAt").String(), "2001", "confirmedAt is stamped by the server")
	assert.False(t, sub.GetDateTime("confirmedAt").IsZero())
	assert.True(t, sub.GetDateTime("unsubscribedAt").IsZero())

	a = c.json(http.MethodPatch, "/api/collections/subscribers/records/"+sub.Id, `{"status":"unsubscribed","confirmedAt":""}`, fixture.Headers(testkit.Admin))
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	after := subscriber(t, app, "imported@example.test")
	assert.Equal(t, sub.GetDateTime("confirmedAt"), after.GetDateTime("confirmedAt"))
	assert.False(t, after.GetDateTime("unsubscribedAt").IsZero())

	m := save(t, app, "messages", map[string]any{"name": "A", "email": "a@example.test", "body": "hi", "ip": "203.0.113.1"})
	a = c.json(http.MethodPatch, "/api/collections/messages/records/"+m.Id, `{"status":"read","ip":"1.2.3.4"}`, fixture.Headers(testkit.Admin))
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.Contains(t, a.Body, `"status":"read"`)
	assert.Contains(t, a.Body, `"ip":"203.0.113.1"`)
}
