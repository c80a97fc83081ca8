package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// maxEventBytes bounds the body read before the signature is checked; Stripe's
// events are a few KiB.
const maxEventBytes = 1 << 20

// handled are the event types Lectern acts on; any other is answered 200 and
// not recorded.
var handled = map[string]bool{
	"checkout.session.completed":               true,
	"checkout.session.async_payment_succeeded": true,
	"checkout.session.async_payment_failed":    true,
	"checkout.session.expired":                 true,
	"charge.refunded":                          true,
	"charge.dispute.created":                   true,
	"charge.dispute.closed":                    true,
}

// handleWebhook is POST /api/stripe/webhook. The signature is verified on the
// raw body (5-minute tolerance) before anything is parsed or stored; a bad,
// missing or stale one is a 400 that changes nothing. An error applying a
// valid event is a 500, so Stripe delivers it again.
func (s *Service) handleWebhook(e *core.RequestEvent) error {
	if s.cfg.WebhookSecret == "" {
		return errNotConfigured()
	}
	body, err := io.ReadAll(io.LimitReader(e.Request.Body, maxEventBytes+1))
	if err != nil || len(body) > maxEventBytes {
		return apis.NewBadRequestError("Invalid Stripe event.", nil)
	}
	ev, err := webhook.ConstructEventWithOptions(body, e.Request.Header.Get("Stripe-Signature"), s.cfg.WebhookSecret,
		webhook.ConstructEventOptions{
			Tolerance: webhook.DefaultTolerance,
			// Stripe sends each event in the endpoint's API version, not
			// stripe-go's; Lectern reads only fields stable across versions
			IgnoreAPIVersionMismatch: true,
		})
	if err != nil {
		return apis.NewBadRequestError("Invalid Stripe signature.", nil)
	}
	if ev.ID == "" || ev.Data == nil {
		return apis.NewBadRequestError("Invalid Stripe event.", nil)
	}
	if err := s.resolveDisputePayment(e.Request.Context(), &ev); err != nil {
		e.App.Logger().Error("stripe: resolving a dispute's charge failed", "event", ev.ID, "error", stripeErr(err))
		return e.InternalServerError("", nil) // Stripe delivers it again
	}
	res, err := s.Apply(e.App, ev)
	if err != nil {
		e.App.Logger().Error("stripe: applying event failed", "event", ev.ID, "type", string(ev.Type), "error", err.Error())
		return e.InternalServerError("", nil)
	}
	return e.JSON(http.StatusOK, map[string]any{"received": true, "outcome": res.Outcome})
}

// resolveDisputePayment fills in a dispute's payment_intent from its charge
// (asking Stripe) when the event names only the charge: orders are found by
// their PaymentIntent.
func (s *Service) resolveDisputePayment(ctx context.Context, ev *stripe.Event) error {
	if !strings.HasPrefix(string(ev.Type), "charge.dispute.") || s.stripe == nil {
		return nil
	}
	var d dispute
	if json.Unmarshal(ev.Data.Raw, &d) != nil || idOf(d.PaymentIntent) != "" || idOf(d.Charge) == "" {
		return nil
	}
	ch, err := s.stripe.V1Charges.Retrieve(ctx, idOf(d.Charge), nil)
	if err != nil {
		return err
	}
	if ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
		return nil
	}
	var obj map[string]any
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
		return nil
	}
	obj["payment_intent"] = ch.PaymentIntent.ID
	raw, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	ev.Data.Raw = raw
	return nil
}

// Result is what applying one event did.
type Result struct {
	// Outcome is a short phrase for Stripe's delivery log ("fulfilled", "duplicate", …).
	Outcome string
	// Order is the order the event changed, if any.
	Order *core.Record
}

// Apply applies one verified Stripe event in one transaction with its
// stripeEvents row: a second delivery of the same event id changes nothing.
// A newly paid order gets its receipt mail after the commit.
func (s *Service) Apply(app core.App, ev stripe.Event) (Result, error) {
	t := string(ev.Type)
	if !handled[t] {
		return Result{Outcome: "ignored"}, nil
	}
	var res Result
	var paid bool
	err := app.RunInTransaction(func(tx core.App) error {
		res, paid = Result{}, false
		seen, err := eventSeen(tx, ev.ID)
		if err != nil {
			return err
		}
		if seen {
			res.Outcome = "duplicate"
			return nil
		}
		rec, err := newEventRecord(tx, ev)
		if err != nil {
			return err
		}
		res, paid, err = applyEvent(tx, rec, ev)
		if err != nil {
			return err
		}
		if res.Order != nil {
			rec.Set("order", res.Order.Id)
		}
		rec.Set("outcome", res.Outcome)
		return tx.Save(rec)
	})
	if err != nil {
		// two deliveries of one event racing past eventSeen: the unique
		// index refused the second; it is a duplicate, not a failure
		if seen, _ := eventSeen(app, ev.ID); seen {
			return Result{Outcome: "duplicate"}, nil
		}
		return Result{}, err
	}
	if paid {
		s.sendReceipt(app, res.Order)
	}
	return res, nil
}

