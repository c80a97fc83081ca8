package checkout_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/checkout/stripetest"
	"lectern/internal/testkit"
)

func TestNotConfigured(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct{ method, path, who string }{
		{"POST", "/api/courses/" + e.course + "/checkout", testkit.Student},
		{"POST", "/api/stripe/webhook", ""},
		{"GET", "/api/checkout/cs_test_123", testkit.Student},
	} {
		r := e.do(c.method, c.path, c.who, map[string]any{}, nil)
		assert.Equal(t, 503, r.Status, c.path)
		assert.Equal(t, map[string]any{"status": 503.0, "message": "Payments are not configured on this server.", "data": map[string]any{}}, r.json(t), c.path)
	}
	// free courses work as before; paid ones still cannot be joined
	free := e.addCourse("Free Go", 0, "", "published")
	r := e.do("POST", "/api/collections/enrollments/records", testkit.Student2, map[string]any{"course": free}, nil)
	assert.Equal(t, 200, r.Status, string(r.Body))
	r = e.do("POST", "/api/collections/enrollments/records", testkit.Student2, map[string]any{"course": e.course}, nil)
	assert.Equal(t, 400, r.Status)
	assert.Contains(t, string(r.Body), `"course":{"code":"validation_course_must_be_purchased","message":"This course must be purchased."}`)
	assert.Equal(t, 0, e.count("orders"))
}

func TestPaidCourseEnrollment(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		name, who string
		body      map[string]any
		status    int
		user      string // the enrolled user on success
	}{
		{"student joining a paid course", testkit.Student, map[string]any{"course": e.course}, 400, ""},
		{"student joining a paid course for someone else", testkit.Student, map[string]any{"course": e.course, "user": testkit.UserStudent2}, 400, ""},
		{"instructor joining another's paid course", testkit.Instr2, map[string]any{"course": e.course}, 400, ""},
		{"admin enrolling a student for free", testkit.Admin, map[string]any{"course": e.course, "user": testkit.UserStudent}, 200, testkit.UserStudent},
		{"admin enrolling themselves", testkit.Admin, map[string]any{"course": e.course}, 200, testkit.UserAdmin},
		{"superuser enrolling a student for free", testkit.Superuser, map[string]any{"course": e.course, "user": testkit.UserStudent2}, 200, testkit.UserStudent2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/collections/enrollments/records", c.who, c.body, nil)
			require.Equal(t, c.status, r.Status, string(r.Body))
			if c.status == 400 {
				assert.Contains(t, string(r.Body), `"This course must be purchased."`)
				return
			}
			assert.Equal(t, c.user, r.json(t)["user"])
			assert.Equal(t, "active", r.json(t)["status"])
		})
	}
	assert.Equal(t, 3, e.enrollmentsCount(e.course))
	// a student may switch their free course off and on, but not a paid one back on
	enr := e.enrollments(e.course, testkit.UserStudent)[0]
	r := e.do("PATCH", "/api/collections/enrollments/records/"+enr.Id, testkit.Student, map[string]any{"status": "cancelled"}, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	r = e.do("PATCH", "/api/collections/enrollments/records/"+enr.Id, testkit.Student, map[string]any{"status": "active"}, nil)
	assert.Equal(t, 400, r.Status, string(r.Body))
	assert.Contains(t, string(r.Body), "This course must be purchased.")
	r = e.do("PATCH", "/api/collections/enrollments/records/"+enr.Id, testkit.Admin, map[string]any{"status": "active"}, nil)
	assert.Equal(t, 200, r.Status, string(r.Body))
}

