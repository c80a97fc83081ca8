package mail

import (
	"context"
	"fmt"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"lectern/internal/jobs"
)

// Sending an issue is a job of the shared worker (internal/jobs): the issue
// row is the job, written in the transaction that builds the issue and its
// ledger; the worker starts with `serve`, stops on terminate and, on start,
// picks up every issue not yet sent. Its handler, SendIssue, is idempotent
// by construction: it only ever claims ledger rows that are not done, one
// UPDATE each (see send.go), so a second run — after a crash, or beside
// `lectern newsletter send` — sends nobody's copy twice.

// issueRetries is the wait before the issue's job runs again when copies
// are left for a later retry (SMTP errors): each run resumes the ledger.
var issueRetries = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour,
}

const queueKey = "lectern.mail.issueQueue"

func registerWorker(app core.App) {
	q := jobs.New(app, jobs.Config{
		Collection: "newsletterIssues",
		Done:       "sent",
		Handle:     sendIssueJob,
		Schedule:   issueRetries,
		// one issue at a time, one mail at a time: the rate is per process,
		// and at most one message is ever in flight (the one a crash repeats)
		Workers: 1,
	})
	app.Store().Set(queueKey, q)
	q.Register()
}

func queueOf(app core.App) *jobs.Queue {
	q, _ := app.Store().Get(queueKey).(*jobs.Queue)
	return q
}

// sendIssueJob sends every due copy of the issue at the dashboard's rate.
func sendIssueJob(ctx context.Context, app core.App, issue *core.Record) error {
	if err := SendIssue(ctx, app, issue.Id, RatePerMinute(app), nil); err != nil {
		return err
	}
	p, err := IssueProgress(app, issue.Id)
	if err != nil {
		return err
	}
	if p.Done < p.Total {
		// copies wait for a retry (or another process holds them): run again then
		wait := time.Until(p.NextDue)
		return jobs.RetryAfter(fmt.Errorf("issue #%d: %d of %d copies not done yet", issue.GetInt("number"), p.Total-p.Done, p.Total), max(wait, time.Second))
	}
	issue.Set("sentAt", types.NowDateTime())
	return nil
}
