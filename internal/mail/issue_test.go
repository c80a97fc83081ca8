package mail_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/mail"
	"lectern/internal/testkit"
)

func save(t testing.TB, app core.App, collection string, data map[string]any) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(collection)
	require.NoError(t, err)
	r := core.NewRecord(c)
	r.Load(data)
	require.NoError(t, app.Save(r))
	return r
}

func addSubscriber(t testing.TB, app core.App, email, status string, topics ...string) *core.Record {
	t.Helper()
	return save(t, app, "subscribers", map[string]any{"email": email, "status": status, "topics": topics})
}

func addPost(t testing.TB, app core.App, title string, topics ...string) *core.Record {
	t.Helper()
	return save(t, app, "posts", map[string]any{"title": title, "body": "<p>" + title + " explained.</p>",
		"author": testkit.UserAuthor, "status": "published", "topics": topics})
}

func ledger(t testing.TB, app core.App, issueID string) map[string]*core.Record {
	t.Helper()
	rows, err := app.FindAllRecords("newsletterDeliveries", dbx.HashExp{"issue": issueID})
	require.NoError(t, err)
	out := map[string]*core.Record{}
	for _, r := range rows {
		sub, err := app.FindRecordById("subscribers", r.GetString("subscriber"))
		require.NoError(t, err)
		out[sub.GetString("email")] = r
	}
	return out
}

func TestIssueDigestPerTopicHeadersAndOneClickUnsubscribe(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	c := newClient(t, app)

	rust := save(t, app, "topics", map[string]any{"name": "Rust"})
	goPost := addPost(t, app, "Go generics in practice", testkit.TopicGo)
	rustPost := addPost(t, app, "Rust lifetimes untangled", rust.Id)
	addSubscriber(t, app, "go@example.test", "active", testkit.TopicGo)
	addSubscriber(t, app, "all@example.test", "active")
	addSubscriber(t, app, "rust@example.test", "active", rust.Id)
	addSubscriber(t, app, "gone@example.test", "unsubscribed")
	addSubscriber(t, app, "pending@example.test", "pending")

	issue, err := mail.CreateIssue(app, time.Now())
	require.NoError(t, err)
	require.NotNil(t, issue)
	assert.Equal(t, 1, issue.GetInt("number"))
	rows := ledger(t, app, issue.Id)
	require.Len(t, rows, 3, "one ledger row per active subscriber with posts for their topics")

	// the server's worker (started with serve, here by newClient) sends it
	issue = waitIssueSent(t, app, issue.Id)
	for email, r := range ledger(t, app, issue.Id) {
		assert.Equal(t, "sent", r.GetString("status"), email)
		assert.Equal(t, 1, r.GetInt("attempts"), email)
	}
	assert.False(t, issue.GetDateTime("sentAt").IsZero())

	goLink := site + "/posts/" + goPost.GetString("slug")
	rustLink := site + "/posts/" + rustPost.GetString("slug")
	want := map[string]struct{ has, hasNot []string }{
		"go@example.test":   {has: []string{goLink}, hasNot: []string{rustLink}},
		"rust@example.test": {has: []string{rustLink}, hasNot: []string{goLink}},
		"all@example.test":  {has: []string{goLink, rustLink}},
	}
	var goToken string
	for email, w := range want {
		msgs := mp.Messages(t, "to:"+email)
		require.Len(t, msgs, 1, email)
		msg := mp.Message(t, msgs[0].ID)
		h := mp.Headers(t, msgs[0].ID)
		for _, part := range []string{msg.Text, msg.HTML} {
			for _, s := range w.has {
				assert.Contains(t, part, s, email)
			}
			for _, s := range w.hasNot {
				assert.NotContains(t, part, s, email)
			}
		}
		assert.NotContains(t, msg.Text, "<", "%s: the plain-text part is text, not markup", email)
		assert.Contains(t, msg.Text, "Lectern #1")
		assert.Equal(t, "List-Unsubscribe=One-Click", h.Get("List-Unsubscribe-Post"), email)
		lu := h.Get("List-Unsubscribe")
		require.True(t, strings.HasPrefix(lu, "<"+site+mail.PathUnsubscribe+"?token=") && strings.HasSuffix(lu, ">"), "%s: List-Unsubscribe %q", email, lu)
		// the visible link (site page) carries the same token
		headerToken := tokenIn(t, lu, site+mail.PathUnsubscribe)
		assert.Equal(t, headerToken, tokenIn(t, msg.HTML, site+"/newsletter/unsubscribe?token="), email)
		assert.Equal(t, headerToken, tokenIn(t, msg.Text, site+"/newsletter/unsubscribe?token="), email)
		assert.Equal(t, ledger(t, app, issue.Id)[email].GetString("messageId"), "<"+msgs[0].MessageID+">", email)
		if email == "go@example.test" {
			goToken = lu[1 : len(lu)-1]
		}
	}
	for _, email := range []string{"gone@example.test", "pending@example.test"} {
		assert.Empty(t, mp.Messages(t, "to:"+email), email)
	}

	// RFC 8058: the mail client POSTs the header's URL, no cookie, no auth
	u, err := url.Parse(goToken)
	require.NoError(t, err)
	a := c.do(http.MethodPost, u.RequestURI(), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil)
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	sub := subscriber(t, app, "go@example.test")
	assert.Equal(t, "unsubscribed", sub.GetString("status"))
	assert.False(t, sub.GetDateTime("unsubscribedAt").IsZero())
	// repeated (a client retrying): still 200
	require.Equal(t, http.StatusOK, c.do(http.MethodPost, u.RequestURI(), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil).Status)

	// the next issue: the unsubscribed address gets nothing more
	addPost(t, app, "Go iterators", testkit.TopicGo)
	issue2, err := mail.CreateIssue(app, time.Now())
	require.NoError(t, err)
	require.NotNil(t, issue2)
	assert.Equal(t, 2, issue2.GetInt("number"))
	rows = ledger(t, app, issue2.Id)
	assert.Len(t, rows, 1)
	assert.Contains(t, rows, "all@example.test", "only posts since issue #1, for matching topics")
	waitIssueSent(t, app, issue2.Id)
	assert.Len(t, mp.Messages(t, "to:go@example.test"), 1)
	msgs := mp.Messages(t, "to:all@example.test")
	require.Len(t, msgs, 2)
	second := mp.Message(t, msgs[0].ID)
	assert.Contains(t, second.Text, "Go iterators")
	assert.NotContains(t, second.Text, "Go generics in practice", "issue #2 holds only the posts since issue #1")

	// nothing new: no issue
	issue3, err := mail.CreateIssue(app, time.Now())
	require.NoError(t, err)
	assert.Nil(t, issue3)
}

