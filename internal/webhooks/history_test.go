package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
	"lectern/internal/webhooks"
)

func (e *env) attempts(t *testing.T, delivery string) []*core.Record {
	t.Helper()
	rs, err := e.app.FindRecordsByFilter(webhooks.Attempts, "delivery = {:d}", "attempt", 0, 0, dbx.Params{"d": delivery})
	require.NoError(t, err)
	return rs
}

func (e *env) stopWorker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.svc.Queue().Stop(ctx))
}

func (e *env) count(t *testing.T, collection string) int {
	t.Helper()
	n, err := e.app.CountRecords(collection)
	require.NoError(t, err)
	return int(n)
}

// Every attempt leaves a row: when, the status, the error, how long, the
// start of the answer; admins read them through the API, others see none.
func TestAttemptHistory(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "database down")
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	hook := e.addWebhook(t, rc, "topics.create")
	before := time.Now().Add(-time.Second)
	e.newTopic(t, e.app, "Attempted")

	d := e.onlyDelivery(t, hook.Id, webhooks.StatusDelivered, "delivered after a retry")
	as := e.attempts(t, d.Id)
	require.Len(t, as, 2)
	first, second := as[0], as[1]
	assert.Equal(t, 1, first.GetInt("attempt"))
	assert.Equal(t, 500, first.GetInt("status"))
	assert.Equal(t, "HTTP 500: database down", first.GetString("error"))
	assert.Equal(t, "database down", first.GetString("response"))
	assert.Equal(t, 2, second.GetInt("attempt"))
	assert.Equal(t, 200, second.GetInt("status"))
	assert.Equal(t, "", second.GetString("error"))
	assert.Equal(t, `{"ok":true}`, second.GetString("response"))
	for _, a := range as {
		assert.Equal(t, hook.Id, a.GetString("webhook"))
		assert.GreaterOrEqual(t, a.GetInt("durationMs"), 0)
		assert.True(t, a.GetDateTime("created").Time().After(before), "attempted at %s", a.GetDateTime("created"))
	}
	assert.False(t, second.GetDateTime("created").Time().Before(first.GetDateTime("created").Time()))

	// through the API: admins and superusers list them, nobody else
	path := "/api/collections/webhookAttempts/records?filter=" + "delivery%3D%27" + d.Id + "%27&sort=attempt"
	for _, who := range []string{testkit.Admin, testkit.Superuser} {
		code, body := e.call(t, http.MethodGet, path, who, nil)
		require.Equal(t, http.StatusOK, code, "%s", body)
		var res struct {
			Items []struct {
				Attempt  int    `json:"attempt"`
				Status   int    `json:"status"`
				Error    string `json:"error"`
				Response string `json:"response"`
			} `json:"items"`
		}
		require.NoError(t, json.Unmarshal(body, &res))
		require.Len(t, res.Items, 2, who)
		assert.Equal(t, 500, res.Items[0].Status)
		assert.Equal(t, "database down", res.Items[0].Response)
	}
	for _, who := range []string{testkit.Guest, testkit.Student, testkit.Author, testkit.Instructor} {
		code, body := e.call(t, http.MethodGet, path, who, nil)
		assert.Equal(t, http.StatusOK, code)
		assert.Contains(t, string(body), `"totalItems":0`, who)
		code, _ = e.call(t, http.MethodGet, "/api/collections/webhookAttempts/records/"+first.Id, who, nil)
		assert.Equal(t, http.StatusNotFound, code, who)
	}
	code, _ := e.call(t, http.MethodPost, "/api/collections/webhookAttempts/records", testkit.Admin,
		map[string]any{"delivery": d.Id, "webhook": hook.Id, "attempt": 3})
	assert.Equal(t, http.StatusForbidden, code, "attempts are written by the server only")
	// the outbox events are superuser-only, and empty once fanned out
	code, body := e.call(t, http.MethodGet, "/api/collections/webhookEvents/records", testkit.Admin, nil)
	assert.Equal(t, http.StatusForbidden, code, "%s", body)
	assert.Equal(t, 0, e.count(t, webhooks.Events))
}

