package mail_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/mail"
	"lectern/internal/testkit"
)

func subscriber(t testing.TB, app core.App, email string) *core.Record {
	t.Helper()
	r, err := app.FindFirstRecordByData("subscribers", "email", email)
	require.NoError(t, err, "subscriber %s", email)
	return r
}

func TestSubscribeConfirmFlow(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	c := newClient(t, app)

	a := c.json(http.MethodPost, mail.PathSubscribe, `{"email":" Reader@Example.TEST ","topics":["`+testkit.TopicGo+`"]}`, nil)
	require.Equal(t, http.StatusAccepted, a.Status, a.Body)
	require.JSONEq(t, `{}`, a.Body)
	sub := subscriber(t, app, "reader@example.test")
	assert.Equal(t, "pending", sub.GetString("status"))
	assert.Equal(t, []string{testkit.TopicGo}, sub.GetStringSlice("topics"))

	msgs := mp.WaitFor(t, 1, "to:reader@example.test", 10*time.Second)
	msg := mp.Message(t, msgs[0].ID)
	assert.Equal(t, "Lectern", msg.From.Name)
	assert.Equal(t, "hello@lectern.example", msg.From.Address)
	assert.Contains(t, msg.Subject, "Confirm your Lectern newsletter subscription")
	token := tokenIn(t, msg.Text, site+"/newsletter/confirm?token=")
	assert.Equal(t, token, tokenIn(t, msg.HTML, site+"/newsletter/confirm?token="), "the HTML and text parts carry the same link")
	assert.GreaterOrEqual(t, len(token), 40)

	// only the hash is stored, nowhere the token itself
	toks, err := app.FindAllRecords("newsletterTokens", dbx.HashExp{"subscriber": sub.Id})
	require.NoError(t, err)
	require.Len(t, toks, 1)
	assert.Equal(t, mail.HashToken(token), toks[0].GetString("hash"))
	for _, r := range toks {
		for k, v := range r.FieldsData() {
			if s, ok := v.(string); ok {
				assert.NotContains(t, s, token, "field %s holds the token", k)
			}
		}
	}

	// asking again within the hour: the same 202, no second mail
	for range 3 {
		a = c.json(http.MethodPost, mail.PathSubscribe, `{"email":"reader@example.test"}`, nil)
		require.Equal(t, http.StatusAccepted, a.Status, a.Body)
	}
	require.NoError(t, mail.WaitOutbox(app))
	assert.Len(t, mp.Messages(t, "to:reader@example.test"), 1, "one confirmation mail per address per hour")

	// a GET of the confirmation page link changes nothing (mail scanners)
	assert.Equal(t, "pending", subscriber(t, app, "reader@example.test").GetString("status"))

	a = c.json(http.MethodPost, mail.PathConfirm, `{"token":"`+token+`"}`, nil)
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.JSONEq(t, `{"email":"reader@example.test","status":"active"}`, a.Body)
	sub = subscriber(t, app, "reader@example.test")
	assert.Equal(t, "active", sub.GetString("status"))
	assert.False(t, sub.GetDateTime("confirmedAt").IsZero())

	// single use
	a = c.json(http.MethodPost, mail.PathConfirm, `{"token":"`+token+`"}`, nil)
	require.Equal(t, http.StatusBadRequest, a.Status, a.Body)
	assert.Contains(t, a.Body, `"token":{"code":"validation_invalid_token"`)

	// an active address asking again: 202 and no mail (nobody learns it is subscribed)
	a = c.json(http.MethodPost, mail.PathSubscribe, `{"email":"reader@example.test"}`, nil)
	require.Equal(t, http.StatusAccepted, a.Status)
	require.JSONEq(t, `{}`, a.Body)
	require.NoError(t, mail.WaitOutbox(app))
	assert.Len(t, mp.Messages(t, "to:reader@example.test"), 1)
}

func TestConfirmationTokenExpires(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	c := newClient(t, app)
	require.Equal(t, http.StatusAccepted, c.json(http.MethodPost, mail.PathSubscribe, `{"email":"late@example.test"}`, nil).Status)
	msgs := mp.WaitFor(t, 1, "to:late@example.test", 10*time.Second)
	token := tokenIn(t, mp.Message(t, msgs[0].ID).Text, site+"/newsletter/confirm?token=")
	_, err := app.DB().NewQuery("UPDATE newsletterTokens SET expiresAt = '2020-01-01 00:00:00.000Z'").Execute()
	require.NoError(t, err)
	a := c.json(http.MethodPost, mail.PathConfirm, `{"token":"`+token+`"}`, nil)
	require.Equal(t, http.StatusBadRequest, a.Status, a.Body)
	assert.Equal(t, "pending", subscriber(t, app, "late@example.test").GetString("status"))
}