func TestCheckoutSession(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	e.app.Settings().Meta.AppURL = "https://learn.example.com"

	// the client's amount is ignored: the price is the course's
	r := e.do("POST", "/api/courses/"+e.course+"/checkout", testkit.Student, map[string]any{"amount": 1, "currency": "JPY"}, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	body := r.json(t)
	sid := body["sessionId"].(string)
	assert.True(t, strings.HasPrefix(sid, "cs_"), sid)
	assert.True(t, strings.HasPrefix(body["url"].(string), "https://checkout.stripe.com/"), body["url"])
	assert.Len(t, body, 2)

	order := e.order(sid)
	assert.Equal(t, "pending", order.GetString("status"))
	assert.Equal(t, testkit.UserStudent, order.GetString("user"))
	assert.Equal(t, e.course, order.GetString("course"))
	assert.Equal(t, "USD", order.GetString("currency"))

	var create *stripetest.Request
	for _, q := range mock.Requests() {
		if q.Method == "POST" && q.Path == "/v1/checkout/sessions" {
			create = &q
		}
	}
	require.NotNil(t, create)
	f := create.Form
	assert.Equal(t, "payment", f.Get("mode"))
	assert.Equal(t, "59900", f.Get("line_items[0][price_data][unit_amount]"))
	assert.Equal(t, "usd", f.Get("line_items[0][price_data][currency]"))
	assert.Equal(t, "Go for payments", f.Get("line_items[0][price_data][product_data][name]"))
	assert.Equal(t, "1", f.Get("line_items[0][quantity]"))
	assert.Equal(t, "true", f.Get("allow_promotion_codes"))
	assert.Equal(t, testkit.UserStudent, f.Get("client_reference_id"))
	assert.Equal(t, e.course, f.Get("metadata[course]"))
	assert.Equal(t, testkit.UserStudent, f.Get("metadata[user]"))
	assert.Equal(t, order.Id, f.Get("metadata[order]"))
	assert.Equal(t, order.Id, f.Get("payment_intent_data[metadata][order]"))
	assert.Equal(t, "https://learn.example.com/courses/go-for-payments?checkout={CHECKOUT_SESSION_ID}", f.Get("success_url"))
	assert.Equal(t, "https://learn.example.com/courses/go-for-payments?checkout=cancelled", f.Get("cancel_url"))
	assert.Equal(t, "lectern-order-"+order.Id, create.Header.Get("Idempotency-Key"))
	assert.Equal(t, "Bearer "+secretKey, create.Header.Get("Authorization"))
	assert.NotContains(t, string(r.Body), secretKey)

	// asking again reuses the open session: no second order
	again := e.checkout(testkit.Student, e.course)
	assert.Equal(t, sid, again)
	assert.Equal(t, 1, e.count("orders"))

	// the buyer sees the pending order; someone else does not
	r = e.do("GET", "/api/checkout/"+sid, testkit.Student, nil, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, "pending", r.json(t)["status"])
	assert.Nil(t, r.json(t)["enrollment"])
	assert.Equal(t, 404, e.do("GET", "/api/checkout/"+sid, testkit.Student2, nil, nil).Status)
	assert.Equal(t, 401, e.do("GET", "/api/checkout/"+sid, "", nil, nil).Status)
	// orders are not writable through the records API, even by the buyer
	assert.Equal(t, 403, e.do("POST", "/api/collections/orders/records", testkit.Student, map[string]any{"course": e.course, "status": "paid"}, nil).Status)
	assert.Equal(t, 403, e.do("PATCH", "/api/collections/orders/records/"+order.Id, testkit.Admin, map[string]any{"status": "paid"}, nil).Status)
	assert.Equal(t, 200, e.do("GET", "/api/collections/orders/records/"+order.Id, testkit.Instructor, nil, nil).Status)
	assert.Equal(t, 404, e.do("GET", "/api/collections/orders/records/"+order.Id, testkit.Student2, nil, nil).Status)
}

func TestCheckoutAmounts(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	cases := []struct {
		price    float64
		currency string
		amount   string
		cur      string
	}{
		{19.99, "USD", "1999", "usd"},
		{5990, "JPY", "5990", "jpy"},
		{99.5, "EUR", "9950", "eur"},
		{12.5, "KWD", "12500", "kwd"},
		{49, "", "4900", "usd"},
	}
	for i, c := range cases {
		course := e.addCourse("Priced course "+string(rune('A'+i)), c.price, c.currency, "published")
		e.checkout(testkit.Student, course)
		reqs := mock.Requests()
		last := reqs[len(reqs)-1]
		assert.Equal(t, c.amount, last.Form.Get("line_items[0][price_data][unit_amount]"), "%v %s", c.price, c.currency)
		assert.Equal(t, c.cur, last.Form.Get("line_items[0][price_data][currency]"))
	}
}

func TestCheckoutRefusals(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	free := e.addCourse("Free course", 0, "USD", "published")
	draft := e.addCourse("Draft course", 10, "USD", "draft")
	fractional := e.addCourse("Half yen", 0.5, "JPY", "published")
	r := e.do("POST", "/api/collections/enrollments/records", testkit.Admin, map[string]any{"course": e.course, "user": testkit.UserStudent2}, nil)
	require.Equal(t, 200, r.Status)
	cases := []struct {
		name, course, who string
		status            int
		code              string
	}{
		{"guest", e.course, "", 401, ""},
		{"student buying a free course", free, testkit.Student, 400, "validation_course_free"},
		{"student buying a draft course", draft, testkit.Student, 400, "validation_course_not_published"},
		{"enrolled student buying again", e.course, testkit.Student2, 400, "validation_already_enrolled"},
		{"student buying a course priced in half yen", fractional, testkit.Student, 400, "validation_course_price"},
		{"student buying a missing course", "nosuchcourse000", testkit.Student, 404, ""},
		{"superuser (not a users record)", e.course, testkit.Superuser, 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/courses/"+c.course+"/checkout", c.who, map[string]any{}, nil)
			assert.Equal(t, c.status, r.Status, string(r.Body))
			if c.code != "" {
				assert.Contains(t, string(r.Body), `"course":{"code":"`+c.code+`"`)
			}
		})
	}
	assert.Equal(t, 0, e.count("orders"))
}

