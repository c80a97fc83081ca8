package mail_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/mail"
	"lectern/internal/testkit"
)

func TestAccountMailLinksToTheSite(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	c := newClient(t, app)

	// an unverified user asks for the verification mail
	save(t, app, "users", map[string]any{"email": "new@example.test", "name": "New Reader", "password": testkit.Password, "verified": false})
	a := c.json(http.MethodPost, "/api/collections/users/request-verification", `{"email":"new@example.test"}`, nil)
	require.Equal(t, http.StatusNoContent, a.Status, a.Body)
	msgs := mp.WaitFor(t, 1, "to:new@example.test", 10*time.Second)
	m := mp.Message(t, msgs[0].ID)
	assert.Equal(t, "Lectern", m.From.Name)
	assert.Contains(t, m.Subject, "Lectern")
	tok := tokenIn(t, m.HTML, site+"/verify?token=")
	// the site page's POST works with the token from the mail
	a = c.json(http.MethodPost, "/api/collections/users/confirm-verification", `{"token":"`+tok+`"}`, nil)
	require.Equal(t, http.StatusNoContent, a.Status, a.Body)

	a = c.json(http.MethodPost, "/api/collections/users/request-password-reset", `{"email":"student@lectern.test"}`, nil)
	require.Equal(t, http.StatusNoContent, a.Status, a.Body)
	msgs = mp.WaitFor(t, 1, "to:student@lectern.test", 10*time.Second)
	m = mp.Message(t, msgs[0].ID)
	tok = tokenIn(t, m.HTML, site+"/reset-password?token=")
	a = c.json(http.MethodPost, "/api/collections/users/confirm-password-reset",
		`{"token":"`+tok+`","password":"New-pass-12345","passwordConfirm":"New-pass-12345"}`, nil)
	require.Equal(t, http.StatusNoContent, a.Status, a.Body)

	a = c.json(http.MethodPost, "/api/collections/users/request-email-change", `{"newEmail":"moved@example.test"}`, fixture.Headers(testkit.Student2))
	require.Equal(t, http.StatusNoContent, a.Status, a.Body)
	msgs = mp.WaitFor(t, 1, "to:moved@example.test", 10*time.Second)
	m = mp.Message(t, msgs[0].ID)
	assert.Contains(t, m.Subject, "Confirm your new Lectern email")
	tok = tokenIn(t, m.HTML, site+"/confirm-email-change?token=")
	a = c.json(http.MethodPost, "/api/collections/users/confirm-email-change", `{"token":"`+tok+`","password":"`+testkit.Password+`"}`, nil)
	require.Equal(t, http.StatusNoContent, a.Status, a.Body)
	u, err := app.FindRecordById("users", testkit.UserStudent2)
	require.NoError(t, err)
	assert.Equal(t, "moved@example.test", u.Email())
}

func TestReplyNotificationAndOptOut(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	c := newClient(t, app)

	// student2 replies to the student's comment: the student is told
	a := c.json(http.MethodPost, "/api/collections/comments/records",
		`{"post":"`+testkit.PostPublished+`","parent":"`+testkit.CommentVisible+`","body":"I disagree, politely."}`, fixture.Headers(testkit.Student2))
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	msgs := mp.WaitFor(t, 1, "to:student@lectern.test", 10*time.Second)
	m := mp.Message(t, msgs[0].ID)
	assert.Contains(t, m.Subject, "Sky Student replied to your comment")
	assert.Contains(t, m.Text, "I disagree, politely.")
	assert.Contains(t, m.Text, site+"/posts/")
	assert.Contains(t, m.Text, site+"/account")

	// replying to yourself mails nobody
	a = c.json(http.MethodPost, "/api/collections/comments/records",
		`{"post":"`+testkit.PostPublished+`","parent":"`+testkit.CommentVisible+`","body":"Adding to my own."}`, fixture.Headers(testkit.Student))
	require.Equal(t, http.StatusOK, a.Status, a.Body)

	// the student turns it off in their profile; others don't see the setting
	a = c.json(http.MethodPatch, "/api/collections/users/records/"+testkit.UserStudent, `{"replyEmailsOff":true}`, fixture.Headers(testkit.Student))
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.Contains(t, a.Body, `"replyEmailsOff":true`)
	other := c.json(http.MethodGet, "/api/collections/users/records/"+testkit.UserStudent, "", fixture.Headers(testkit.Student2))
	require.Equal(t, http.StatusOK, other.Status)
	assert.NotContains(t, other.Body, "replyEmailsOff")

	a = c.json(http.MethodPost, "/api/collections/comments/records",
		`{"post":"`+testkit.PostPublished+`","parent":"`+testkit.CommentVisible+`","body":"Still disagree."}`, fixture.Headers(testkit.Student2))
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	require.NoError(t, mail.WaitOutbox(app))
	assert.Len(t, mp.Messages(t, "to:student@lectern.test"), 1, "one mail: not for the self-reply, not after the opt-out")
}