// applyEvent acts on ev; rec, its stripeEvents row, is already saved (the
// refund and dispute checks read it).
func applyEvent(tx core.App, rec *core.Record, ev stripe.Event) (Result, bool, error) {
	raw := ev.Data.Raw
	switch t := string(ev.Type); t {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded",
		"checkout.session.async_payment_failed", "checkout.session.expired":
		var cs session
		if err := json.Unmarshal(raw, &cs); err != nil {
			return Result{Outcome: "unreadable session"}, false, nil
		}
		order, err := findOrderBySession(tx, cs)
		if err != nil {
			return Result{}, false, err
		}
		if order == nil {
			return Result{Outcome: "no such order"}, false, nil
		}
		res := Result{Order: order}
		switch t {
		case "checkout.session.async_payment_failed":
			changed, err := setStatus(tx, order, StatusFailed)
			res.Outcome = outcome(changed, "failed", "unchanged")
			return res, false, err
		case "checkout.session.expired":
			changed, err := setStatus(tx, order, StatusExpired)
			res.Outcome = outcome(changed, "expired", "unchanged")
			return res, false, err
		}
		if !cs.paid() {
			// an async payment method (bank debit): completed now, paid later
			if pi := idOf(cs.PaymentIntent); pi != "" && order.GetString("stripePaymentIntent") == "" {
				order.Set("stripePaymentIntent", pi)
				if err := tx.Save(order); err != nil {
					return Result{}, false, err
				}
			}
			res.Outcome = "awaiting payment"
			return res, false, nil
		}
		paid, err := fulfil(tx, order, cs)
		res.Outcome = outcome(paid, "fulfilled", "already "+order.GetString("status"))
		return res, paid, err

	case "charge.refunded":
		var c charge
		_ = json.Unmarshal(raw, &c)
		order, err := findOrderByPayment(tx, idOf(c.PaymentIntent), c.Metadata["order"])
		if err != nil || order == nil {
			// a refund delivered before the completion it refunds: the
			// row recorded above turns that fulfilment into a refund
			return Result{Outcome: "recorded"}, false, err
		}
		if !c.full() {
			return Result{Outcome: "partial refund: access kept", Order: order}, false, nil
		}
		return Result{Outcome: "refunded", Order: order}, false, refund(tx, order, idOf(c.PaymentIntent))

	case "charge.dispute.created", "charge.dispute.closed":
		var d dispute
		_ = json.Unmarshal(raw, &d)
		order, err := findOrderByPayment(tx, idOf(d.PaymentIntent), "")
		if err != nil || order == nil {
			return Result{Outcome: "recorded"}, false, err
		}
		return Result{Outcome: "access follows dispute", Order: order}, false, syncAccess(tx, order)
	}
	return Result{Outcome: "ignored"}, false, nil
}

func outcome(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

func eventSeen(app core.App, id string) (bool, error) {
	var n int
	err := app.DB().Select("count(*)").From("stripeEvents").Where(dbx.HashExp{"eventId": id}).Row(&n)
	return n > 0, err
}

// newEventRecord saves the stripeEvents row of ev with the facts the refund
// and dispute checks need, read from the event's object.
func newEventRecord(tx core.App, ev stripe.Event) (*core.Record, error) {
	c, err := tx.FindCachedCollectionByNameOrId("stripeEvents")
	if err != nil {
		return nil, err
	}
	rec := core.NewRecord(c)
	rec.Set("eventId", ev.ID)
	rec.Set("type", string(ev.Type))
	rec.Set("stripeCreated", stripeTime(ev.Created))
	raw := ev.Data.Raw
	switch string(ev.Type) {
	case "charge.refunded":
		var ch charge
		_ = json.Unmarshal(raw, &ch)
		rec.Set("paymentIntent", idOf(ch.PaymentIntent))
		rec.Set("order", ch.Metadata["order"])
		rec.Set("detail", map[string]any{"charge": ch.ID, "full": ch.full(), "amountRefunded": ch.AmountRefunded})
	case "charge.dispute.created", "charge.dispute.closed":
		var d dispute
		_ = json.Unmarshal(raw, &d)
		rec.Set("paymentIntent", idOf(d.PaymentIntent))
		rec.Set("detail", map[string]any{"dispute": d.ID, "status": d.Status})
	default:
		var cs session
		_ = json.Unmarshal(raw, &cs)
		rec.Set("paymentIntent", idOf(cs.PaymentIntent))
		rec.Set("detail", map[string]any{"session": cs.ID, "paymentStatus": cs.PaymentStatus})
	}
	if err := tx.Save(rec); err != nil {
		return nil, fmt.Errorf("record event %q: %w", ev.ID, err)
	}
	return rec, nil
}