func TestSignedInVerifiedUserSubscribesInOneClick(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	c := newClient(t, app)
	a := c.json(http.MethodPost, mail.PathSubscribe, `{}`, fixture.Headers(testkit.Student))
	require.Equal(t, http.StatusAccepted, a.Status, a.Body)
	sub := subscriber(t, app, "student@lectern.test")
	assert.Equal(t, "active", sub.GetString("status"))
	assert.Equal(t, "account", sub.GetString("source"))
	require.NoError(t, mail.WaitOutbox(app))
	assert.Empty(t, mp.Messages(t, "to:student@lectern.test"), "a verified account needs no confirmation mail")

	// someone else's address from a signed-in account still needs the owner's confirmation
	a = c.json(http.MethodPost, mail.PathSubscribe, `{"email":"friend@example.test"}`, fixture.Headers(testkit.Student))
	require.Equal(t, http.StatusAccepted, a.Status, a.Body)
	assert.Equal(t, "pending", subscriber(t, app, "friend@example.test").GetString("status"))
	mp.WaitFor(t, 1, "to:friend@example.test", 10*time.Second)
}

func TestNewsletterRequestErrors(t *testing.T) {
	mp := testkit.StartMailpit(t)
	factory := func(t testing.TB) *tests.TestApp { return newApp(t, mp) }
	scenarios := []tests.ApiScenario{
		{
			Name: "guest subscribing with a malformed email", Method: http.MethodPost, URL: mail.PathSubscribe,
			Body: strings.NewReader(`{"email":"not-an-email"}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"email":{"code":"validation_is_email"`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "guest subscribing without an email", Method: http.MethodPost, URL: mail.PathSubscribe,
			Body: strings.NewReader(`{}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"email":{"code":"validation_required"`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "guest subscribing to an unknown topic", Method: http.MethodPost, URL: mail.PathSubscribe,
			Body: strings.NewReader(`{"email":"a@example.test","topics":["nope"]}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"topics":{"code":"validation_unknown_topic"`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "guest confirming with a made-up token", Method: http.MethodPost, URL: mail.PathConfirm,
			Body: strings.NewReader(`{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"token":{"code":"validation_invalid_token"`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "one-click unsubscribe with a made-up token", Method: http.MethodPost,
			URL:  mail.PathUnsubscribe + "?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			Body: strings.NewReader(`List-Unsubscribe=One-Click`), Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			ExpectedStatus: 400, ExpectedContent: []string{`"token"`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "guest listing subscribers", Method: http.MethodGet, URL: "/api/collections/subscribers/records",
			ExpectedStatus: 200, ExpectedContent: []string{`"totalItems":0`},
		},
		{
			Name: "student listing newsletter tokens", Method: http.MethodGet, URL: "/api/collections/newsletterTokens/records",
			Headers: fixture.Headers(testkit.Student), ExpectedStatus: 403,
			ExpectedContent: []string{`"status":403`}, ExpectedEvents: map[string]int{"*": 0},
		},
		{
			Name: "admin setting a schedule that is not a cron expression", Method: http.MethodPatch,
			URL:  "/api/collections/newsletterSettings/records/" + settingsID(t),
			Body: strings.NewReader(`{"schedule":"every monday"}`), Headers: fixture.Headers(testkit.Admin),
			ExpectedStatus: 400, ExpectedContent: []string{`"schedule":{"code":"validation_invalid_cron"`},
		},
	}
	for _, s := range scenarios {
		s.TestAppFactory = factory
		s.Test(t)
	}

	// a fresh install has no SMTP: the contract's 503, nothing stored
	(&tests.ApiScenario{
		Name: "subscribing while mail is not configured", Method: http.MethodPost, URL: mail.PathSubscribe,
		Body: strings.NewReader(`{"email":"a@example.test"}`), ExpectedStatus: 503,
		ExpectedContent: []string{`"message":"Newsletter is not configured."`}, ExpectedEvents: map[string]int{"*": 0},
		TestAppFactory: func(t testing.TB) *tests.TestApp { return newApp(t, nil) },
	}).Test(t)
}

func settingsID(t testing.TB) string {
	app := fixture.NewApp(t)
	defer app.Cleanup()
	r, err := app.FindFirstRecordByFilter("newsletterSettings", "")
	require.NoError(t, err)
	return r.Id
}