func TestUnsubscribedBeforeTheirTurnGetsNothing(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	a := addSubscriber(t, app, "a@example.test", "active")
	addSubscriber(t, app, "b@example.test", "active")
	issue, err := mail.CreateIssue(app, time.Now())
	require.NoError(t, err)
	require.NoError(t, mail.Unsubscribe(app, a.Id))
	require.NoError(t, mail.SendIssue(context.Background(), app, issue.Id, 6000, nil))
	assert.Empty(t, mp.Messages(t, "to:a@example.test"))
	assert.Len(t, mp.Messages(t, "to:b@example.test"), 1)
	assert.Equal(t, "skipped", ledger(t, app, issue.Id)["a@example.test"].GetString("status"))
}

// TestInFlightAtCrashIsResentWithSameMessageID simulates a process dying
// right after the SMTP server accepted a message and before its ledger row
// was marked sent: the goroutine sending it exits at that point. The resumed
// send mails that subscriber again, with the same Message-ID, and nobody else
// twice. (reliability/TestNewsletterKill does it with kill -9 on the binary.)
func TestInFlightAtCrashIsResentWithSameMessageID(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	for _, e := range []string{"a", "b", "c", "d", "e"} {
		addSubscriber(t, app, e+"@example.test", "active")
	}
	issue, err := mail.CreateIssue(app, time.Now())
	require.NoError(t, err)

	orig := mail.Lease
	mail.Lease = 300 * time.Millisecond
	t.Cleanup(func() { mail.Lease = orig })

	var sends atomic.Int32
	app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{
		Func: func(e *core.MailerEvent) error {
			err := e.Next()
			if sends.Add(1) == 3 {
				// the third message was accepted; this worker "dies" now
				panic(crash{})
			}
			return err
		},
		Priority: -99997, // after the hook that sends through mailpit
	})
	done := make(chan any)
	go func() {
		defer func() { done <- recover() }()
		_ = mail.SendIssue(context.Background(), app, issue.Id, 6000, nil)
	}()
	require.Equal(t, crash{}, <-done)
	var crashed []*core.Record
	for _, r := range ledger(t, app, issue.Id) {
		if r.GetString("status") == "sending" {
			crashed = append(crashed, r)
		}
	}
	require.Len(t, crashed, 1, "the message in flight is left 'sending'")

	require.NoError(t, mail.SendIssue(context.Background(), app, issue.Id, 6000, nil))
	all := mp.Messages(t)
	require.Len(t, all, 6, "5 subscribers, 1 message repeated")
	perTo := map[string][]string{}
	for _, m := range all {
		perTo[m.To[0].Address] = append(perTo[m.To[0].Address], m.MessageID)
	}
	for email, ids := range perTo {
		r := ledger(t, app, issue.Id)[email]
		assert.Equal(t, "sent", r.GetString("status"), email)
		if r.Id == crashed[0].Id {
			require.Len(t, ids, 2, email)
			assert.Equal(t, ids[0], ids[1], "the repeat has the same Message-ID")
			assert.Equal(t, 2, r.GetInt("attempts"))
		} else {
			assert.Len(t, ids, 1, email)
		}
	}
	assert.Len(t, perTo, 5)
}

type crash struct{}

func waitIssueSent(t testing.TB, app core.App, id string) *core.Record {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		issue, err := app.FindRecordById("newsletterIssues", id)
		require.NoError(t, err)
		if issue.GetString("status") == "sent" {
			return issue
		}
		if time.Now().After(deadline) {
			t.Fatalf("issue %s still %q after 30s", id, issue.GetString("status"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPlanIssueIsADryRun(t *testing.T) {
	app := newApp(t, nil)
	addSubscriber(t, app, "a@example.test", "active", testkit.TopicGo)
	addSubscriber(t, app, "b@example.test", "active")
	p, err := mail.PlanIssue(app, time.Now())
	require.NoError(t, err)
	assert.Len(t, p.Recipients, 2)
	assert.Equal(t, map[string]int{"": 1, "Go": 1}, p.PerTopic)
	n, err := app.CountRecords("newsletterIssues")
	require.NoError(t, err)
	assert.Zero(t, n)
}
