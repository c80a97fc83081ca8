package apidocs

import "net/http"

// Lectern's mail endpoints (internal/mail): the newsletter's double opt-in
// and one-click unsubscribe, and the contact form.

const (
	PathNewsletterSubscribe   = "/api/newsletter/subscribe"
	PathNewsletterConfirm     = "/api/newsletter/confirm"
	PathNewsletterUnsubscribe = "/api/newsletter/unsubscribe"
	PathContact               = "/api/contact"
)

var mailRoutes = []lecternRoute{
	{http.MethodPost, PathNewsletterSubscribe, (*openAPIBuilder).newsletterSubscribe},
	{http.MethodPost, PathNewsletterConfirm, (*openAPIBuilder).newsletterConfirm},
	{http.MethodPost, PathNewsletterUnsubscribe, (*openAPIBuilder).newsletterUnsubscribe},
	{http.MethodPost, PathContact, (*openAPIBuilder).contact},
}

func notConfigured(feature string) *obj {
	return errorResponse("Mail is not configured (dashboard → Settings → Mail, SMTP): `{\"status\":503,\"message\":\"" + feature + " is not configured.\",\"data\":{}}`; nothing is stored.")
}

func emptyAnswer(desc string) *obj {
	return jsonAnswer(desc, o("type", "object", "maxProperties", 0))
}

func (b *openAPIBuilder) newsletterSubscribe() {
	p := newOp(http.MethodPost, PathNewsletterSubscribe, "newsletter_subscribe", "mail", "Subscribe an address to the newsletter").
		describe("**Who may call it:** anyone. The answer is the same 202 whether the address is new, pending, active or unsubscribed: nobody learns who is subscribed.",
			"A pending or unsubscribed address is sent one confirmation mail (double opt-in) linking to the site's page `/newsletter/confirm?token=…`; asking again within an hour mails nothing more. An active address gets nothing. A signed-in user subscribing their own verified address (or sending no email) is active at once, without a mail, with the topics sent.",
			"Per IP: 10 requests per 10 minutes.")
	p.o.set("requestBody", jsonBody(true, o(
		"type", "object",
		"properties", o(
			"email", o("type", "string", "format", "email", "maxLength", 254, "description", "Required for guests; a signed-in user may leave it out to use their account's address."),
			"topics", o("type", "array", "maxItems", 100, "items", o("type", "string"), "description", "Topic ids; empty or absent = every topic."),
		),
	)))
	p.answer(202, emptyAnswer("Accepted (always the same empty object)."))
	p.answer(400, errorResponse("A missing or malformed `email`, or an unknown id in `topics`."))
	p.answer(429, tooManyRequests())
	p.answer(503, notConfigured("Newsletter"))
	b.add(p)
}

func tokenBody(desc string) *obj {
	return jsonBody(true, o("type", "object", "required", []any{"token"}, "properties", o("token", strProp(desc))))
}

func (b *openAPIBuilder) newsletterConfirm() {
	p := newOp(http.MethodPost, PathNewsletterConfirm, "newsletter_confirm", "mail", "Confirm a subscription").
		describe("**Who may call it:** whoever holds the token of a confirmation mail (the site's `/newsletter/confirm` page sends it when the reader clicks). Tokens are single-use and expire after 48 hours.")
	p.o.set("requestBody", tokenBody("The `token` query parameter of the confirmation link."))
	p.answer(200, jsonAnswer("The subscription is active.", o("type", "object", "required", []any{"email", "status"}, "properties", o(
		"email", o("type", "string", "format", "email"),
		"status", o("type", "string", "enum", []any{"active"}),
	))))
	p.answer(400, errorResponse("The token is unknown, used or expired (error on `token`)."))
	p.answer(429, tooManyRequests())
	b.add(p)
}

func (b *openAPIBuilder) newsletterUnsubscribe() {
	p := newOp(http.MethodPost, PathNewsletterUnsubscribe, "newsletter_unsubscribe", "mail", "Unsubscribe (RFC 8058 one-click)").
		describe("**Who may call it:** whoever holds the token of a newsletter mail — no cookie, no session. Every newsletter mail carries `List-Unsubscribe: <{appURL}/api/newsletter/unsubscribe?token=…>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`; mail clients POST that URL with the body `List-Unsubscribe=One-Click`. The site's `/newsletter/unsubscribe` page sends `{\"token\"}` as JSON instead.",
			"The address is unsubscribed at once and gets no further mail (copies of an issue not yet sent to it are skipped). Repeating the request is harmless.")
	p.o.set("parameters", []any{o("name", "token", "in", "query", "description", "The token of the mail's List-Unsubscribe URL (or send it in a JSON body).", "schema", o("type", "string"))})
	form := o("type", "object", "properties", o("List-Unsubscribe", o("type", "string", "enum", []any{"One-Click"})))
	js := o("type", "object", "properties", o("token", strProp("The token, when not in the query.")))
	p.o.set("requestBody", o("required", false, "content", o(
		"application/x-www-form-urlencoded", o("schema", form),
		"application/json", o("schema", js),
	)))
	p.answer(200, jsonAnswer("Unsubscribed.", o("type", "object", "required", []any{"status"}, "properties", o(
		"status", o("type", "string", "enum", []any{"unsubscribed"}),
	))))
	p.answer(400, errorResponse("The token is unknown or expired (error on `token`)."))
	p.answer(429, tooManyRequests())
	b.add(p)
}

func (b *openAPIBuilder) contact() {
	p := newOp(http.MethodPost, PathContact, "contact", "mail", "Send a message to the site's admins").
		describe("**Who may call it:** anyone. The message is stored in `messages` (admins triage it in the dashboard) and mailed to every user with role `admin`, with Reply-To set to the sender.",
			"`website` is a honeypot that people leave empty (the site hides it): when filled, the answer is the same 202 but the message is stored as `spam` and mailed to nobody.",
			"Per IP: 5 requests per 10 minutes.")
	p.o.set("requestBody", jsonBody(true, o(
		"type", "object",
		"required", []any{"name", "email", "message"},
		"properties", o(
			"name", o("type", "string", "minLength", 1, "maxLength", 100),
			"email", o("type", "string", "format", "email", "maxLength", 254),
			"subject", o("type", "string", "maxLength", 200),
			"message", o("type", "string", "minLength", 1, "maxLength", 5000, "description", "Plain text (markup is removed)."),
			"website", o("type", "string", "description", "Honeypot: leave empty."),
		),
	)))
	p.answer(202, emptyAnswer("Accepted (always the same empty object)."))
	p.answer(400, errorResponse("A field error on `name`, `email`, `subject` or `message`."))
	p.answer(429, tooManyRequests())
	p.answer(503, notConfigured("Contact form"))
	b.add(p)
}
