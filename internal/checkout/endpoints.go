package checkout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v85"
)

// courseError is the contract's 400 on `course`.
func courseError(code, msg string) error {
	return apis.NewBadRequestError("Cannot check out this course.", validation.Errors{"course": validation.NewError(code, msg)})
}

// handleCheckout is POST /api/courses/{id}/checkout: a Checkout Session in
// payment mode for the course's price (from the course, never the client)
// and a pending order. Asking again while that session is open answers the
// same session.
func (s *Service) handleCheckout(e *core.RequestEvent) error {
	if s.stripe == nil {
		return errNotConfigured()
	}
	course, err := e.App.FindRecordById("courses", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("", nil)
	}
	buyer := e.Auth
	if err := checkBuyable(e.App, course, buyer.Id); err != nil {
		return err
	}
	currency := strings.ToUpper(course.GetString("currency"))
	if currency == "" {
		currency = "USD"
	}
	minor, err := ToMinor(course.GetFloat("price"), currency)
	if err != nil {
		return courseError("validation_course_price", "The course's price cannot be charged in its currency.")
	}

	ctx := e.Request.Context()
	if out, ok, err := s.reuseOpen(ctx, e.App, course, buyer.Id); err != nil {
		return err
	} else if ok {
		return e.JSON(http.StatusOK, out)
	}

	orderID := core.GenerateDefaultRandomId()
	page := coursePage(e.App, course, requestOrigin(e))
	meta := map[string]string{"course": course.Id, "user": buyer.Id, "order": orderID}
	params := &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:   stripe.String(strings.ToLower(currency)),
				UnitAmount: stripe.Int64(minor),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{
					Name: stripe.String(course.GetString("title")),
				},
			},
		}},
		AllowPromotionCodes: stripe.Bool(true),
		ClientReferenceID:   stripe.String(buyer.Id),
		Metadata:            meta,
		// copied to the PaymentIntent and from it to its charges, so a
		// refund names its order even before the session completes
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
		SuccessURL:        stripe.String(page + "?checkout={CHECKOUT_SESSION_ID}"),
		CancelURL:         stripe.String(page + "?checkout=cancelled"),
	}
	if email := buyer.Email(); email != "" {
		params.CustomerEmail = stripe.String(email)
	}
	// a retried request (a timeout on our side) must not open a second session
	params.SetIdempotencyKey("lectern-order-" + orderID)
	params.Context = ctx
	cs, err := s.stripe.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		e.App.Logger().Error("stripe: create checkout session failed", "course", course.Id, "error", stripeErr(err))
		return apis.NewApiError(http.StatusBadGateway, "The payment provider could not be reached. Please try again.", nil)
	}

	orders, err := e.App.FindCachedCollectionByNameOrId("orders")
	if err != nil {
		return err
	}
	order := core.NewRecord(orders)
	order.Id = orderID
	order.Set("course", course.Id)
	order.Set("user", buyer.Id)
	order.Set("status", StatusPending)
	order.Set("currency", currency)
	order.Set("stripeSessionId", cs.ID)
	if cs.AmountTotal > 0 {
		order.Set("amount", FromMinor(cs.AmountTotal, currency))
	}
	if err := e.App.Save(order); err != nil {
		// another request of this buyer opened a checkout meanwhile (the
		// one-pending-order index): answer that one, drop this session
		if out, ok, rerr := s.reuseOpen(ctx, e.App, course, buyer.Id); rerr == nil && ok {
			_, _ = s.stripe.V1CheckoutSessions.Expire(ctx, cs.ID, nil)
			return e.JSON(http.StatusOK, out)
		}
		return fmt.Errorf("save order: %w", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"url": cs.URL, "sessionId": cs.ID})
}

// checkBuyable refuses a free, unpublished, bought or joined course.
func checkBuyable(app core.App, course *core.Record, userID string) error {
	if course.GetString("status") != "published" {
		return courseError("validation_course_not_published", "Only published courses can be bought.")
	}
	if course.GetFloat("price") <= 0 {
		return courseError("validation_course_free", "This course is free: enroll instead.")
	}
	enr, err := app.FindFirstRecordByFilter("enrollments", "course = {:c} && user = {:u} && status != 'cancelled'",
		dbx.Params{"c": course.Id, "u": userID})
	if err != nil && !isNotFound(err) {
		return err
	}
	if enr != nil {
		return courseError("validation_already_enrolled", "You are already enrolled in this course.")
	}
	paid, err := app.FindFirstRecordByFilter("orders", "course = {:c} && user = {:u} && status = 'paid'",
		dbx.Params{"c": course.Id, "u": userID})
	if err != nil && !isNotFound(err) {
		return err
	}
	if paid != nil {
		return courseError("validation_already_bought", "You have already bought this course.")
	}
	return nil
}

