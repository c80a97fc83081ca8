package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/jobs"
)

// The single mails — a newsletter confirmation, a contact message to each
// admin, a reply notification — are rows of mailOutbox, written in the
// transaction that causes them (so a rolled-back request mails nobody and a
// committed one is mailed even after a crash) and sent by the shared worker
// (internal/jobs). The request never waits for SMTP, so its timing says
// nothing about whether a mail went out.
//
// A row is re-sent when the process died between the SMTP server's accept
// and the worker recording it: at least once, as every job.

const outboxKey = "lectern.mail.outbox"

var outboxRetries = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}

func registerOutbox(app core.App) {
	q := jobs.New(app, jobs.Config{
		Collection: "mailOutbox",
		Done:       "sent",
		Handle:     sendOutbox,
		Schedule:   outboxRetries,
		Workers:    2,
	})
	app.Store().Set(outboxKey, q)
	q.Register()
}

// enqueue writes one mail row through tx (the causing transaction).
func enqueue(tx core.App, kind, ref, to string) error {
	q, _ := tx.Store().Get(outboxKey).(*jobs.Queue)
	if q == nil {
		return errors.New("mail outbox not registered")
	}
	_, err := q.Enqueue(tx, map[string]any{"kind": kind, "ref": ref, "to": to, "lastError": ""})
	return err
}

func sendOutbox(ctx context.Context, app core.App, job *core.Record) error {
	var err error
	switch job.GetString("kind") {
	case "confirm":
		err = sendConfirmJob(app, job.GetString("ref"))
	case "contact":
		err = sendContactJob(app, job.GetString("ref"), job.GetString("to"))
	case "reply":
		err = notifyReplyJob(app, job.GetString("ref"))
	default:
		err = jobs.Permanent(fmt.Errorf("unknown mail kind %q", job.GetString("kind")))
	}
	if err != nil {
		job.Set("lastError", clip(err.Error()))
	} else {
		job.Set("lastError", "")
	}
	return err
}

// sendConfirmJob mints a confirmation token (stored hashed) and mails its
// link, unless the subscriber is gone or active by now.
func sendConfirmJob(app core.App, subscriberID string) error {
	sub, err := app.FindRecordById("subscribers", subscriberID)
	if err != nil || sub.GetString("status") == "active" {
		return nil
	}
	token, err := mintToken(app, sub.Id, purposeConfirm, ConfirmTTL)
	if err != nil {
		return err
	}
	return sendConfirmation(app, sub.GetString("email"), token)
}
