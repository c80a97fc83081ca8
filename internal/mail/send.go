package mail

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The delivery ledger (newsletterDeliveries) is the queue of newsletter mail:
// one row per (issue, subscriber), written with the issue. Each row moves
//
//	pending → sending → sent      (or skipped: unsubscribed, nothing for their topics;
//	                               or failed: MaxAttempts SMTP errors)
//
// Claiming a row (pending → sending, with a lease) is one UPDATE, so two
// workers (the server and `lectern newsletter send`) never both send a row.
// The row is marked sent right after the SMTP server accepted the message. A
// process killed between the two leaves the row "sending": when its lease
// runs out it is claimed and sent again — the only mail that can ever go out
// twice, and it carries the same Message-ID (messageID), so mail clients
// show one message.

// Lease is how long a claimed row is left to its worker: after it, the row
// counts as abandoned (its worker died mid-send) and is sent again.
var Lease = 30 * time.Second

// MaxAttempts is how many SMTP failures a row gets before it is "failed".
const MaxAttempts = 5

// retryAfter is the wait before attempt n+1 after a failed attempt n.
func retryAfter(n int) time.Duration {
	return time.Duration(1<<min(n, 8)) * time.Minute
}

func dt(t time.Time) string {
	d, _ := types.ParseDateTime(t.UTC())
	return d.String()
}

// Claim takes the next due ledger row — of issueID, or of any issue when it is
// "" — for this worker: status sending, attempts+1, leased until now+Lease.
// It returns nil when no row is due.
func Claim(app core.App, issueID string, now time.Time) (*core.Record, error) {
	where := "status IN ('pending','sending') AND (leaseUntil = '' OR leaseUntil IS NULL OR leaseUntil <= {:now})"
	if issueID != "" {
		where += " AND issue = {:issue}"
	}
	var row struct {
		ID string `db:"id"`
	}
	err := app.DB().NewQuery(
		"UPDATE newsletterDeliveries SET status = 'sending', attempts = attempts + 1, leaseUntil = {:lease}, updated = {:now} " +
			"WHERE id = (SELECT id FROM newsletterDeliveries WHERE " + where + " ORDER BY created, id LIMIT 1) " +
			"RETURNING id").
		Bind(dbx.Params{"now": dt(now), "lease": dt(now.Add(Lease)), "issue": issueID}).One(&row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // nothing due
	}
	if err != nil {
		return nil, fmt.Errorf("claim a newsletter delivery: %w", err)
	}
	return app.FindRecordById("newsletterDeliveries", row.ID)
}

// Deliver sends one claimed ledger row and records the outcome; it returns
// the row's new status.
func Deliver(app core.App, d *core.Record) (string, error) {
	sub, err := app.FindRecordById("subscribers", d.GetString("subscriber"))
	if err != nil || sub.GetString("status") != "active" {
		return finish(app, d, "skipped", "not an active subscriber")
	}
	issue, err := app.FindRecordById("newsletterIssues", d.GetString("issue"))
	if err != nil {
		return finish(app, d, "skipped", "issue deleted")
	}
	var ids []string
	if err := json.Unmarshal([]byte(issue.GetString("posts")), &ids); err != nil {
		return "", fmt.Errorf("issue %s posts: %w", issue.Id, err)
	}
	posts, err := app.FindRecordsByIds("posts", ids)
	if err != nil {
		return "", fmt.Errorf("issue %s posts: %w", issue.Id, err)
	}
	// a post unpublished since the issue was built is left out
	posts = slices.DeleteFunc(posts, func(p *core.Record) bool { return p.GetString("status") != "published" })
	slices.SortFunc(posts, func(a, b *core.Record) int {
		return b.GetDateTime("publishedAt").Time().Compare(a.GetDateTime("publishedAt").Time())
	})
	posts = postsFor(sub, posts)
	if len(posts) == 0 {
		return finish(app, d, "skipped", "no post for the subscriber's topics")
	}

	// the token is stored (hashed) before the mail leaves: its link works as
	// soon as the mail can be read
	token, err := mintToken(app, sub.Id, purposeUnsubscribe, UnsubscribeTTL)
	if err != nil {
		return "", fmt.Errorf("unsubscribe token: %w", err)
	}
	subject, html, text, err := renderIssue(app, issue, posts, token)
	if err != nil {
		return "", fmt.Errorf("render issue %s: %w", issue.Id, err)
	}
	oneClick := siteURL(app) + PathUnsubscribe + "?token=" + url.QueryEscape(token)
	msgID := d.GetString("messageId")
	if msgID == "" {
		msgID = messageID(app, issue.Id, sub.Id)
	}
	msg := &mailer.Message{
		From:    sender(app),
		To:      []mail.Address{{Address: sub.GetString("email")}},
		Subject: subject,
		HTML:    html,
		Text:    text,
		Headers: map[string]string{
			"Message-ID":            msgID,
			"List-Unsubscribe":      "<" + oneClick + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"List-Id":               app.Settings().Meta.AppName + " newsletter <newsletter." + mailDomain(app) + ">",
			"Precedence":            "bulk",
		},
	}
	if err := app.NewMailClient().Send(msg); err != nil {
		if d.GetInt("attempts") >= MaxAttempts {
			return finish(app, d, "failed", err.Error())
		}
		_, uerr := app.DB().NewQuery(
			"UPDATE newsletterDeliveries SET status = 'pending', leaseUntil = {:next}, lastError = {:err}, updated = {:now} WHERE id = {:id}").
			Bind(dbx.Params{"id": d.Id, "next": dt(time.Now().Add(retryAfter(d.GetInt("attempts")))), "err": clip(err.Error()), "now": dt(time.Now())}).Execute()
		if uerr != nil {
			return "", uerr
		}
		return "pending", fmt.Errorf("send to subscriber %s: %w", sub.Id, err)
	}
	return finish(app, d, "sent", "")
}