func TestWebhookSignature(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	sid := e.checkout(testkit.Student, e.course)
	o := e.order(sid)
	payload := stripetest.Event("evt_sig_1", "checkout.session.completed", session(sid, o.Id, "paid", "pi_sig", 59900, "usd"))
	now := time.Now()
	tampered := []byte(strings.Replace(string(payload), "59900", "100", 1))
	cases := []struct {
		name   string
		body   []byte
		header string
	}{
		{"no signature", payload, ""},
		{"garbage header", payload, "nonsense"},
		{"wrong secret", payload, stripetest.Sign(payload, "whsec_other", now)},
		{"tampered body", tampered, stripetest.Sign(payload, webhookSecret, now)},
		{"stale timestamp (6 minutes)", payload, stripetest.Sign(payload, webhookSecret, now.Add(-6*time.Minute))},
		{"signature of another timestamp", payload, strings.Replace(stripetest.Sign(payload, webhookSecret, now), "t=", "t=1", 1)},
		{"not JSON but signed", []byte("hello"), stripetest.Sign([]byte("hello"), webhookSecret, now)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{}
			if c.header != "" {
				h["Stripe-Signature"] = c.header
			}
			r := e.do("POST", "/api/stripe/webhook", "", c.body, h)
			assert.Equal(t, 400, r.Status, string(r.Body))
			assert.Equal(t, 0, e.count("stripeEvents"))
			assert.Equal(t, "pending", e.order(sid).GetString("status"))
		})
	}
	// a valid delivery within the tolerance, in an older API version: applied
	r := e.do("POST", "/api/stripe/webhook", "", payload, map[string]string{"Stripe-Signature": stripetest.Sign(payload, webhookSecret, now.Add(-4*time.Minute))})
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, "paid", e.order(sid).GetString("status"))
	// a replay of it, even freshly signed, changes nothing
	r = e.deliver(payload)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, "duplicate", r.json(t)["outcome"])
	// an event Lectern does not handle: 200, not recorded
	r = e.deliver(stripetest.Event("evt_other", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}))
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, 1, e.count("stripeEvents"))
}

