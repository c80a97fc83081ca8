package webhooks

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/pocketbase/pocketbase/tools/types"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"lectern/internal/jobs"
)

// maxResponseRead caps what is read of a receiver's answer: only its start
// is kept (in lastError and the attempt's response), and a receiver
// streaming gigabytes costs nothing.
const maxResponseRead = 4 << 10

// maxAttemptResponse caps the answer excerpt an attempt row keeps.
const maxAttemptResponse = 1 << 10

// tried is what an attempt leaves for its webhookAttempts row beside the
// delivery's own fields (lastStatus, lastError).
type tried struct {
	at       time.Time
	duration time.Duration
	response string
}

// deliver is the jobs handler of a webhookDeliveries row: one signed POST.
// It sets lastStatus, lastError and deliveredAt on the row, and leaves the
// attempt's time, duration and answer for recordAttempt; the jobs package
// records status, attempts and the next attempt.
func (s *Service) deliver(ctx context.Context, app core.App, d *core.Record) error {
	t := &tried{at: time.Now()}
	err := s.post1(ctx, app, d, t)
	t.duration = time.Since(t.at)
	s.tried.Store(d.Id, t)
	return err
}

func (s *Service) post1(ctx context.Context, app core.App, d *core.Record, t *tried) error {
	hook, err := app.FindRecordById(Collection, d.GetString("webhook"))
	if errors.Is(err, sql.ErrNoRows) {
		return s.fail(d, 0, jobs.Permanent(errors.New("the webhook no longer exists")))
	}
	if err != nil {
		return fmt.Errorf("load webhook of delivery %q: %w", d.Id, err)
	}
	if !hook.GetBool("active") {
		return s.fail(d, 0, jobs.Permanent(errors.New("the webhook is inactive")))
	}

	body := payloadBytes(d)
	wh, err := standardwebhooks.NewWebhook(hook.GetString("secret"))
	if err != nil {
		// never the secret itself in the error
		return s.fail(d, 0, jobs.Permanent(errors.New("the webhook's secret is not a valid whsec_ key")))
	}
	now := time.Now()
	sig, err := wh.Sign(d.Id, now, body)
	if err != nil {
		return s.fail(d, 0, fmt.Errorf("sign: %w", err))
	}

	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.GetString("url"), bytes.NewReader(body))
	if err != nil {
		return s.fail(d, 0, jobs.Permanent(errors.New("the webhook's url is not a valid url")))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Lectern-Webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.Id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)

	res, err := s.post.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrRefusedAddress) {
			return s.fail(d, 0, jobs.Permanent(refusal(err)))
		}
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", s.opts.Timeout)
		}
		return s.fail(d, 0, s.failing(app, hook, d, err))
	}
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, maxResponseRead))
	res.Body.Close()
	t.response = excerpt(snippet, maxAttemptResponse)

	code := res.StatusCode
	switch {
	case code >= 200 && code < 300:
		d.Set("lastStatus", code)
		d.Set("lastError", "")
		d.Set("deliveredAt", types.NowDateTime())
		return nil
	case code == http.StatusGone:
		// the receiver says the endpoint is gone for good: stop sending
		hook.Set("active", false)
		if err := app.Save(hook); err != nil {
			return s.fail(d, code, fmt.Errorf("deactivate webhook after 410: %w", err))
		}
		return s.fail(d, code, jobs.Permanent(errors.New("410 Gone: the webhook was deactivated")))
	}
	err = fmt.Errorf("HTTP %d", code)
	if code >= 300 && code < 400 {
		err = fmt.Errorf("HTTP %d: redirects are not followed", code)
	} else if text := strings.TrimSpace(string(snippet)); text != "" && utf8.ValidString(text) {
		err = fmt.Errorf("HTTP %d: %s", code, text)
	}
	if after, ok := retryAfter(res.Header.Get("Retry-After"), now); ok {
		err = jobs.RetryAfter(err, after)
	}
	return s.fail(d, code, s.failing(app, hook, d, err))
}

// fail records a failed attempt's status and error on the row and returns
// err for the jobs package to schedule.
func (s *Service) fail(d *core.Record, code int, err error) error {
	d.Set("lastStatus", code)
	msg := err.Error()
	if len(msg) > 1000 {
		msg = strings.ToValidUTF8(msg[:997], "") + "..."
	}
	d.Set("lastError", msg)
	return err
}

// excerpt is the start of b as valid UTF-8 text of at most max bytes ("" if
// b is not text).
func excerpt(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	text := strings.ToValidUTF8(string(b), "")
	if strings.ContainsRune(text, 0) {
		return ""
	}
	return text
}

// recordAttempt is the queue's Recorded: the attempt's webhookAttempts row,
// written in the transaction that records its outcome, and the oldest rows
// past maxAttempts removed (a delivery sent again by hand for ever stays
// bounded).
func (s *Service) recordAttempt(tx core.App, d *core.Record, a jobs.Attempt) error {
	v, _ := s.tried.LoadAndDelete(d.Id)
	t, _ := v.(*tried)
	if t == nil {
		t = &tried{at: time.Now()}
	}
	errText := ""
	if a.Err != nil {
		errText = d.GetString("lastError")
	}
	at, _ := types.ParseDateTime(t.at.UTC())
	// only while the delivery exists: its webhook may have been deleted
	// (and its deliveries with it) during the attempt
	_, err := tx.DB().NewQuery("INSERT INTO {{" + Attempts + "}} ([[id]], [[delivery]], [[webhook]], [[attempt]], [[status]], [[error]], [[durationMs]], [[response]], [[created]]) " +
		"SELECT {:id}, [[id]], [[webhook]], {:n}, {:status}, {:error}, {:ms}, {:response}, {:created} FROM {{" + Deliveries + "}} WHERE [[id]] = {:delivery}").
		Bind(dbx.Params{
			"id": jobs.NewID(), "delivery": d.Id, "n": a.N, "status": d.GetInt("lastStatus"), "error": errText,
			"ms": t.duration.Milliseconds(), "response": t.response, "created": at.String(),
		}).Execute()
	if err != nil {
		return fmt.Errorf("write attempt: %w", err)
	}
	if a.N > maxAttempts {
		_, err = tx.DB().Delete(Attempts, dbx.And(dbx.HashExp{"delivery": d.Id},
			dbx.NewExp("[[attempt]] <= {:old}", dbx.Params{"old": a.N - maxAttempts}))).Execute()
		if err != nil {
			return fmt.Errorf("trim attempts: %w", err)
		}
	}
	return nil
}

