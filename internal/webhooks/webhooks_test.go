package webhooks_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/apidocs"
	"lectern/internal/testkit"
	"lectern/internal/webhooks"
)

// The specification's published example (Standard Webhooks, "Signature
// scheme"), reproduced by the test's own implementation.
func TestSpecVector(t *testing.T) {
	got, err := specSign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`))
	require.NoError(t, err)
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", got)
}

func TestDeliveryShapeAndSignature(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, nil)
	hook := e.addWebhook(t, rc, "topics.create", "topics.update", "topics.delete")

	topic := e.newTopic(t, e.app, "Webhooks")
	topic.Set("description", "Signed posts")
	require.NoError(t, e.app.Save(topic))
	require.NoError(t, e.app.Delete(topic))

	waitFor(t, 10*time.Second, "three deliveries", func() bool { return len(rc.requests()) == 3 })
	got := rc.requests()
	for i, want := range []string{"create", "update", "delete"} {
		r := got[i]
		require.NoError(t, r.VerifyErr, "signature of %s", want)
		assert.Equal(t, "application/json", r.ContentType)
		var env struct {
			Type      string `json:"type"`
			Timestamp string `json:"timestamp"`
			Data      struct {
				Collection string         `json:"collection"`
				Action     string         `json:"action"`
				Record     map[string]any `json:"record"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &env))
		assert.Equal(t, "topics."+want, env.Type)
		assert.Equal(t, "topics", env.Data.Collection)
		assert.Equal(t, want, env.Data.Action)
		assert.Equal(t, topic.Id, env.Data.Record["id"])
		ts, err := time.Parse(time.RFC3339, env.Timestamp)
		require.NoError(t, err, "timestamp is RFC 3339")
		assert.WithinDuration(t, time.Now(), ts, time.Minute)
		// webhook-id is the delivery's id
		d := e.delivery(t, r.ID)
		assert.Equal(t, hook.Id, d.GetString("webhook"))
		assert.Equal(t, "topics."+want, d.GetString("type"))
	}
	assert.Equal(t, "Signed posts", recordOf(t, got[1].Body)["description"])
	for _, d := range e.deliveries(t, hook.Id) {
		waitFor(t, 5*time.Second, "delivered", e.statusIs(d.Id, webhooks.StatusDelivered))
		d = e.delivery(t, d.Id)
		assert.Equal(t, 1, d.GetInt("attempts"))
		assert.Equal(t, 200, d.GetInt("lastStatus"))
		assert.False(t, d.GetDateTime("deliveredAt").IsZero())
	}
}

func recordOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var env struct {
		Data struct {
			Record map[string]any `json:"record"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &env))
	return env.Data.Record
}

// The payload's record is what an admin reads through the API: for a user,
// no password hash, no token key, no hidden email.
func TestPayloadIsTheAdminsView(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, nil)
	e.addWebhook(t, rc, "users.update", "posts.update")

	u, err := e.app.FindRecordById("users", testkit.UserStudent)
	require.NoError(t, err)
	u.Set("bio", "Changed bio")
	u.SetPassword("Another-pass-456")
	u.SetEmailVisibility(false)
	require.NoError(t, e.app.Save(u))

	p, err := e.app.FindRecordById("posts", testkit.PostPublished)
	require.NoError(t, err)
	p.Set("title", "A new title")
	require.NoError(t, e.app.Save(p))

	waitFor(t, 10*time.Second, "two deliveries", func() bool { return len(rc.requests()) == 2 })
	got := rc.requests()
	user := recordOf(t, got[0].Body)
	assert.Equal(t, "Changed bio", user["bio"])
	for _, secret := range []string{"password", "tokenKey", "email"} {
		assert.NotContains(t, user, secret)
	}
	assert.NotContains(t, string(got[0].Body), u.TokenKey())

	// the same fields and values as the admin's GET of the record
	code, body := e.call(t, http.MethodGet, "/api/collections/users/records/"+u.Id, testkit.Admin, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	var api map[string]any
	require.NoError(t, json.Unmarshal(body, &api))
	assert.Equal(t, api, user)

	code, body = e.call(t, http.MethodGet, "/api/collections/posts/records/"+p.Id, testkit.Admin, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	api = nil
	require.NoError(t, json.Unmarshal(body, &api))
	assert.Equal(t, api, recordOf(t, got[1].Body))
}

func TestRolledBackWriteSendsNothing(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, nil)
	hook := e.addWebhook(t, rc, "*")

	errAbort := errors.New("abort")
	err := e.app.RunInTransaction(func(tx core.App) error {
		e.newTopic(t, tx, "Rolled back")
		return errAbort
	})
	require.ErrorIs(t, err, errAbort)
	// a write refused by validation (empty comment body) writes nothing either
	code, body := e.call(t, http.MethodPost, "/api/collections/comments/records", testkit.Student,
		map[string]any{"post": testkit.PostPublished, "body": ""})
	require.Equal(t, http.StatusBadRequest, code, "%s", body)

	// a committed write afterwards: once it is delivered, anything before it
	// (same webhook, delivered in order) would have been too
	kept := e.newTopic(t, e.app, "Committed")
	waitFor(t, 10*time.Second, "the committed write's delivery", func() bool { return len(rc.requests()) >= 1 })
	ds := e.deliveries(t, hook.Id)
	require.Len(t, ds, 1, "only the committed write has a delivery row")
	waitFor(t, 5*time.Second, "delivered", e.statusIs(ds[0].Id, webhooks.StatusDelivered))
	got := rc.requests()
	require.Len(t, got, 1)
	assert.Equal(t, kept.Id, recordOf(t, got[0].Body)["id"])
}

func TestRetryKeepsTheWebhookID(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "database down")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	hook := e.addWebhook(t, rc, "topics.create")
	e.newTopic(t, e.app, "Retried")

	waitFor(t, 10*time.Second, "two attempts", func() bool { return len(rc.requests()) == 2 })
	got := rc.requests()
	assert.Equal(t, got[0].ID, got[1].ID, "the same webhook-id on the retry")
	assert.Equal(t, string(got[0].Body), string(got[1].Body), "the same body")
	for _, r := range got {
		assert.NoError(t, r.VerifyErr)
	}
	ds := e.deliveries(t, hook.Id)
	require.Len(t, ds, 1)
	waitFor(t, 5*time.Second, "delivered", e.statusIs(ds[0].Id, webhooks.StatusDelivered))
	d := e.delivery(t, ds[0].Id)
	assert.Equal(t, 2, d.GetInt("attempts"), "the second attempt counts")
	assert.Equal(t, 200, d.GetInt("lastStatus"))
	assert.Equal(t, "", d.GetString("lastError"))
}

func TestFailuresThenDead(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	hook := e.addWebhook(t, rc, "topics.create")
	e.newTopic(t, e.app, "Dead")
	waitFor(t, 10*time.Second, "three attempts", func() bool { return len(rc.requests()) == 3 })
	ds := e.deliveries(t, hook.Id)
	require.Len(t, ds, 1)
	waitFor(t, 5*time.Second, "dead", e.statusIs(ds[0].Id, webhooks.StatusDead))
	d := e.delivery(t, ds[0].Id)
	assert.Equal(t, 3, d.GetInt("attempts"), "one attempt and one per step of the schedule")
	assert.Equal(t, 502, d.GetInt("lastStatus"))
	assert.Contains(t, d.GetString("lastError"), "HTTP 502")
}

func TestRetryAfterHonoured(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	hook := e.addWebhook(t, rc, "topics.create")
	e.newTopic(t, e.app, "Later")
	d := e.onlyDelivery(t, hook.Id, webhooks.StatusFailed, "a failed attempt")
	assert.Greater(t, time.Until(d.GetDateTime("nextAttemptAt").Time()), 55*time.Minute)
	assert.Equal(t, 429, d.GetInt("lastStatus"))
}

func TestGoneDeactivates(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	hook := e.addWebhook(t, rc, "topics.create")
	e.newTopic(t, e.app, "Gone")
	ds := []*core.Record{}
	waitFor(t, 10*time.Second, "a delivery", func() bool { ds = e.deliveries(t, hook.Id); return len(ds) == 1 })
	waitFor(t, 10*time.Second, "dead", e.statusIs(ds[0].Id, webhooks.StatusDead))
	h, err := e.app.FindRecordById(webhooks.Collection, hook.Id)
	require.NoError(t, err)
	assert.False(t, h.GetBool("active"))
	assert.Equal(t, 1, e.delivery(t, ds[0].Id).GetInt("attempts"), "no retry after 410")

	// an inactive webhook gets no more deliveries
	e.newTopic(t, e.app, "After")
	assert.Len(t, e.deliveries(t, hook.Id), 1)
	assert.Len(t, rc.requests(), 1)
}

func TestRedirectNotFollowedAndTimeout(t *testing.T) {
	opts := fast
	opts.Timeout = 300 * time.Millisecond
	opts.Schedule = []time.Duration{time.Hour}
	e := newEnv(t, opts)
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.srv.URL, http.StatusTemporaryRedirect)
	})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	redirecting := e.addWebhook(t, rc, "topics.create")
	hanging := e.addWebhook(t, slow, "topics.create")
	e.newTopic(t, e.app, "Moved")

	for _, c := range []struct {
		hook *core.Record
		want string
	}{{redirecting, "redirects are not followed"}, {hanging, "no answer within"}} {
		d := e.onlyDelivery(t, c.hook.Id, webhooks.StatusFailed, "a failed attempt")
		assert.Contains(t, d.GetString("lastError"), c.want)
	}
	assert.Empty(t, target.requests(), "the redirect's target was not called")
}

func TestConcurrentWritesAllDeliveredOnce(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, nil)
	hook := e.addWebhook(t, rc, "comments.create")
	// one student writing 100 comments at once: past the site's rate limits
	e.app.Settings().RateLimits.Enabled = false

	const n = 100
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			codes[i], _ = e.call(t, http.MethodPost, "/api/collections/comments/records", testkit.Student,
				map[string]any{"post": testkit.PostPublished, "body": fmt.Sprintf("Comment %d", i)})
		})
	}
	wg.Wait()
	for i, c := range codes {
		require.Equal(t, http.StatusOK, c, "comment %d", i)
	}
	waitFor(t, 30*time.Second, "100 deliveries", func() bool { return len(rc.requests()) >= n })
	seenID := map[string]int{}
	bodies := map[string]bool{}
	for _, r := range rc.requests() {
		require.NoError(t, r.VerifyErr)
		seenID[r.ID]++
		bodies[recordOf(t, r.Body)["body"].(string)] = true
	}
	assert.Len(t, seenID, n, "one webhook-id per write")
	for id, k := range seenID {
		assert.Equal(t, 1, k, "delivery %s sent %d times without a failure", id, k)
	}
	assert.Len(t, bodies, n, "every comment's own payload")
	assert.Len(t, e.deliveries(t, hook.Id), n)
}

func TestPrivateAddressRefused(t *testing.T) {
	opts := fast
	opts.AllowPrivate = false
	e := newEnv(t, opts)
	rc := newReceiver(t, nil)

	// an admin cannot save a literal loopback target
	code, body := e.call(t, http.MethodPost, "/api/collections/webhooks/records", testkit.Admin,
		map[string]any{"url": rc.srv.URL, "events": []string{"*"}})
	require.Equal(t, http.StatusBadRequest, code, "%s", body)
	assert.Contains(t, string(body), "validation_webhook_url_private")

	// a name that resolves to loopback at delivery time ("localhost" stands
	// in for a DNS name an attacker points at 127.0.0.1 after the check):
	// saved without the create-time check, refused by the dialer
	c, err := e.app.FindCollectionByNameOrId(webhooks.Collection)
	require.NoError(t, err)
	hook := core.NewRecord(c)
	hook.Load(map[string]any{
		"url":    strings.Replace(rc.srv.URL, "127.0.0.1", "localhost", 1),
		"events": `["topics.create"]`, "active": true, "secret": webhooks.NewSecret(),
	})
	require.NoError(t, e.app.SaveNoValidate(hook))
	e.newTopic(t, e.app, "Private")
	d := e.onlyDelivery(t, hook.Id, webhooks.StatusDead, "dead")
	assert.Contains(t, d.GetString("lastError"), "refused address")
	assert.Contains(t, d.GetString("lastError"), "loopback")
	assert.Empty(t, rc.requests())
}

func TestRefusedAddr(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true,
		"169.254.169.254": true, "fd00:ec2::254": true, "100.100.100.200": true, "0.0.0.0": true,
		"::ffff:127.0.0.1": true, "fe80::1": true, "224.0.0.1": true, "::": true,
		"93.184.215.14": false, "2606:4700::1111": false, "8.8.8.8": false,
	} {
		why := webhooks.RefusedAddr(netip.MustParseAddr(addr))
		assert.Equal(t, refused, why != "", "%s: %q", addr, why)
	}
}

func TestWebhookRecords(t *testing.T) {
	e := newEnv(t, fast)

	// created by an admin without secret or active: both filled in
	code, body := e.call(t, http.MethodPost, "/api/collections/webhooks/records", testkit.Admin,
		map[string]any{"url": "https://hooks.example.com/lectern", "events": []string{"posts.create", "comments.delete"}})
	require.Equal(t, http.StatusOK, code, "%s", body)
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	assert.Equal(t, true, created["active"])
	secret, _ := created["secret"].(string)
	require.True(t, strings.HasPrefix(secret, "whsec_"), secret)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	assert.Len(t, key, 32)

	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"ftp url", map[string]any{"url": "ftp://hooks.example.com/x", "events": []string{"*"}}, "url"},
		{"unknown event", map[string]any{"url": "https://a.example.com", "events": []string{"posts.publish"}}, "events"},
		{"system collection", map[string]any{"url": "https://a.example.com", "events": []string{"_superusers.create"}}, "events"},
		{"no events", map[string]any{"url": "https://a.example.com", "events": []string{}}, "events"},
		{"bad secret", map[string]any{"url": "https://a.example.com", "events": []string{"*"}, "secret": "hunter2"}, "secret"},
	}
	for _, c := range bad {
		code, body := e.call(t, http.MethodPost, "/api/collections/webhooks/records", testkit.Admin, c.body)
		assert.Equal(t, http.StatusBadRequest, code, "%s: %s", c.name, body)
		var res struct {
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(body, &res))
		assert.Contains(t, res.Data, c.field, c.name)
	}

	// other roles: a create refused by rule is a 400, lists are empty
	for _, who := range []string{testkit.Guest, testkit.Student, testkit.Author, testkit.Instructor} {
		code, _ := e.call(t, http.MethodPost, "/api/collections/webhooks/records", who,
			map[string]any{"url": "https://evil.example.com", "events": []string{"*"}})
		assert.Equal(t, http.StatusBadRequest, code, who)
		for _, coll := range []string{"webhooks", "webhookDeliveries"} {
			code, body := e.call(t, http.MethodGet, "/api/collections/"+coll+"/records", who, nil)
			assert.Equal(t, http.StatusOK, code)
			assert.Contains(t, string(body), `"totalItems":0`, "%s listing %s", who, coll)
		}
	}
	code, body = e.call(t, http.MethodGet, "/api/collections/webhooks/records", testkit.Admin, nil)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(body), `"totalItems":1`)
	// deliveries are written by the server only
	code, _ = e.call(t, http.MethodPost, "/api/collections/webhookDeliveries/records", testkit.Admin,
		map[string]any{"webhook": created["id"], "type": "posts.create", "status": "pending"})
	assert.Equal(t, http.StatusForbidden, code)
}

// Derived figures are updated by targeted SQL in hooks/ and produce no
// posts.update delivery (see outbox.go); the comment's own event does.
func TestDerivedCountersSendNoParentUpdate(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, nil)
	e.addWebhook(t, rc, "posts.update", "comments.create")
	code, body := e.call(t, http.MethodPost, "/api/collections/comments/records", testkit.Student,
		map[string]any{"post": testkit.PostPublished, "body": "Counted"})
	require.Equal(t, http.StatusOK, code, "%s", body)
	waitFor(t, 10*time.Second, "the comment's delivery", func() bool { return len(rc.requests()) >= 1 })
	var types []string
	for _, r := range rc.requests() {
		var env struct{ Type string }
		require.NoError(t, json.Unmarshal(r.Body, &env))
		types = append(types, env.Type)
	}
	assert.Equal(t, []string{"comments.create"}, types)
}

func TestRetryEndpoints(t *testing.T) {
	e := newEnv(t, fast)
	var fail sync.Map
	fail.Store("on", true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if v, _ := fail.Load("on"); v == true {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	hook := e.addWebhook(t, rc, "topics.create")
	before := time.Now().UTC().Add(-time.Second)
	for i := range 3 {
		e.newTopic(t, e.app, fmt.Sprintf("Outage %d", i))
	}
	waitFor(t, 20*time.Second, "three dead deliveries", func() bool {
		n, _ := e.app.CountRecords(webhooks.Deliveries, dbx.HashExp{"webhook": hook.Id, "status": webhooks.StatusDead})
		return n == 3
	})
	ds := e.deliveries(t, hook.Id)
	one := "/api/webhooks/deliveries/" + ds[0].Id + "/retry"
	all := "/api/webhooks/" + hook.Id + "/retry-failed"

	for _, c := range []struct {
		who  string
		want int
	}{{testkit.Guest, 401}, {testkit.Student, 404}, {testkit.Instructor, 404}} {
		code, _ := e.call(t, http.MethodPost, one, c.who, nil)
		assert.Equal(t, c.want, code, "%s retrying one", c.who)
		code, _ = e.call(t, http.MethodPost, all, c.who, map[string]any{"since": before.Format(time.RFC3339)})
		assert.Equal(t, c.want, code, "%s retrying all", c.who)
	}
	code, _ := e.call(t, http.MethodPost, "/api/webhooks/deliveries/nosuchdelivery1/retry", testkit.Admin, nil)
	assert.Equal(t, http.StatusNotFound, code)
	code, body := e.call(t, http.MethodPost, all, testkit.Admin, map[string]any{"since": "yesterday"})
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, string(body), `"since"`)

	// the receiver is back: one delivery, then every failed one since before the outage
	fail.Store("on", false)
	code, body = e.call(t, http.MethodPost, one, testkit.Admin, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	waitFor(t, 10*time.Second, "retried delivery", e.statusIs(ds[0].Id, webhooks.StatusDelivered))
	assert.Equal(t, 204, e.delivery(t, ds[0].Id).GetInt("lastStatus"))

	code, body = e.call(t, http.MethodPost, all, testkit.Superuser, map[string]any{"since": before.Format(time.RFC3339)})
	require.Equal(t, http.StatusOK, code, "%s", body)
	assert.JSONEq(t, `{"retried": 2}`, string(body))
	for _, d := range ds {
		waitFor(t, 10*time.Second, "all delivered", e.statusIs(d.Id, webhooks.StatusDelivered))
	}
	// a since after the outage retries nothing
	code, body = e.call(t, http.MethodPost, all, testkit.Admin, map[string]any{"since": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusOK, code, "%s", body)
	assert.JSONEq(t, `{"retried": 0}`, string(body))
}

func TestFailingForDaysDeactivatesAndMails(t *testing.T) {
	e := newEnv(t, fast)
	e.app.Settings().SMTP.Enabled = true
	e.app.Settings().Meta.SenderAddress = "lectern@example.com"
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	hook := e.addWebhook(t, rc, "topics.create")

	// a delivery that has been failing for six days
	old := types.NowDateTime().Add(-6 * 24 * time.Hour).String()
	_, err := e.app.DB().Insert(webhooks.Deliveries, dbx.Params{
		"id": "oldfailure00001", "webhook": hook.Id, "type": "topics.create", "payload": `{}`,
		"status": webhooks.StatusFailed, "attempts": 5, "nextAttemptAt": types.NowDateTime().Add(time.Hour).String(),
		"lastStatus": 500, "created": old, "updated": old,
	}).Execute()
	require.NoError(t, err)

	e.newTopic(t, e.app, "Still failing")
	waitFor(t, 10*time.Second, "webhook deactivated", func() bool {
		h, err := e.app.FindRecordById(webhooks.Collection, hook.Id)
		return err == nil && !h.GetBool("active")
	})
	var latest *core.Record
	for _, d := range e.deliveries(t, hook.Id) {
		if d.Id != "oldfailure00001" {
			latest = d
		}
	}
	require.NotNil(t, latest)
	waitFor(t, 5*time.Second, "dead", e.statusIs(latest.Id, webhooks.StatusDead))
	assert.Contains(t, e.delivery(t, latest.Id).GetString("lastError"), "deactivated")

	msgs := e.app.TestMailer.Messages()
	require.NotEmpty(t, msgs)
	var to []string
	for _, m := range msgs {
		for _, a := range m.To {
			to = append(to, a.Address)
		}
		assert.Contains(t, m.Subject, "webhook deactivated")
		assert.NotContains(t, m.HTML, hook.GetString("secret"))
	}
	assert.Contains(t, to, testkit.SuperuserEmail)
	admin, err := e.app.FindRecordById("users", testkit.UserAdmin)
	require.NoError(t, err)
	assert.Contains(t, to, admin.Email())
}

// The secret never shows in what a delivery stores.
func TestSecretNotInDeliveries(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	hook := e.addWebhook(t, rc, "topics.create")
	e.newTopic(t, e.app, "Secretive")
	waitFor(t, 10*time.Second, "attempts", func() bool { return len(rc.requests()) >= 1 })
	secret := strings.TrimPrefix(hook.GetString("secret"), "whsec_")
	for _, d := range e.deliveries(t, hook.Id) {
		raw, _ := json.Marshal(d)
		assert.NotContains(t, string(raw), secret)
	}
}

// The retry routes are in the OpenAPI document the server publishes.
func TestRoutesDocumented(t *testing.T) {
	app := fixture.NewApp(t)
	webhooks.RegisterWith(app, fast)
	apidocs.Register(app)
	mux, err := testkit.Handler(app)
	require.NoError(t, err)
	t.Cleanup(app.Cleanup)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, apidocs.PathOpenAPI, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string         `json:"operationId"`
			Responses   map[string]any `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	for path, id := range map[string]string{
		webhooks.RetryDeliveryPath: "webhooks_retryDelivery",
		webhooks.RetryFailedPath:   "webhooks_retryFailed",
	} {
		op, ok := doc.Paths[path]["post"]
		require.True(t, ok, "POST %s documented", path)
		assert.Equal(t, id, op.OperationID)
		for _, code := range []string{"200", "400", "401", "404"} {
			assert.Contains(t, op.Responses, code, "%s answers %s", path, code)
		}
	}
	assert.Contains(t, doc.Paths, "/api/collections/webhooks/records")
	assert.Contains(t, doc.Paths, "/api/collections/webhookDeliveries/records")
	assert.Contains(t, doc.Paths, "/api/collections/webhookAttempts/records")
}