// reuseOpen answers the buyer's pending order for course if its session is
// still open at Stripe. A session that expired meanwhile expires its order
// (making room for a new one); one paid meanwhile is fulfilled and refused
// as bought.
func (s *Service) reuseOpen(ctx context.Context, app core.App, course *core.Record, userID string) (map[string]any, bool, error) {
	pending, err := app.FindFirstRecordByFilter("orders", "course = {:c} && user = {:u} && status = 'pending'",
		dbx.Params{"c": course.Id, "u": userID})
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	cs, err := s.retrieve(ctx, pending.GetString("stripeSessionId"))
	if err != nil {
		app.Logger().Warn("stripe: retrieve checkout session failed", "order", pending.Id, "error", stripeErr(err))
		return nil, false, apis.NewApiError(http.StatusBadGateway, "The payment provider could not be reached. Please try again.", nil)
	}
	switch {
	case cs.paid():
		if _, err := s.settle(app, pending.Id, cs); err != nil {
			return nil, false, err
		}
		return nil, false, courseError("validation_already_bought", "You have already bought this course.")
	case cs.Status == "open" && cs.URL != "":
		return map[string]any{"url": cs.URL, "sessionId": cs.ID}, true, nil
	default:
		status := StatusExpired
		if cs.Status == "complete" {
			status = StatusFailed
		}
		err := app.RunInTransaction(func(tx core.App) error {
			o, err := tx.FindRecordById("orders", pending.Id)
			if err != nil {
				return err
			}
			_, err = setStatus(tx, o, status)
			return err
		})
		return nil, false, err
	}
}

// handleSession is GET /api/checkout/{sessionId}: the order's state for the
// success page. A pending order is checked with Stripe and fulfilled on the
// spot when paid, so the page never waits on the webhook.
func (s *Service) handleSession(e *core.RequestEvent) error {
	if s.stripe == nil {
		return errNotConfigured()
	}
	order, err := e.App.FindFirstRecordByData("orders", "stripeSessionId", e.Request.PathValue("sessionId"))
	if err != nil || !mayView(e, order) {
		return e.NotFoundError("", nil)
	}
	if order.GetString("status") == StatusPending {
		cs, err := s.retrieve(e.Request.Context(), order.GetString("stripeSessionId"))
		switch {
		case err != nil:
			// the stored state is still the truth; the webhook will follow
			e.App.Logger().Warn("stripe: retrieve checkout session failed", "order", order.Id, "error", stripeErr(err))
		case cs.paid():
			if _, err := s.settle(e.App, order.Id, cs); err != nil {
				return err
			}
		case cs.Status == "expired":
			if err := e.App.RunInTransaction(func(tx core.App) error {
				o, err := tx.FindRecordById("orders", order.Id)
				if err != nil {
					return err
				}
				_, err = setStatus(tx, o, StatusExpired)
				return err
			}); err != nil {
				return err
			}
		}
		if order, err = e.App.FindRecordById("orders", order.Id); err != nil {
			return err
		}
	}
	var enrollment any
	enr, err := e.App.FindFirstRecordByFilter("enrollments", "course = {:c} && user = {:u}",
		dbx.Params{"c": order.GetString("course"), "u": order.GetString("user")})
	if err == nil {
		enrollment = enr
	} else if !isNotFound(err) {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{"status": order.GetString("status"), "order": order, "enrollment": enrollment})
}

// mayView: the buyer, admins and superusers (the orders view rule minus the
// instructor, who has no business on the buyer's success page).
func mayView(e *core.RequestEvent, order *core.Record) bool {
	if e.Auth.IsSuperuser() {
		return true
	}
	if e.Auth.Collection().Name != "users" {
		return false
	}
	return e.Auth.Id == order.GetString("user") || e.Auth.GetString("role") == "admin"
}

// settle fulfils order orderID from a session Stripe reports paid, in one
// transaction, and mails the receipt if this call made it paid.
func (s *Service) settle(app core.App, orderID string, cs session) (bool, error) {
	var paid bool
	var order *core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		var err error
		if order, err = tx.FindRecordById("orders", orderID); err != nil {
			return err
		}
		paid, err = fulfil(tx, order, cs)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("fulfil order %q: %w", orderID, err)
	}
	if paid {
		s.sendReceipt(app, order)
	}
	return paid, nil
}

// retrieve asks Stripe for a session and reads it like an event's.
func (s *Service) retrieve(ctx context.Context, id string) (session, error) {
	cs, err := s.stripe.V1CheckoutSessions.Retrieve(ctx, id, nil)
	if err != nil {
		return session{}, err
	}
	out := session{
		ID:                cs.ID,
		Status:            string(cs.Status),
		PaymentStatus:     string(cs.PaymentStatus),
		Currency:          string(cs.Currency),
		ClientReferenceID: cs.ClientReferenceID,
		Metadata:          cs.Metadata,
		URL:               cs.URL,
	}
	if cs.AmountTotal > 0 || out.paid() {
		amount := cs.AmountTotal
		out.AmountTotal = &amount
	}
	if cs.PaymentIntent != nil && cs.PaymentIntent.ID != "" {
		out.PaymentIntent = []byte(`"` + cs.PaymentIntent.ID + `"`)
	}
	return out, nil
}

// coursePage is the course's page on the site, under Settings → Application
// URL, or under fallback (the origin the request came to) when that is unset:
// Stripe needs absolute URLs.
func coursePage(app core.App, course *core.Record, fallback string) string {
	base := strings.TrimRight(app.Settings().Meta.AppURL, "/")
	if base == "" {
		base = fallback
	}
	slug := course.GetString("slug")
	if slug == "" {
		slug = course.Id
	}
	return base + "/courses/" + url.PathEscape(slug)
}

// requestOrigin is scheme://host of the request.
func requestOrigin(e *core.RequestEvent) string {
	scheme := "http"
	if e.IsTLS() {
		scheme = "https"
	}
	return scheme + "://" + e.Request.Host
}

// stripeErr describes a Stripe error for the log: its type, code and
// request id, never the request (which carries the key in a header).
func stripeErr(err error) string {
	var se *stripe.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s %s (%d, request %s): %s", se.Type, se.Code, se.HTTPStatusCode, se.RequestID, se.Msg)
	}
	return err.Error()
}
