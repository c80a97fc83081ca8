package apidocs

import "net/http"

// Paid courses (internal/checkout): Stripe Checkout, the Stripe webhook and
// the success page's order state. The orders collection itself is documented
// from the schema like every collection.

func (b *openAPIBuilder) checkoutStart() {
	b.schemas.set("CheckoutSession", o(
		"type", "object",
		"required", []any{"url", "sessionId"},
		"properties", o(
			"url", o("type", "string", "format", "uri", "description", "Stripe Checkout's page: send the buyer there (window.location.assign(url))."),
			"sessionId", o("type", "string", "description", "The Checkout Session id (cs_...), also the key of GET /api/checkout/{sessionId}.", "examples", []any{"cs_test_a1b2c3"}),
		),
	))
	p := newOp(http.MethodPost, "/api/courses/{id}/checkout", "payments_checkout", "payments", "Buy a paid course with Stripe Checkout").
		describe("**Who may call it:** a signed-in user (users collection).",
			"Opens a Stripe Checkout Session in payment mode for the course's price and currency (taken from the course, never from the request; promotion codes allowed) and records a `pending` order. "+
				"Asking again while that session is open answers the same session. Stripe returns the buyer to the course page with `?checkout={sessionId}` (or `?checkout=cancelled`), under Settings → Application URL.")
	p.o.set("security", []any{o("authToken", []any{})})
	p.o.set("parameters", []any{o("name", "id", "in", "path", "required", true, "description", "The course id.", "schema", o("type", "string"))})
	p.o.set("requestBody", o("required", false, "description", "No fields are read; an empty body or `{}`.",
		"content", o("application/json", o("schema", o("type", "object")))))
	p.answer(200, jsonAnswer("The session to redirect to.", o("$ref", "#/components/schemas/CheckoutSession")))
	p.answer(400, errorResponse("On `course`: the course is free (enroll instead), not published, already bought or joined by the caller, or its price has no exact amount in its currency."))
	p.answer(401, errorResponse("Not signed in."))
	p.answer(403, errorResponse("Signed in, but not as a users record."))
	p.answer(404, errorResponse("No such course."))
	p.answer(429, tooManyRequests())
	p.answer(502, errorResponse("Stripe could not be reached; try again."))
	p.answer(503, errorResponse("Payments are not configured on this server (no LECTERN_STRIPE_SECRET_KEY)."))
	b.add(p)
}

func (b *openAPIBuilder) checkoutWebhook() {
	p := newOp(http.MethodPost, "/api/stripe/webhook", "payments_webhook", "payments", "Stripe's webhook endpoint").
		describe("**Who may call it:** Stripe. The `Stripe-Signature` header is verified on the raw body with LECTERN_STRIPE_WEBHOOK_SECRET (5-minute tolerance) before anything is read or stored.",
			"Handled: `checkout.session.completed` (fulfils when `payment_status` is `paid`), `checkout.session.async_payment_succeeded` (fulfils), `checkout.session.async_payment_failed` (order `failed`), "+
				"`checkout.session.expired` (order `expired`), `charge.refunded` (a full refund: order `refunded`, enrollment `cancelled`), `charge.dispute.created` (enrollment `cancelled`), "+
				"`charge.dispute.closed` (enrollment `active` again when `won`). Other types are answered 200 and ignored. Every event is applied once: a replay or a duplicate changes nothing.")
	p.o.set("security", []any{})
	p.o.set("parameters", []any{o("name", "Stripe-Signature", "in", "header", "required", true, "schema", o("type", "string"), "description", "t=<unix time>,v1=<hex HMAC-SHA256>")})
	p.o.set("requestBody", o("required", true, "content", o("application/json", o("schema", o(
		"type", "object", "description", "A Stripe event, in the webhook endpoint's API version.",
		"required", []any{"id", "type", "data"},
		"properties", o("id", o("type", "string"), "type", o("type", "string"), "data", o("type", "object")),
	)))))
	p.answer(200, jsonAnswer("Received (applied, a duplicate, or ignored).", o(
		"type", "object",
		"required", []any{"received"},
		"properties", o(
			"received", o("type", "boolean", "const", true),
			"outcome", o("type", "string", "description", "What Lectern did, for Stripe's delivery log: fulfilled, duplicate, refunded, ignored…"),
		),
	)))
	p.answer(400, errorResponse("A missing, invalid or stale signature, or not an event: nothing changed."))
	p.answer(500, errorResponse("The event could not be applied now; Stripe delivers it again."))
	p.answer(503, errorResponse("Payments are not configured on this server (no LECTERN_STRIPE_WEBHOOK_SECRET)."))
	b.add(p)
}

func (b *openAPIBuilder) checkoutState() {
	order := o("type", "object", "description", "The order, as GET /api/collections/orders/records/{id} returns it.")
	if b.m.byName("orders") != nil {
		order = o("$ref", "#/components/schemas/"+typeName("orders")+"Record")
	}
	enrollment := o("type", "object")
	if b.m.byName("enrollments") != nil {
		enrollment = o("$ref", "#/components/schemas/"+typeName("enrollments")+"Record")
	}
	b.schemas.set("CheckoutState", o(
		"type", "object",
		"required", []any{"status", "order", "enrollment"},
		"properties", o(
			"status", o("type", "string", "enum", []any{"pending", "paid", "failed", "expired", "refunded"}, "description", "The order's status."),
			"order", order,
			"enrollment", o("oneOf", []any{enrollment, o("type", "null")}, "description", "The buyer's enrollment in the course, null before fulfilment."),
		),
	))
	p := newOp(http.MethodGet, "/api/checkout/{sessionId}", "payments_state", "payments", "The order of a Checkout Session (the success page)").
		describe("**Who may call it:** the buyer (and admins).",
			"While the order is `pending` the server asks Stripe for the session and fulfils the order on the spot when it is paid, so the success page never waits on the webhook. Poll it until `status` is not `pending`.")
	p.o.set("security", []any{o("authToken", []any{})})
	p.o.set("parameters", []any{o("name", "sessionId", "in", "path", "required", true, "description", "The Checkout Session id (the success URL's `checkout` parameter).", "schema", o("type", "string"))})
	p.answer(200, jsonAnswer("The order's state.", o("$ref", "#/components/schemas/CheckoutState")))
	p.answer(401, errorResponse("Not signed in."))
	p.answer(404, errorResponse("No order of the caller has this session."))
	p.answer(503, errorResponse("Payments are not configured on this server."))
	b.add(p)
}