// A delivery sent again by hand for ever keeps only its last 20 attempts.
func TestAttemptHistoryIsCapped(t *testing.T) {
	e := newEnv(t, fast)
	rc := newReceiver(t, nil)
	hook := e.addWebhook(t, rc, "topics.create")
	now := types.NowDateTime().String()
	_, err := e.app.DB().Insert(webhooks.Deliveries, dbx.Params{
		"id": "oftenretried001", "webhook": hook.Id, "type": "topics.create", "payload": `{"type":"topics.create"}`,
		"status": webhooks.StatusDead, "attempts": 20, "lastStatus": 500, "created": now, "updated": now,
	}).Execute()
	require.NoError(t, err)
	for i := 1; i <= 20; i++ {
		_, err := e.app.DB().Insert(webhooks.Attempts, dbx.Params{
			"id": fmt.Sprintf("oldattempt%05d", i), "delivery": "oftenretried001", "webhook": hook.Id,
			"attempt": i, "status": 500, "error": "HTTP 500", "created": now,
		}).Execute()
		require.NoError(t, err)
	}
	code, body := e.call(t, http.MethodPost, "/api/webhooks/deliveries/oftenretried001/retry", testkit.Admin, nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	waitFor(t, 10*time.Second, "delivered", e.statusIs("oftenretried001", webhooks.StatusDelivered))
	as := e.attempts(t, "oftenretried001")
	require.Len(t, as, 20)
	assert.Equal(t, 2, as[0].GetInt("attempt"), "the oldest went")
	assert.Equal(t, 21, as[19].GetInt("attempt"))
	assert.Equal(t, 200, as[19].GetInt("status"))
}

// The write commits an event; the deliveries come from it after the commit,
// even when the worker was not running at the write (a crash right after
// the commit), and only for the webhooks that matched at the write and
// still exist.
func TestEventsFanOutAfterTheCommit(t *testing.T) {
	e := newEnv(t, fast)
	kept, gone, later := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	keptHook := e.addWebhook(t, kept, "topics.create")
	goneHook := e.addWebhook(t, gone, "topics.create")

	e.stopWorker(t)
	topic := e.newTopic(t, e.app, "Waiting")
	assert.Equal(t, 1, e.count(t, webhooks.Events), "one event for two webhooks")
	assert.Equal(t, 0, e.count(t, webhooks.Deliveries), "no delivery before the worker fans it out")
	require.NoError(t, e.app.Delete(goneHook))
	laterHook := e.addWebhook(t, later, "topics.create") // did not match at the write

	e.svc.Start()
	waitFor(t, 10*time.Second, "the kept webhook's delivery", func() bool { return len(kept.requests()) == 1 })
	assert.Equal(t, topic.Id, recordOf(t, kept.requests()[0].Body)["id"])
	ds := e.deliveries(t, keptHook.Id)
	require.Len(t, ds, 1)
	waitFor(t, 5*time.Second, "delivered", e.statusIs(ds[0].Id, webhooks.StatusDelivered))
	assert.Equal(t, 0, e.count(t, webhooks.Events))
	assert.Empty(t, gone.requests())
	assert.Empty(t, later.requests())
	assert.Empty(t, e.deliveries(t, laterHook.Id))
	assert.Equal(t, 1, e.count(t, webhooks.Deliveries))
}

// The retention job removes old delivered and dead deliveries with their
// attempts, keeps pending and failed ones, recent ones, and each webhook's
// last success.
func TestRetention(t *testing.T) {
	opts := fast
	opts.Retention = webhooks.Retention{Delivered: 30 * 24 * time.Hour, Dead: 90 * 24 * time.Hour}
	e := newEnv(t, opts)
	e.stopWorker(t)
	rc := newReceiver(t, nil)
	hook := e.addWebhook(t, rc, "topics.create")
	other := e.addWebhook(t, newReceiver(t, nil), "topics.create")

	daysAgo := func(d int) string { return types.NowDateTime().Add(-time.Duration(d) * 24 * time.Hour).String() }
	add := func(id, webhook, status string, age int) {
		t.Helper()
		delivered := ""
		if status == webhooks.StatusDelivered {
			delivered = daysAgo(age)
		}
		_, err := e.app.DB().Insert(webhooks.Deliveries, dbx.Params{
			"id": id, "webhook": webhook, "type": "topics.create", "payload": `{}`, "status": status,
			"attempts": 1, "deliveredAt": delivered, "nextAttemptAt": types.NowDateTime().Add(time.Hour).String(),
			"created": daysAgo(age), "updated": daysAgo(age),
		}).Execute()
		require.NoError(t, err)
		_, err = e.app.DB().Insert(webhooks.Attempts, dbx.Params{
			"id": "a" + id[1:], "delivery": id, "webhook": webhook, "attempt": 1, "created": daysAgo(age),
		}).Execute()
		require.NoError(t, err)
	}
	add("doldest00000001", hook.Id, webhooks.StatusDelivered, 60)  // removed
	add("dold00000000001", hook.Id, webhooks.StatusDelivered, 40)  // removed
	add("dlastok00000001", hook.Id, webhooks.StatusDelivered, 35)  // kept: the webhook's last success
	add("drecent00000001", other.Id, webhooks.StatusDelivered, 5)  // kept: recent
	add("dotherold000001", other.Id, webhooks.StatusDelivered, 31) // removed: other has a later success
	add("ddeadold0000001", hook.Id, webhooks.StatusDead, 100)      // removed
	add("ddead0000000001", hook.Id, webhooks.StatusDead, 40)       // kept: dead are kept 90 days
	add("dfailed00000001", hook.Id, webhooks.StatusFailed, 200)    // kept: still being retried
	add("dpending0000001", hook.Id, webhooks.StatusPending, 200)   // kept: not sent yet

	n, err := e.svc.Cleanup(time.Now())
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	var left, attemptsLeft []string
	require.NoError(t, e.app.DB().Select("id").From(webhooks.Deliveries).OrderBy("id").Column(&left))
	require.NoError(t, e.app.DB().Select("delivery").From(webhooks.Attempts).OrderBy("delivery").Column(&attemptsLeft))
	want := []string{"ddead0000000001", "dfailed00000001", "dlastok00000001", "dpending0000001", "drecent00000001"}
	assert.Equal(t, want, left)
	assert.Equal(t, want, attemptsLeft, "the attempts go with their delivery")

	// a second run finds nothing more
	n, err = e.svc.Cleanup(time.Now())
	require.NoError(t, err)
	assert.Equal(t, 0, n)

	// the job is on PocketBase's cron
	found := false
	for _, j := range e.app.Cron().Jobs() {
		if j.Id() == "webhooksRetention" {
			found = true
			assert.Equal(t, webhooks.RetentionCron, j.Expression())
		}
	}
	assert.True(t, found, "the retention job is scheduled")
}

func TestRetentionFromEnv(t *testing.T) {
	t.Setenv(webhooks.EnvKeepDays, "7")
	t.Setenv(webhooks.EnvKeepDeadDays, "0")
	r, err := webhooks.RetentionFromEnv()
	require.NoError(t, err)
	assert.Equal(t, 7*24*time.Hour, r.Delivered)
	assert.Less(t, r.Dead, time.Duration(0), "0 keeps for ever")

	t.Setenv(webhooks.EnvKeepDays, "30d")
	_, err = webhooks.RetentionFromEnv()
	assert.ErrorContains(t, err, webhooks.EnvKeepDays)
}
