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

func TestScheduleFromTheDashboardSendsAnIssue(t *testing.T) {
	mp := testkit.StartMailpit(t)
	app := newApp(t, mp)
	c := newClient(t, app)
	cronJob := func() string {
		for _, j := range app.Cron().Jobs() {
			if j.Id() == "lecternNewsletter" {
				return j.Expression()
			}
		}
		return ""
	}
	assert.Empty(t, cronJob(), "no schedule on a fresh install")

	settings, err := app.FindFirstRecordByFilter("newsletterSettings", "")
	require.NoError(t, err)
	a := c.json(http.MethodPatch, "/api/collections/newsletterSettings/records/"+settings.Id, `{"schedule":"0 8 * * 1","ratePerMinute":600}`, fixture.Headers(testkit.Admin))
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.Equal(t, "0 8 * * 1", cronJob())
	assert.Equal(t, 600, mail.RatePerMinute(app))

	// what the cron job runs: the issue is built and the worker sends it
	addSubscriber(t, app, "weekly@example.test", "active")
	mail.RunScheduled(app)
	issues, err := app.FindAllRecords("newsletterIssues")
	require.NoError(t, err)
	require.Len(t, issues, 1)
	waitIssueSent(t, app, issues[0].Id)
	mp.WaitFor(t, 1, "to:weekly@example.test", 10*time.Second)

	a = c.json(http.MethodPatch, "/api/collections/newsletterSettings/records/"+settings.Id, `{"schedule":""}`, fixture.Headers(testkit.Admin))
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.Empty(t, cronJob(), "an empty schedule removes the job")
}
