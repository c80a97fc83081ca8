package mail

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/ozzo-validation/v4/is"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// ConfirmEvery is how often one address may be sent a confirmation mail:
// asking again sooner answers the same 202 and mails nothing.
var ConfirmEvery = time.Hour

const maxTopics = 100

func registerNewsletter(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.POST(PathSubscribe, subscribe)
		se.Router.POST(PathConfirm, confirm)
		se.Router.POST(PathUnsubscribe, unsubscribe)
		return se.Next()
	})

	// emails are compared lowercased, however the row was written (the
	// dashboard included), so the unique index means one row per address
	lower := func(e *core.RecordEvent) error {
		e.Record.Set("email", strings.ToLower(strings.TrimSpace(e.Record.GetString("email"))))
		if e.Record.GetString("status") == "" {
			e.Record.Set("status", "pending")
		}
		return e.Next()
	}
	app.OnRecordCreate("subscribers").BindFunc(lower)
	app.OnRecordUpdate("subscribers").BindFunc(lower)

	// confirmedAt and unsubscribedAt are the server's: a client value (an
	// admin through the records API or the dashboard) is ignored, and a status
	// an admin sets stamps them as the endpoints do
	app.OnRecordCreateRequest("subscribers").BindFunc(func(e *core.RecordRequestEvent) error {
		e.Record.Set("confirmedAt", nil)
		e.Record.Set("unsubscribedAt", nil)
		stampStatus(e.Record, "")
		return e.Next()
	})
	app.OnRecordUpdateRequest("subscribers").BindFunc(func(e *core.RecordRequestEvent) error {
		orig := e.Record.Original()
		e.Record.Set("confirmedAt", orig.Get("confirmedAt"))
		e.Record.Set("unsubscribedAt", orig.Get("unsubscribedAt"))
		stampStatus(e.Record, orig.GetString("status"))
		return e.Next()
	})
}

// stampStatus dates a status change made through the records API.
func stampStatus(r *core.Record, was string) {
	now := types.NowDateTime()
	switch st := r.GetString("status"); {
	case st == was:
	case st == "active":
		r.Set("confirmedAt", now)
		r.Set("unsubscribedAt", nil)
	case st == "unsubscribed":
		r.Set("unsubscribedAt", now)
	}
}

type subscribeBody struct {
	Email  string   `json:"email"`
	Topics []string `json:"topics"`
}

// subscribe answers 202 for every valid request, whatever the address's state,
// so nobody learns who is subscribed. A pending or unsubscribed address gets a
// confirmation mail (at most one per ConfirmEvery), queued in the same
// transaction (outbox.go); an active one nothing. A signed-in user subscribing
// their own verified address is active at once.
func subscribe(e *core.RequestEvent) error {
	if !configured(e.App) {
		return notConfigured("Newsletter")
	}
	var body subscribeBody
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("Invalid subscription data.", err)
	}
	email := strings.ToLower(strings.TrimSpace(body.Email))
	var self *core.Record // the signed-in user subscribing their own address
	if e.Auth != nil && e.Auth.Collection().Name == "users" {
		if email == "" {
			email = strings.ToLower(e.Auth.Email())
		}
		if email == strings.ToLower(e.Auth.Email()) && e.Auth.Verified() {
			self = e.Auth
		}
	}
	topics, err := cleanTopics(e.App, body.Topics)
	if err := validation.Validate(email, validation.Required, validation.Length(3, 254), is.EmailFormat); err != nil {
		return e.BadRequestError("Invalid subscription data.", validation.Errors{"email": err})
	}
	if err != nil {
		return e.BadRequestError("Invalid subscription data.", validation.Errors{"topics": err})
	}

	var sub *core.Record
	err = e.App.RunInTransaction(func(tx core.App) error {
		sub, err = tx.FindFirstRecordByData("subscribers", "email", email)
		if err != nil {
			c, err := tx.FindCachedCollectionByNameOrId("subscribers")
			if err != nil {
				return err
			}
			sub = core.NewRecord(c)
			sub.Set("email", email)
			sub.Set("status", "pending")
			sub.Set("source", "site")
		}
		now := types.NowDateTime()
		if self != nil {
			// the address is proven by the account: no mail, active now
			if sub.GetString("status") != "active" {
				sub.Set("status", "active")
				sub.Set("confirmedAt", now)
				sub.Set("unsubscribedAt", nil)
			}
			if sub.IsNew() {
				sub.Set("source", "account")
			}
			sub.Set("topics", topics)
			return tx.Save(sub)
		}
		if sub.GetString("status") == "active" {
			return nil // nothing to confirm; the caller is told nothing
		}
		// not active: the topics are only a wish until the owner confirms
		sub.Set("topics", topics)
		if err := tx.Save(sub); err != nil {
			return err
		}
		// one confirmation mail per address per ConfirmEvery
		recent, _ := tx.FindFirstRecordByFilter("mailOutbox",
			"kind = 'confirm' && ref = {:s} && created > {:since}",
			dbx.Params{"s": sub.Id, "since": now.Add(-ConfirmEvery).String()})
		if recent != nil {
			return nil
		}
		return enqueue(tx, "confirm", sub.Id, "")
	})
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return e.JSON(http.StatusAccepted, map[string]any{})
}