// step is one delivery in an ordering case.
type step struct {
	id, typ string
	obj     func(sid, order string) map[string]any
	at      int // seconds after the case's start, as Stripe's created time
}

func completed(ps string) func(string, string) map[string]any {
	return func(sid, order string) map[string]any { return session(sid, order, ps, "pi_case", 59900, "usd") }
}

func refunded(full bool, withOrder bool) func(string, string) map[string]any {
	return func(_, order string) map[string]any {
		ch := map[string]any{"id": "ch_case", "object": "charge", "payment_intent": "pi_case", "amount": 59900,
			"amount_refunded": 59900, "refunded": full, "currency": "usd", "metadata": map[string]any{}}
		if !full {
			ch["amount_refunded"] = 100
		}
		if withOrder {
			ch["metadata"] = map[string]any{"order": order}
		}
		return ch
	}
}

func disputed(status string) func(string, string) map[string]any {
	return func(string, string) map[string]any {
		return map[string]any{"id": "dp_case", "object": "dispute", "charge": "ch_case", "payment_intent": "pi_case", "status": status, "amount": 59900}
	}
}

func TestFulfilmentOrdering(t *testing.T) {
	mock := stripetest.Start(t)
	cases := []struct {
		name       string
		steps      []step
		order      string // final order status
		enrollment string // final enrollment status, "" for none
	}{
		{"completed and paid", []step{{"e1", "checkout.session.completed", completed("paid"), 0}}, "paid", "active"},
		{"completed delivered twice", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e1", "checkout.session.completed", completed("paid"), 0}}, "paid", "active"},
		{"async success after completed (paid)", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "checkout.session.async_payment_succeeded", completed("paid"), 1}}, "paid", "active"},
		{"async success before completed", []step{{"e2", "checkout.session.async_payment_succeeded", completed("paid"), 1}, {"e1", "checkout.session.completed", completed("unpaid"), 0}}, "paid", "active"},
		{"completed unpaid, then async success", []step{{"e1", "checkout.session.completed", completed("unpaid"), 0}, {"e2", "checkout.session.async_payment_succeeded", completed("paid"), 1}}, "paid", "active"},
		{"completed unpaid, then async failure", []step{{"e1", "checkout.session.completed", completed("unpaid"), 0}, {"e2", "checkout.session.async_payment_failed", completed("unpaid"), 1}}, "failed", ""},
		{"100% promotion code", []step{{"e1", "checkout.session.completed", completed("no_payment_required"), 0}}, "paid", "active"},
		{"expired", []step{{"e1", "checkout.session.expired", completed("unpaid"), 0}}, "expired", ""},
		{"expired delivered after completed", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "checkout.session.expired", completed("unpaid"), 1}}, "paid", "active"},
		{"full refund", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "charge.refunded", refunded(true, true), 1}}, "refunded", "cancelled"},
		{"full refund delivered twice", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "charge.refunded", refunded(true, false), 1}, {"e2", "charge.refunded", refunded(true, false), 1}}, "refunded", "cancelled"},
		{"partial refund keeps access", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "charge.refunded", refunded(false, true), 1}}, "paid", "active"},
		{"refund before the completed it refunds (by payment intent)", []step{{"e2", "charge.refunded", refunded(true, false), 1}, {"e1", "checkout.session.completed", completed("paid"), 0}}, "refunded", ""},
		{"refund before the completed it refunds (by order metadata)", []step{{"e2", "charge.refunded", refunded(true, true), 1}, {"e1", "checkout.session.completed", completed("paid"), 0}}, "refunded", ""},
		{"refund, then a late async success", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "charge.refunded", refunded(true, false), 1}, {"e3", "checkout.session.async_payment_succeeded", completed("paid"), 2}}, "refunded", "cancelled"},
		{"dispute opened", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "charge.dispute.created", disputed("needs_response"), 1}}, "paid", "cancelled"},
		{"dispute won", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "charge.dispute.created", disputed("needs_response"), 1}, {"e3", "charge.dispute.closed", disputed("won"), 2}}, "paid", "active"},
		{"dispute lost", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e2", "charge.dispute.created", disputed("needs_response"), 1}, {"e3", "charge.dispute.closed", disputed("lost"), 2}}, "paid", "cancelled"},
		{"dispute won delivered before it was opened", []step{{"e1", "checkout.session.completed", completed("paid"), 0}, {"e3", "charge.dispute.closed", disputed("won"), 2}, {"e2", "charge.dispute.created", disputed("needs_response"), 1}}, "paid", "active"},
		{"dispute opened before the completion arrived", []step{{"e2", "charge.dispute.created", disputed("needs_response"), 1}, {"e1", "checkout.session.completed", completed("paid"), 0}}, "paid", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, mock)
			sid := e.checkout(testkit.Student, e.course)
			o := e.order(sid)
			start := time.Now().Add(-time.Minute)
			for _, s := range c.steps {
				payload := stripetest.EventAt("evt_"+s.id, s.typ, start.Add(time.Duration(s.at)*time.Second), s.obj(sid, o.Id))
				r := e.deliver(payload)
				require.Equal(t, 200, r.Status, "%s %s: %s", s.id, s.typ, r.Body)
			}
			o = e.order(sid)
			assert.Equal(t, c.order, o.GetString("status"))
			enr := e.enrollments(e.course, testkit.UserStudent)
			if c.enrollment == "" {
				assert.Empty(t, enr)
			} else {
				require.Len(t, enr, 1)
				assert.Equal(t, c.enrollment, enr[0].GetString("status"))
			}
			want := 0
			if c.enrollment == "active" {
				want = 1
			}
			assert.Equal(t, want, e.enrollmentsCount(e.course), "enrollmentsCount")
			if c.order == "paid" || c.order == "refunded" {
				assert.Equal(t, 599.0, o.GetFloat("amount"))
				assert.Equal(t, "USD", o.GetString("currency"))
				assert.Equal(t, "pi_case", o.GetString("stripePaymentIntent"))
				assert.False(t, o.GetDateTime("paidAt").IsZero())
			}
			if c.order == "refunded" {
				assert.False(t, o.GetDateTime("refundedAt").IsZero())
			}
		})
	}
}