// finish records a row's final status.
func finish(app core.App, d *core.Record, status, reason string) (string, error) {
	now := dt(time.Now())
	sentAt := ""
	if status == "sent" {
		sentAt = now
	}
	_, err := app.DB().NewQuery(
		"UPDATE newsletterDeliveries SET status = {:st}, lastError = {:err}, sentAt = {:sent}, leaseUntil = '', updated = {:now} WHERE id = {:id}").
		Bind(dbx.Params{"id": d.Id, "st": status, "err": clip(reason), "sent": sentAt, "now": now}).Execute()
	if err != nil {
		return "", fmt.Errorf("record delivery %s %s: %w", d.Id, status, err)
	}
	return status, nil
}

// markIssueSent closes an issue whose every copy is done (for
// `newsletter send` run without a server; the worker records it itself).
func markIssueSent(app core.App, issueID string) error {
	now := dt(time.Now())
	_, err := app.DB().NewQuery(
		"UPDATE newsletterIssues SET status = 'sent', sentAt = {:now}, nextAttemptAt = '', updated = {:now} WHERE id = {:issue} AND status != 'sent'").
		Bind(dbx.Params{"issue": issueID, "now": now}).Execute()
	return err
}

func clip(s string) string {
	if len(s) > 1000 {
		return s[:1000]
	}
	return s
}

// ---

// Progress is the state of one issue's ledger.
type Progress struct {
	Total, Done, Sent int
	// Held are rows another worker holds or that wait for a retry, with the
	// earliest time one of them is due again.
	Held    int
	NextDue time.Time
}

// IssueProgress counts an issue's ledger rows.
func IssueProgress(app core.App, issueID string) (Progress, error) {
	var rows []struct {
		Status string `db:"status"`
		Lease  string `db:"leaseUntil"`
	}
	err := app.DB().NewQuery("SELECT status, leaseUntil FROM newsletterDeliveries WHERE issue = {:issue}").
		Bind(dbx.Params{"issue": issueID}).All(&rows)
	var p Progress
	for _, r := range rows {
		p.Total++
		switch r.Status {
		case "pending", "sending":
			if l, err := types.ParseDateTime(r.Lease); err == nil && !l.IsZero() && l.Time().After(time.Now()) {
				p.Held++
				if p.NextDue.IsZero() || l.Time().Before(p.NextDue) {
					p.NextDue = l.Time()
				}
			}
		case "sent":
			p.Sent++
			p.Done++
		default:
			p.Done++
		}
	}
	return p, err
}

// Pacer spaces sends to at most perMinute a minute.
type Pacer struct {
	every time.Duration
	next  time.Time
}

// NewPacer returns a pacer for perMinute mails a minute (at least 1).
func NewPacer(perMinute int) *Pacer {
	return &Pacer{every: time.Minute / time.Duration(max(perMinute, 1))}
}

// Wait blocks until the next send may start.
func (p *Pacer) Wait(ctx context.Context) error {
	now := time.Now()
	if p.next.After(now) {
		t := time.NewTimer(p.next.Sub(now))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		now = p.next
	}
	p.next = now.Add(p.every)
	return nil
}

// RatePerMinute is the sending rate set in the dashboard (newsletterSettings).
func RatePerMinute(app core.App) int {
	r, err := app.FindFirstRecordByFilter("newsletterSettings", "")
	if err != nil || r.GetInt("ratePerMinute") < 1 {
		return 120
	}
	return r.GetInt("ratePerMinute")
}

// SendIssue sends the due rows of one issue, paced, until every row is done
// or only rows held elsewhere for longer than a lease remain (a retry later,
// or another worker). Rows in flight at a crash are waited for and sent
// again. progress, when set, is called after each row.
func SendIssue(ctx context.Context, app core.App, issueID string, perMinute int, progress func(Progress)) error {
	pace := NewPacer(perMinute)
	p, err := IssueProgress(app, issueID)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, err := Claim(app, issueID, time.Now())
		if err != nil {
			return err
		}
		if d == nil {
			p, err = IssueProgress(app, issueID)
			if err != nil {
				return err
			}
			if p.Done == p.Total || p.Held == 0 || p.NextDue.After(time.Now().Add(Lease+time.Second)) {
				return nil
			}
			// a row in flight at a crash (or in another worker): wait for its lease
			t := time.NewTimer(min(time.Until(p.NextDue)+50*time.Millisecond, time.Second))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			continue
		}
		if err := pace.Wait(ctx); err != nil {
			// not sent: give the row back at once
			_, _ = app.DB().NewQuery("UPDATE newsletterDeliveries SET status = 'pending', attempts = attempts - 1, leaseUntil = '' WHERE id = {:id} AND status = 'sending'").
				Bind(dbx.Params{"id": d.Id}).Execute()
			return err
		}
		status, err := Deliver(app, d)
		if err != nil {
			app.Logger().Warn("newsletter: delivery failed", "delivery", d.Id, "error", err)
		}
		switch status {
		case "sent":
			p.Sent++
			p.Done++
		case "skipped", "failed":
			p.Done++
		}
		if progress != nil {
			progress(p)
		}
	}
}