// cleanTopics dedupes the requested topic ids and checks that each exists.
func cleanTopics(app core.App, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > maxTopics {
		return nil, validation.NewError("validation_too_many_topics", fmt.Sprintf("At most %d topics.", maxTopics))
	}
	if len(out) == 0 {
		return []string{}, nil
	}
	found, err := app.FindRecordsByIds("topics", out)
	if err != nil || len(found) != len(out) {
		return nil, validation.NewError("validation_unknown_topic", "Unknown topic.")
	}
	return out, nil
}

type tokenBody struct {
	Token string `json:"token" form:"token"`
}

func badToken(e *core.RequestEvent) error {
	return e.BadRequestError("The link is invalid or has expired.", validation.Errors{
		"token": validation.NewError("validation_invalid_token", "The link is invalid or has expired."),
	})
}

// confirm activates the subscription of a confirmation token (single use).
func confirm(e *core.RequestEvent) error {
	var body tokenBody
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("Invalid confirmation data.", err)
	}
	tok, err := findToken(e.App, body.Token, purposeConfirm)
	if err != nil {
		return badToken(e)
	}
	var sub *core.Record
	err = e.App.RunInTransaction(func(tx core.App) error {
		sub, err = tx.FindRecordById("subscribers", tok.GetString("subscriber"))
		if err != nil {
			return err
		}
		sub.Set("status", "active")
		sub.Set("confirmedAt", types.NowDateTime())
		sub.Set("unsubscribedAt", nil)
		if err := tx.Save(sub); err != nil {
			return err
		}
		return deleteTokens(tx, sub.Id, purposeConfirm)
	})
	if err != nil {
		return fmt.Errorf("confirm subscription: %w", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"email": sub.GetString("email"), "status": "active"})
}

// unsubscribe is RFC 8058's one-click POST: the token in the URL is the whole
// authorization (no cookie, no session), the body (List-Unsubscribe=One-Click)
// is not needed. The site's unsubscribe page sends {"token"} instead. Repeating
// it is harmless: the token stays valid and the answer stays 200.
func unsubscribe(e *core.RequestEvent) error {
	token := e.Request.URL.Query().Get("token")
	if token == "" && strings.HasPrefix(e.Request.Header.Get("Content-Type"), "application/json") {
		var body tokenBody
		if err := e.BindBody(&body); err != nil {
			return e.BadRequestError("Invalid unsubscribe data.", err)
		}
		token = body.Token
	}
	tok, err := findToken(e.App, token, purposeUnsubscribe)
	if err != nil {
		return badToken(e)
	}
	if err := Unsubscribe(e.App, tok.GetString("subscriber")); err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{"status": "unsubscribed"})
}

// Unsubscribe marks a subscriber unsubscribed and skips every delivery not yet
// sent to them, in one transaction: from then on they get nothing.
func Unsubscribe(app core.App, subscriberID string) error {
	return app.RunInTransaction(func(tx core.App) error {
		sub, err := tx.FindRecordById("subscribers", subscriberID)
		if err != nil {
			return fmt.Errorf("unsubscribe %q: %w", subscriberID, err)
		}
		if sub.GetString("status") != "unsubscribed" {
			sub.Set("status", "unsubscribed")
			sub.Set("unsubscribedAt", types.NowDateTime())
			if err := tx.Save(sub); err != nil {
				return err
			}
		}
		_, err = tx.DB().NewQuery(
			"UPDATE newsletterDeliveries SET status = 'skipped', lastError = 'unsubscribed', updated = {:now} " +
				"WHERE subscriber = {:s} AND status = 'pending'").
			Bind(dbx.Params{"s": subscriberID, "now": types.NowDateTime().String()}).Execute()
		return err
	})
}