// maxAttempts is how many attempts of one delivery webhookAttempts keeps
// (the last ones); the schedule makes 8.
const maxAttempts = 20

func refusal(err error) error {
	// the client's error wraps the dial error in "Post <url>: dial tcp …":
	// keep only the reason
	msg := err.Error()
	if i := strings.Index(msg, ErrRefusedAddress.Error()); i >= 0 {
		msg = msg[i:]
	}
	return errors.New(msg)
}

// payloadBytes is the stored body, byte for byte: every attempt sends and
// signs the same bytes.
func payloadBytes(d *core.Record) []byte {
	switch v := d.GetRaw("payload").(type) {
	case types.JSONRaw:
		return []byte(v)
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return []byte(d.GetString("payload"))
}

// retryAfter parses a Retry-After header (seconds or an HTTP date), capped
// at a day so a receiver cannot park a delivery for ever.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.Atoi(h); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	if d <= 0 {
		return 0, false
	}
	return min(d, 24*time.Hour), true
}

// ---

// failing checks, after a failed attempt, whether the webhook has failed
// for opts.FailingFor without a single success; if so it deactivates the
// webhook, mails the admins, and makes err permanent. The streak starts at
// the oldest delivery created after the last success that has failed (this
// one included).
func (s *Service) failing(app core.App, hook, d *core.Record, err error) error {
	var lastOK sql.NullString
	if qerr := app.DB().Select("MAX([[deliveredAt]])").From(Deliveries).
		Where(dbx.HashExp{"webhook": hook.Id, "status": StatusDelivered}).Row(&lastOK); qerr != nil {
		return err
	}
	q := app.DB().Select("MIN([[created]])").From(Deliveries).
		Where(dbx.HashExp{"webhook": hook.Id}).
		AndWhere(dbx.Or(dbx.In("status", StatusFailed, StatusDead), dbx.HashExp{"id": d.Id}))
	if lastOK.Valid && lastOK.String != "" {
		q.AndWhere(dbx.NewExp("[[created]] > {:ok}", dbx.Params{"ok": lastOK.String}))
	}
	var first sql.NullString
	if qerr := q.Row(&first); qerr != nil || !first.Valid || first.String == "" {
		return err
	}
	since, perr := types.ParseDateTime(first.String)
	if perr != nil || time.Since(since.Time()) < s.opts.FailingFor {
		return err
	}
	hook.Set("active", false)
	if serr := app.Save(hook); serr != nil {
		return fmt.Errorf("%w (deactivating the webhook failed: %v)", err, serr)
	}
	s.mailAdmins(app, hook, since.Time(), err)
	return jobs.Permanent(fmt.Errorf("%w; failing since %s: the webhook was deactivated",
		err, since.Time().UTC().Format(time.RFC3339)))
}

// mailAdmins tells every admin user and superuser that a webhook was
// deactivated, when mail is configured (SMTP enabled in the settings: the
// sendmail fallback of a bare server would fail or go nowhere). One message
// per recipient, so admins don't see each other's addresses.
func (s *Service) mailAdmins(app core.App, hook *core.Record, since time.Time, cause error) {
	if !app.Settings().SMTP.Enabled {
		return
	}
	var to []string
	admins, _ := app.FindAllRecords("users", dbx.HashExp{"role": "admin"})
	supers, _ := app.FindAllRecords(core.CollectionNameSuperusers)
	seen := map[string]bool{}
	for _, r := range append(admins, supers...) {
		if e := r.Email(); e != "" && !seen[e] {
			seen[e] = true
			to = append(to, e)
		}
	}
	meta := app.Settings().Meta
	subject := fmt.Sprintf("%s: webhook deactivated after %s of failures", meta.AppName, roundDays(time.Since(since)))
	body := fmt.Sprintf(`<p>The webhook to <b>%s</b> (%s) has failed every delivery since %s and was deactivated.</p>
<p>Last error: %s</p>
<p>Fix the receiver, set the webhook active again, then send the failed deliveries again with
<code>POST /api/webhooks/%s/retry-failed</code>.</p>`,
		html.EscapeString(hook.GetString("url")), html.EscapeString(hook.Id),
		since.UTC().Format(time.RFC1123), html.EscapeString(cause.Error()), html.EscapeString(hook.Id))
	for _, addr := range to {
		msg := &mailer.Message{
			From:    mail.Address{Name: meta.SenderName, Address: meta.SenderAddress},
			To:      []mail.Address{{Address: addr}},
			Subject: subject,
			HTML:    body,
		}
		if err := app.NewMailClient().Send(msg); err != nil {
			app.Logger().Error("webhooks: mail admins", "webhook", hook.Id, "error", err.Error())
		}
	}
}

func roundDays(d time.Duration) string {
	days := int(d.Hours() / 24)
	if days == 1 {
		return "1 day"
	}
	return strconv.Itoa(days) + " days"
}
