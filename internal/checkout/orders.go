package checkout

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Order statuses (orders.status).
const (
	StatusPending  = "pending"
	StatusPaid     = "paid"
	StatusFailed   = "failed"
	StatusExpired  = "expired"
	StatusRefunded = "refunded"
)

// session is what Lectern reads of a Checkout Session: only fields that are
// the same in every Stripe API version, so events sent in the endpoint's
// version (not stripe-go's) read the same.
type session struct {
	ID                string            `json:"id"`
	Status            string            `json:"status"`         // open, complete, expired
	PaymentStatus     string            `json:"payment_status"` // paid, unpaid, no_payment_required
	AmountTotal       *int64            `json:"amount_total"`
	Currency          string            `json:"currency"`
	PaymentIntent     json.RawMessage   `json:"payment_intent"` // an id, an expanded object or null
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
	URL               string            `json:"url"`
}

// paid reports whether the buyer has paid: "no_payment_required" is a
// session a 100% promotion code made free, which is bought all the same.
func (s session) paid() bool {
	return s.PaymentStatus == "paid" || s.PaymentStatus == "no_payment_required"
}

// charge is what Lectern reads of a Charge (charge.refunded).
type charge struct {
	ID             string            `json:"id"`
	PaymentIntent  json.RawMessage   `json:"payment_intent"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
	Refunded       bool              `json:"refunded"`
	Metadata       map[string]string `json:"metadata"`
}

// full reports a full refund: Stripe sets refunded once nothing is left.
func (c charge) full() bool {
	return c.Refunded || (c.Amount > 0 && c.AmountRefunded >= c.Amount)
}

// dispute is what Lectern reads of a Dispute (charge.dispute.*).
type dispute struct {
	ID            string          `json:"id"`
	Charge        json.RawMessage `json:"charge"`
	PaymentIntent json.RawMessage `json:"payment_intent"`
	Status        string          `json:"status"` // won, lost, needs_response, …
}

// idOf reads an expandable field: a plain id, an object with an id, or null.
func idOf(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}

// ---

// findOrderBySession finds the order of a Checkout Session: by its id, or by
// the order id Lectern put in its metadata. nil when there is none.
func findOrderBySession(app core.App, s session) (*core.Record, error) {
	if s.ID != "" {
		r, err := app.FindFirstRecordByData("orders", "stripeSessionId", s.ID)
		if err == nil {
			return r, nil
		}
		if !isNotFound(err) {
			return nil, err
		}
	}
	return findOrderByID(app, s.Metadata["order"])
}

// findOrderByPayment finds the order a charge or dispute is about: by its
// PaymentIntent, or by the order id in the charge's metadata (Lectern copies
// it onto the PaymentIntent, and Stripe onto its charges).
func findOrderByPayment(app core.App, paymentIntent, orderID string) (*core.Record, error) {
	if paymentIntent != "" {
		r, err := app.FindFirstRecordByData("orders", "stripePaymentIntent", paymentIntent)
		if err == nil {
			return r, nil
		}
		if !isNotFound(err) {
			return nil, err
		}
	}
	return findOrderByID(app, orderID)
}

func findOrderByID(app core.App, id string) (*core.Record, error) {
	if id == "" {
		return nil, nil
	}
	r, err := app.FindRecordById("orders", id)
	if isNotFound(err) {
		return nil, nil
	}
	return r, err
}

func isNotFound(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, errNoOrder)
}

// fulfil marks order paid with the amount Stripe charged and gives the buyer
// an active enrollment, in tx. It returns whether this call made the order
// paid (false when it was already paid or refunded: fulfilment happens once).
// A full refund Stripe announced before this payment's completion turns the
// order straight to refunded, with no access.
func fulfil(tx core.App, order *core.Record, s session) (bool, error) {
	status := order.GetString("status")
	if status == StatusPaid || (status == StatusRefunded && !order.GetDateTime("paidAt").IsZero()) {
		return false, nil
	}
	pi := idOf(s.PaymentIntent)
	currency := strings.ToUpper(s.Currency)
	if currency == "" {
		currency = order.GetString("currency")
	}
	if s.AmountTotal != nil {
		order.Set("amount", FromMinor(*s.AmountTotal, currency))
	}
	order.Set("currency", currency)
	if pi != "" {
		order.Set("stripePaymentIntent", pi)
	}
	now := types.NowDateTime()
	order.Set("paidAt", now)
	// refunded already (the refund named this order and came first), or a
	// full refund of this payment is on record: the money facts are kept,
	// access is not given
	refunded := status == StatusRefunded
	if !refunded {
		var err error
		if refunded, err = refundedEarly(tx, order); err != nil {
			return false, err
		}
	}
	newlyPaid := !refunded
	if refunded {
		order.Set("status", StatusRefunded)
		if order.GetDateTime("refundedAt").IsZero() {
			order.Set("refundedAt", now)
		}
	} else {
		order.Set("status", StatusPaid)
	}
	if err := tx.Save(order); err != nil {
		return false, fmt.Errorf("save order %q: %w", order.Id, err)
	}
	return newlyPaid, syncAccess(tx, order)
}

// refund marks a paid (or still pending) order refunded and takes access away.
func refund(tx core.App, order *core.Record, paymentIntent string) error {
	if order.GetString("status") == StatusRefunded {
		return nil
	}
	order.Set("status", StatusRefunded)
	order.Set("refundedAt", types.NowDateTime())
	if paymentIntent != "" && order.GetString("stripePaymentIntent") == "" {
		order.Set("stripePaymentIntent", paymentIntent)
	}
	if err := tx.Save(order); err != nil {
		return fmt.Errorf("save order %q: %w", order.Id, err)
	}
	return syncAccess(tx, order)
}

// setStatus moves a pending order to failed or expired; any other status
// stays (a late expired event never undoes a payment).
func setStatus(tx core.App, order *core.Record, status string) (bool, error) {
	if order.GetString("status") != StatusPending {
		return false, nil
	}
	order.Set("status", status)
	return true, tx.Save(order)
}

// syncAccess makes the buyer's enrollment follow the order: active while the
// order is paid and no dispute is open, cancelled otherwise (the lessons'
// read rule locks paid lessons of a cancelled enrollment). The enrollment is
// saved through the app, so its hooks update the course's enrollmentsCount
// and realtime subscribers hear of it after the commit.
func syncAccess(tx core.App, order *core.Record) error {
	want := order.GetString("status") == StatusPaid
	if want {
		disputed, err := disputeOpen(tx, order)
		if err != nil {
			return err
		}
		want = !disputed
	}
	courseID, userID := order.GetString("course"), order.GetString("user")
	enr, err := tx.FindFirstRecordByFilter("enrollments", "course = {:c} && user = {:u}", dbx.Params{"c": courseID, "u": userID})
	if err != nil && !isNotFound(err) {
		return err
	}
	switch {
	case enr == nil && want:
		c, err := tx.FindCachedCollectionByNameOrId("enrollments")
		if err != nil {
			return err
		}
		enr = core.NewRecord(c)
		enr.Set("course", courseID)
		enr.Set("user", userID)
		enr.Set("status", "active")
	case enr == nil:
		return nil
	case want && enr.GetString("status") == "cancelled":
		enr.Set("status", "active")
	case !want && enr.GetString("status") != "cancelled":
		enr.Set("status", "cancelled")
	default:
		return nil
	}
	if err := tx.Save(enr); err != nil {
		return fmt.Errorf("save enrollment of order %q: %w", order.Id, err)
	}
	return nil
}

// refundedEarly reports whether Stripe announced a full refund of the
// order's payment (by PaymentIntent or order id) before Lectern fulfilled it.
func refundedEarly(tx core.App, order *core.Record) (bool, error) {
	var n int
	err := tx.DB().Select("count(*)").From("stripeEvents").
		Where(dbx.HashExp{"type": "charge.refunded"}).
		AndWhere(dbx.NewExp("json_extract([[detail]], '$.full') = 1")).
		AndWhere(paymentOf(order)).Row(&n)
	return n > 0, err
}

// disputeOpen reports whether a dispute of the order's payment is open or
// was lost: for each dispute, its latest event (by Stripe's creation time)
// decides, so a "closed" delivered before its "created" still wins.
func disputeOpen(tx core.App, order *core.Record) (bool, error) {
	var rows []struct {
		Type    string         `db:"type"`
		Detail  types.JSONRaw  `db:"detail"`
		Created types.DateTime `db:"stripeCreated"`
	}
	err := tx.DB().Select("type", "detail", "stripeCreated").From("stripeEvents").
		Where(dbx.In("type", "charge.dispute.created", "charge.dispute.closed")).
		AndWhere(paymentOf(order)).
		OrderBy("stripeCreated", "type DESC"). // within one second, "created" before "closed"
		All(&rows)
	if err != nil {
		return false, err
	}
	latest := map[string]string{} // dispute id → open?
	for _, r := range rows {
		var d struct {
			Dispute string `json:"dispute"`
			Status  string `json:"status"`
		}
		_ = json.Unmarshal(r.Detail, &d)
		if r.Type == "charge.dispute.created" {
			latest[d.Dispute] = "open"
		} else if d.Status == "won" {
			latest[d.Dispute] = "won"
		} else {
			latest[d.Dispute] = "lost"
		}
	}
	for _, v := range latest {
		if v != "won" {
			return true, nil
		}
	}
	return false, nil
}

// paymentOf matches stripeEvents rows about order: its PaymentIntent or its id.
func paymentOf(order *core.Record) dbx.Expression {
	if pi := order.GetString("stripePaymentIntent"); pi != "" {
		return dbx.Or(dbx.HashExp{"paymentIntent": pi}, dbx.HashExp{"order": order.Id})
	}
	return dbx.HashExp{"order": order.Id}
}

// CanActivate reports whether the user may (re)activate an enrollment in a
// paid course themselves: only while they hold a paid order for it with no
// open dispute. Admins need no order.
func CanActivate(app core.App, courseID, userID string) (bool, error) {
	orders, err := app.FindRecordsByFilter("orders", "course = {:c} && user = {:u} && status = 'paid'", "", 0, 0,
		dbx.Params{"c": courseID, "u": userID})
	if err != nil {
		return false, err
	}
	for _, o := range orders {
		disputed, err := disputeOpen(app, o)
		if err != nil {
			return false, err
		}
		if !disputed {
			return true, nil
		}
	}
	return false, nil
}

// stripeTime converts an event's Unix creation time.
func stripeTime(sec int64) types.DateTime {
	if sec <= 0 {
		return types.NowDateTime()
	}
	dt, _ := types.ParseDateTime(time.Unix(sec, 0).UTC())
	return dt
}