func TestDisputeNamingOnlyItsCharge(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	sid := e.checkout(testkit.Student, e.course)
	o := e.order(sid)
	require.Equal(t, 200, e.deliver(stripetest.Event("evt_dc1", "checkout.session.completed", session(sid, o.Id, "paid", "pi_dc", 59900, "usd"))).Status)
	// the dispute names the charge only: Lectern asks Stripe for its PaymentIntent
	mock.SetObject("/v1/charges/ch_dc", map[string]any{"payment_intent": "pi_dc"})
	r := e.deliver(stripetest.Event("evt_dc2", "charge.dispute.created", map[string]any{"id": "dp_dc", "object": "dispute", "charge": "ch_dc", "status": "needs_response"}))
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, "cancelled", e.enrollments(e.course, testkit.UserStudent)[0].GetString("status"))
	assert.Equal(t, 0, e.enrollmentsCount(e.course))
}

func TestAmountFromStripe(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	yen := e.addCourse("Go in yen", 5990, "JPY", "published")
	sid := e.checkout(testkit.Student, yen)
	o := e.order(sid)
	// a promotion code took 990 off: the order records what Stripe charged
	r := e.deliver(stripetest.Event("evt_yen", "checkout.session.completed", session(sid, o.Id, "paid", "pi_yen", 5000, "jpy")))
	require.Equal(t, 200, r.Status, string(r.Body))
	o = e.order(sid)
	assert.Equal(t, 5000.0, o.GetFloat("amount"))
	assert.Equal(t, "JPY", o.GetString("currency"))
}

