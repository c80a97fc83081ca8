package apidocs

import "net/http"

// The webhooks routes (internal/webhooks). The paths are repeated here, not
// imported: apidocs describes routes without depending on their packages.
const (
	PathWebhookRetryDelivery = "/api/webhooks/deliveries/{id}/retry"
	PathWebhookRetryFailed   = "/api/webhooks/{id}/retry-failed"
)

const webhooksTag = "Send webhook deliveries again. Webhooks themselves are the `webhooks` collection " +
	"(admins and superusers), their deliveries the `webhookDeliveries` collection and each delivery's " +
	"attempts (time, HTTP status, error, duration, the start of the answer) the `webhookAttempts` " +
	"collection (admins read both; written by the server): each delivery is a Standard Webhooks signed " +
	"POST, retried about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after failures, then dead."

func (b *openAPIBuilder) webhookRetryDelivery() {
	p := newOp(http.MethodPost, PathWebhookRetryDelivery, "webhooks_retryDelivery", "webhooks", "Send one delivery again").
		describe("**Who may call it:** admins and superusers (the `webhooks` update rule, on the delivery's webhook).",
			"Makes the delivery due at once, whatever its status (pending, failed, dead or even delivered), and wakes the sender: "+
				"the POST goes out within moments, with the same `webhook-id`. Its attempts count is kept, so a dead delivery "+
				"that fails again is dead again. The answer is the delivery as now stored (status `pending`).")
	p.o.set("parameters", []any{o("name", "id", "in", "path", "required", true, "description", "The delivery's id.", "schema", o("type", "string"))})
	if b.m.byName("webhookDeliveries") != nil {
		p.answer(200, jsonAnswer("The delivery, now pending.", o("$ref", "#/components/schemas/"+typeName("webhookDeliveries")+"Record")))
	} else {
		p.answer(200, jsonAnswer("The delivery, now pending.", o("type", "object")))
	}
	p.answer(400, errorResponse("The delivery's webhook is inactive: set it active first."))
	p.answer(401, errorResponse("No auth token."))
	p.answer(404, errorResponse("No such delivery, or the caller may not manage its webhook."))
	p.answer(429, tooManyRequests())
	b.add(p)
}

func (b *openAPIBuilder) webhookRetryFailed() {
	p := newOp(http.MethodPost, PathWebhookRetryFailed, "webhooks_retryFailed", "webhooks", "Send every failed delivery of a webhook again").
		describe("**Who may call it:** admins and superusers (the `webhooks` update rule).",
			"After a receiver's outage: every delivery of the webhook created at or after `since` whose status is `failed` or `dead` "+
				"becomes due at once. The answer counts them.")
	p.badMessage, p.badField = "Invalid retry request.", "since"
	p.o.set("parameters", []any{o("name", "id", "in", "path", "required", true, "description", "The webhook's id.", "schema", o("type", "string"))})
	p.o.set("requestBody", o("required", true, "content", o("application/json", o("schema", o(
		"type", "object",
		"required", []any{"since"},
		"properties", o("since", o("type", "string", "description", "RFC 3339 (or "+dateWords+"): deliveries created at or after it.", "examples", []any{"2026-12-01T08:00:00Z"})),
	)))))
	p.answer(200, jsonAnswer("How many deliveries were made due.", o(
		"type", "object", "required", []any{"retried"},
		"properties", o("retried", o("type", "integer", "minimum", 0)),
	)))
	p.answer(400, errorResponse("since is missing or not a date (named in data), or the webhook is inactive."))
	p.answer(401, errorResponse("No auth token."))
	p.answer(404, errorResponse("No such webhook, or the caller may not manage it."))
	p.answer(429, tooManyRequests())
	b.add(p)
}