func TestConcurrentDeliveries(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	sid := e.checkout(testkit.Student, e.course)
	o := e.order(sid)
	payload := stripetest.Event("evt_burst", "checkout.session.completed", session(sid, o.Id, "paid", "pi_burst", 59900, "usd"))
	mock.SetSession(sid, map[string]any{"status": "complete", "payment_status": "paid", "amount_total": 59900, "currency": "usd", "payment_intent": "pi_burst"})
	var wg sync.WaitGroup
	statuses := make([]int, 30)
	start := make(chan struct{})
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i < 20 { // 20 deliveries of one event …
				statuses[i] = e.deliver(payload).Status
			} else { // … racing the success page
				statuses[i] = e.do("GET", "/api/checkout/"+sid, testkit.Student, nil, nil).Status
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, s := range statuses {
		assert.Equal(t, 200, s, "request %d", i)
	}
	assert.Equal(t, "paid", e.order(sid).GetString("status"))
	assert.Len(t, e.enrollments(e.course, testkit.UserStudent), 1)
	assert.Equal(t, 1, e.enrollmentsCount(e.course))
	assert.Equal(t, 1, e.count("stripeEvents"))
}

func TestSuccessPageFulfils(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	sid := e.checkout(testkit.Student, e.course)
	// Stripe says paid before any webhook arrived
	mock.SetSession(sid, map[string]any{"status": "complete", "payment_status": "paid", "amount_total": 59900, "currency": "usd", "payment_intent": "pi_page"})
	r := e.do("GET", "/api/checkout/"+sid, testkit.Student, nil, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	body := r.json(t)
	assert.Equal(t, "paid", body["status"])
	assert.Equal(t, "paid", body["order"].(map[string]any)["status"])
	assert.Equal(t, 599.0, body["order"].(map[string]any)["amount"])
	assert.Equal(t, "active", body["enrollment"].(map[string]any)["status"])
	// the paid lesson opens
	assert.Equal(t, 200, e.do("GET", "/api/collections/lessons/records/"+e.lesson, testkit.Student, nil, nil).Status)
	// the webhook that follows changes nothing
	o := e.order(sid)
	r = e.deliver(stripetest.Event("evt_page", "checkout.session.completed", session(sid, o.Id, "paid", "pi_page", 59900, "usd")))
	require.Equal(t, 200, r.Status)
	assert.Equal(t, "already paid", r.json(t)["outcome"])
	assert.Len(t, e.enrollments(e.course, testkit.UserStudent), 1)
	// bought: a new checkout is refused
	r = e.do("POST", "/api/courses/"+e.course+"/checkout", testkit.Student, map[string]any{}, nil)
	assert.Equal(t, 400, r.Status)

	// an expired session expires its order on the page, and a new checkout may start
	sid2 := e.checkout(testkit.Student2, e.course)
	mock.SetSession(sid2, map[string]any{"status": "expired", "payment_status": "unpaid"})
	r = e.do("GET", "/api/checkout/"+sid2, testkit.Student2, nil, nil)
	assert.Equal(t, "expired", r.json(t)["status"])
	sid3 := e.checkout(testkit.Student2, e.course)
	assert.NotEqual(t, sid2, sid3)
}

func TestRefundLocksLessons(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	sid := e.checkout(testkit.Student, e.course)
	o := e.order(sid)
	lesson := "/api/collections/lessons/records/" + e.lesson
	assert.Equal(t, 404, e.do("GET", lesson, testkit.Student, nil, nil).Status, "locked before paying")

	require.Equal(t, 200, e.deliver(stripetest.Event("evt_pay", "checkout.session.completed", session(sid, o.Id, "paid", "pi_rf", 59900, "usd"))).Status)
	assert.Equal(t, 200, e.do("GET", lesson, testkit.Student, nil, nil).Status, "open once paid")
	assert.Equal(t, 1, e.enrollmentsCount(e.course))

	courseSub := subscribe(t, e.app, testkit.UserStudent, "courses/"+e.course)
	enrSub := subscribe(t, e.app, testkit.UserStudent, "enrollments")
	ch := map[string]any{"id": "ch_rf", "object": "charge", "payment_intent": "pi_rf", "amount": 59900, "amount_refunded": 59900, "refunded": true, "metadata": map[string]any{"order": o.Id}}
	r := e.deliver(stripetest.Event("evt_refund", "charge.refunded", ch))
	require.Equal(t, 200, r.Status, string(r.Body))

	assert.Equal(t, 404, e.do("GET", lesson, testkit.Student, nil, nil).Status, "locked again after the refund")
	assert.Equal(t, 0, e.enrollmentsCount(e.course))
	enrSub.waitFor(t, "enrollment cancelled", func(m map[string]any) bool {
		rec, _ := m["record"].(map[string]any)
		return m["action"] == "update" && rec["status"] == "cancelled"
	})
	courseSub.waitFor(t, "course enrollmentsCount 0", func(m map[string]any) bool {
		rec, _ := m["record"].(map[string]any)
		return m["action"] == "update" && rec["enrollmentsCount"] == 0.0
	})
	// the student cannot switch it back on
	enr := e.enrollments(e.course, testkit.UserStudent)[0]
	r = e.do("PATCH", "/api/collections/enrollments/records/"+enr.Id, testkit.Student, map[string]any{"status": "active"}, nil)
	assert.Equal(t, 400, r.Status, string(r.Body))
	o = e.order(sid)
	assert.Equal(t, "refunded", o.GetString("status"))
	// the free preview stays open
	assert.Equal(t, 1, mustList(t, e, testkit.Student))
}

func mustList(t *testing.T, e *env, who string) int {
	r := e.do("GET", "/api/collections/lessons/records?filter=course%3D%22"+e.course+"%22", who, nil, nil)
	require.Equal(t, 200, r.Status)
	return int(r.json(t)["totalItems"].(float64))
}

func TestReceiptMail(t *testing.T) {
	mock := stripetest.Start(t)
	e := newEnv(t, mock)
	e.app.Settings().SMTP.Enabled = true
	e.app.Settings().Meta.AppURL = "https://learn.example.com"
	sid := e.checkout(testkit.Student, e.course)
	o := e.order(sid)
	payload := stripetest.Event("evt_mail", "checkout.session.completed", session(sid, o.Id, "paid", "pi_mail", 59900, "usd"))
	require.Equal(t, 200, e.deliver(payload).Status)
	require.Equal(t, 200, e.deliver(payload).Status)
	require.Equal(t, 200, e.deliver(stripetest.Event("evt_mail2", "checkout.session.async_payment_succeeded", session(sid, o.Id, "paid", "pi_mail", 59900, "usd"))).Status)
	require.Equal(t, 1, e.app.TestMailer.TotalSend(), "one receipt however often Stripe delivers")
	msg := e.app.TestMailer.LastMessage()
	assert.Equal(t, "student@lectern.test", msg.To[0].Address)
	assert.Contains(t, msg.Subject, "Go for payments")
	assert.Contains(t, msg.Text, "USD 599.00")
	assert.Contains(t, msg.HTML, "https://learn.example.com/courses/go-for-payments")

	// without mail configured, nothing is sent
	e2 := newEnv(t, mock)
	e2.app.Settings().SMTP.Enabled = false
	sid2 := e2.checkout(testkit.Student, e2.course)
	require.Equal(t, 200, e2.deliver(stripetest.Event("evt_nomail", "checkout.session.completed", session(sid2, e2.order(sid2).Id, "paid", "pi_nomail", 59900, "usd"))).Status)
	assert.Equal(t, "paid", e2.order(sid2).GetString("status"))
	assert.Equal(t, 0, e2.app.TestMailer.TotalSend())
}

var _ = types.NowDateTime
