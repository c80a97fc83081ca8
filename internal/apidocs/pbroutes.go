package apidocs

import (
	"fmt"
	"net/http"
	"strings"
)

// PocketBase's own endpoints that a frontend uses beside the record CRUD:
// auth, realtime, files and health.

func jsonBody(required bool, schema *obj) *obj {
	return o("required", required, "content", o("application/json", o("schema", schema)))
}

func jsonAnswer(desc string, schema *obj) *obj {
	return o("description", desc, "content", o("application/json", o("schema", schema)))
}

func props(kv ...any) *obj { return o(kv...) }

func strProp(desc string) *obj { return o("type", "string", "description", desc) }

func (b *openAPIBuilder) auth(c *collectionDoc) {
	name := c.Name
	tn := typeName(name)
	tag := name + "-auth"
	b.addTag(tag, fmt.Sprintf("Sign-in and account flows of the `%s` auth collection. The JS SDK wraps them (pb.collection(%q).authWithPassword(…)) and keeps the token in pb.authStore.", name, name))
	base := "/api/collections/" + name

	b.schemas.set(tn+"AuthResponse", o(
		"type", "object",
		"required", []any{"token", "record"},
		"properties", o(
			"token", strProp("The auth token to send in the Authorization header."),
			"record", o("$ref", "#/components/schemas/"+tn+"Record", "description", "The signed-in record, email included."),
			"meta", o("type", "object", "description", "OAuth2 only: the provider's data about the user."),
		),
	))
	if b.schemas.get("AuthMethods") == nil {
		enabled := func(extra *obj) *obj {
			p := o("enabled", o("type", "boolean"))
			for _, k := range extra.keys {
				p.set(k, extra.get(k))
			}
			return o("type", "object", "properties", p)
		}
		b.schemas.set("AuthMethods", o(
			"type", "object",
			"description", "The sign-in methods a collection allows.",
			"properties", o(
				"password", enabled(o("identityFields", o("type", "array", "items", o("type", "string")))),
				"oauth2", enabled(o("providers", o("type", "array", "items", o("type", "object", "properties", o(
					"name", o("type", "string"), "displayName", o("type", "string"), "state", o("type", "string"),
					"authURL", o("type", "string"), "codeVerifier", o("type", "string"),
					"codeChallenge", o("type", "string"), "codeChallengeMethod", o("type", "string"),
				))))),
				"mfa", enabled(o("duration", o("type", "integer", "description", "Seconds."))),
				"otp", enabled(o("duration", o("type", "integer", "description", "Seconds."))),
			),
		))
	}
	authAnswer := jsonAnswer("Signed in: the token and the record.", o("$ref", "#/components/schemas/"+tn+"AuthResponse"))
	noContent := o("description", "Done (no body).")
	anyone := "**Who may call it:** anyone."

	methods := newOp(http.MethodGet, base+"/auth-methods", name+"_authMethods", tag, "List the sign-in methods").describe(anyone)
	methods.answer(200, jsonAnswer("The enabled methods.", o("$ref", "#/components/schemas/AuthMethods")))
	methods.answer(429, tooManyRequests())
	b.add(methods)

	pw := newOp(http.MethodPost, base+"/auth-with-password", name+"_authWithPassword", tag, "Sign in with email and password").
		describe(anyone, "The answer's token goes into the Authorization header of later requests.")
	if !c.PasswordAuth.Enabled {
		pw.describe("Password sign-in is currently **disabled** for this collection (403).")
	}
	pw.o.set("parameters", paramRefs("expand", "fields"))
	pw.o.set("requestBody", jsonBody(true, o(
		"type", "object",
		"required", []any{"identity", "password"},
		"properties", props(
			"identity", strProp("The email (or another identity field: "+strings.Join(c.PasswordAuth.IdentityFields, ", ")+")."),
			"password", o("type", "string", "writeOnly", true),
			"identityField", strProp("Optional: which identity field to look the identity up in."),
		),
	)))
	pw.answer(200, authAnswer)
	pw.answer(400, errorResponse("Wrong identity or password (\"Failed to authenticate.\"), or a missing one."))
	if c.MFA.Enabled {
		pw.answer(401, jsonAnswer("MFA is on: a second method must follow, quoting this mfaId.", o("type", "object", "properties", o("mfaId", o("type", "string")))))
	}
	pw.answer(403, errorResponse("Password sign-in is disabled for the collection, or the collection's auth rule refuses this record."))
	pw.answer(429, errorResponse("Too many sign-in attempts from this IP (Lectern: 10 a minute)."))
	b.add(pw)

	refresh := newOp(http.MethodPost, base+"/auth-refresh", name+"_authRefresh", tag, "Refresh the auth token").
		describe("**Who may call it:** a signed-in record of this collection (its current token in the Authorization header).", "Returns a new token and the current record: the way to reload the signed-in user.")
	refresh.o.set("security", []any{o("authToken", []any{})})
	refresh.o.set("parameters", paramRefs("expand", "fields"))
	refresh.answer(200, authAnswer)
	refresh.answer(401, errorResponse("No valid token was sent."))
	refresh.answer(403, errorResponse("The token belongs to another collection."))
	refresh.answer(429, tooManyRequests())
	b.add(refresh)

	type flow struct {
		path, id, summary, who, about string
		body                          *obj
		auth                          bool
		answer400                     string
	}
	flows := []flow{
		{"/request-password-reset", "requestPasswordReset", "Email a password reset link", anyone,
			"Always 204 for a well-formed email, whether or not an account has it (no account enumeration). One email per 2 minutes per account.",
			o("type", "object", "required", []any{"email"}, "properties", props("email", o("type", "string", "format", "email"))), false,
			"Missing or malformed email."},
		{"/confirm-password-reset", "confirmPasswordReset", "Set a new password with the emailed token", anyone,
			"Also marks the email verified when it has not changed since the link was sent. Existing tokens stop working.",
			o("type", "object", "required", []any{"token", "password", "passwordConfirm"}, "properties", props(
				"token", strProp("The token from the email link."),
				"password", o("type", "string", "writeOnly", true),
				"passwordConfirm", o("type", "string", "writeOnly", true))), false,
			"Invalid or expired token, or an invalid password."},
		{"/request-verification", "requestVerification", "Email a verification link", anyone,
			"Always 204 for a well-formed email (no account enumeration).",
			o("type", "object", "required", []any{"email"}, "properties", props("email", o("type", "string", "format", "email"))), false,
			"Missing or malformed email."},
		{"/confirm-verification", "confirmVerification", "Mark the email verified with the emailed token", anyone, "",
			o("type", "object", "required", []any{"token"}, "properties", props("token", strProp("The token from the email link."))), false,
			"Invalid or expired token."},
		{"/request-email-change", "requestEmailChange", "Email a link to confirm a new email address",
			"**Who may call it:** the signed-in record itself.", "The email changes only once the link is confirmed.",
			o("type", "object", "required", []any{"newEmail"}, "properties", props("newEmail", o("type", "string", "format", "email"))), true,
			"Missing, malformed or taken email."},
		{"/confirm-email-change", "confirmEmailChange", "Change the email with the emailed token and the password", anyone,
			"Existing tokens stop working: sign in again.",
			o("type", "object", "required", []any{"token", "password"}, "properties", props(
				"token", strProp("The token from the email link."),
				"password", o("type", "string", "writeOnly", true, "description", "The account's current password."))), false,
			"Invalid or expired token, or a wrong password."},
	}
	if c.OTP.Enabled {
		flows = append(flows,
			flow{"/request-otp", "requestOTP", "Email a one-time password", anyone, "Answers 200 with an otpId whether or not an account has the email.",
				o("type", "object", "required", []any{"email"}, "properties", props("email", o("type", "string", "format", "email"))), false,
				"Missing or malformed email."})
	}
	for _, f := range flows {
		p := newOp(http.MethodPost, base+f.path, name+"_"+f.id, tag, f.summary).describe(f.who)
		if f.about != "" {
			p.describe(f.about)
		}
		p.o.set("requestBody", jsonBody(true, f.body))
		if f.id == "requestOTP" {
			p.answer(200, jsonAnswer("The id of the OTP to sign in with.", o("type", "object", "properties", o("otpId", o("type", "string")))))
		} else {
			p.answer(204, noContent)
		}
		p.answer(400, errorResponse(f.answer400))
		if f.auth {
			p.o.set("security", []any{o("authToken", []any{})})
			p.answer(401, errorResponse("No valid token was sent."))
			p.answer(403, errorResponse("The token belongs to another collection."))
		}
		p.answer(429, tooManyRequests())
		b.add(p)
	}
	if c.OTP.Enabled {
		p := newOp(http.MethodPost, base+"/auth-with-otp", name+"_authWithOTP", tag, "Sign in with a one-time password").describe(anyone)
		p.o.set("requestBody", jsonBody(true, o("type", "object", "required", []any{"otpId", "password"}, "properties", props(
			"otpId", strProp("From request-otp."), "password", o("type", "string", "writeOnly", true, "description", "The emailed code.")))))
		p.answer(200, authAnswer)
		p.answer(400, errorResponse("Invalid or expired OTP."))
		p.answer(429, tooManyRequests())
		b.add(p)
	}
	if c.OAuth2.Enabled {
		p := newOp(http.MethodPost, base+"/auth-with-oauth2", name+"_authWithOAuth2", tag, "Sign in (or sign up) with an OAuth2 provider").
			describe(anyone, "The JS SDK's authWithOAuth2({provider}) runs the whole flow in a popup through the realtime connection.")
		p.o.set("requestBody", jsonBody(true, o("type", "object", "required", []any{"provider", "code", "redirectURL"}, "properties", props(
			"provider", strProp("A provider name from auth-methods."),
			"code", strProp("The authorization code from the provider's redirect."),
			"codeVerifier", strProp("The PKCE verifier from auth-methods."),
			"redirectURL", strProp("The redirect URL used for the code."),
			"createData", o("type", "object", "description", "Fields for the record when this sign-in creates it.")))))
		p.answer(200, authAnswer)
		p.answer(400, errorResponse("The code could not be exchanged, or the new record is invalid."))
		p.answer(429, tooManyRequests())
		b.add(p)
	}
}

func (b *openAPIBuilder) realtime() {
	b.addTag("realtime", "Live record events over Server-Sent Events. The JS SDK's pb.collection(name).subscribe(topic, callback) does all of this.")
	var topics []string
	var events []any
	for _, c := range b.m.collections {
		tn := typeName(c.Name)
		topics = append(topics, "`"+c.Name+"/*`")
		b.schemas.set(tn+"RealtimeEvent", o(
			"type", "object",
			"description", "The data of an event on a `"+c.Name+"` topic.",
			"required", []any{"action", "record"},
			"properties", o(
				"action", o("type", "string", "enum", []any{"create", "update", "delete"}, "description", "`delete`: deleted, or out of this subscriber's view after an update (the record is then as the subscriber last saw it)."),
				"record", o("$ref", "#/components/schemas/"+tn+"Record"),
			),
		))
		events = append(events, o("$ref", "#/components/schemas/"+tn+"RealtimeEvent"))
	}

	connect := newOp(http.MethodGet, "/api/realtime", "realtime_connect", "realtime", "Open the event stream").
		describe("**Who may call it:** anyone.",
			"Opens a `text/event-stream`. The first event, `PB_CONNECT`, carries `{\"clientId\": \"…\"}`: send it with POST /api/realtime to choose topics. Each later event is named by the topic it matched and its data is `{action, record}` (see the *RealtimeEvent schemas).",
			"A subscriber receives only the events of records its rules let it see: the list rule for `<collection>/*`, the view rule for `<collection>/<id>`, checked with the auth of the subscribe request. Derived changes (counters, ratings, progress, scheduled publishing) arrive as ordinary updates. An update that takes a record out of a subscriber's view (a comment hidden or flagged, a post or course back to draft, a record that stops matching the subscription's filter), or a record whose rule reads it (a draft post's comments, a cancelled enrollment's lessons), arrives to that subscriber as a `delete` carrying the record as it last saw it; a record coming into view arrives as an `update`. An idle connection closes after 5 minutes; the SDK reconnects and resubscribes.")
	connect.answer(200, o("description", "The event stream.", "content", o("text/event-stream", o(
		"schema", o("type", "string", "description", "SSE frames: `id:<clientId>`, `event:<topic>`, `data:<json>`."),
		"examples", o("connect", o("value", "id:Hn7d…\nevent:PB_CONNECT\ndata:{\"clientId\":\"Hn7d…\"}\n\n")),
	))))
	b.add(connect)

	sub := newOp(http.MethodPost, "/api/realtime", "realtime_subscribe", "realtime", "Set the topics of a connection").
		describe("**Who may call it:** the client that opened the stream (same auth as when it subscribed; changing the auth needs a new subscribe).",
			"Replaces the connection's topics. A topic is `<collection>/*` (every record the list rule lets through) or `<collection>/<recordId>` (one record, view rule), optionally followed by `?options=` and URL-encoded JSON `{\"query\": {\"filter\": \"…\", \"expand\": \"…\", \"fields\": \"…\"}, \"headers\": {}}` to narrow and shape the events. Topics here: "+strings.Join(topics, ", ")+".")
	sub.o.set("requestBody", jsonBody(true, o(
		"type", "object",
		"required", []any{"clientId"},
		"properties", o(
			"clientId", strProp("From the PB_CONNECT event."),
			"subscriptions", o("type", "array", "maxItems", 1000, "items", o("type", "string", "maxLength", 2500), "examples", []any{[]any{"comments/*?options=" + "%7B%22query%22%3A%7B%22filter%22%3A%22post%3D%27abc%27%22%7D%7D", "courses/RECORD_ID"}}),
		),
	)))
	sub.answer(204, o("description", "Topics set."))
	sub.answer(400, errorResponse("Missing clientId or malformed topics."))
	sub.answer(403, errorResponse("The request's auth differs from the one the client subscribed with."))
	sub.answer(404, errorResponse("No open connection has this clientId."))
	sub.answer(429, tooManyRequests())
	b.add(sub)

	if len(events) > 0 {
		b.schemas.set("RealtimeEvent", o("description", "The data of any record event.", "oneOf", events))
	}
}

func (b *openAPIBuilder) files() {
	b.addTag("files", "Uploaded files (avatars, covers) and their thumbs.")
	p := newOp(http.MethodGet, "/api/files/{collection}/{recordId}/{filename}", "files_download", "files", "Download a file or its thumb").
		describe("**Who may call it:** anyone for public files; a protected file needs a `token` from POST /api/files/token.",
			"A record's file fields hold file names; this is their URL (the JS SDK: pb.files.getURL(record, name, {thumb: \"100x100\"})).")
	p.o.set("parameters", []any{
		o("name", "collection", "in", "path", "required", true, "description", "Collection id or name.", "schema", o("type", "string")),
		o("name", "recordId", "in", "path", "required", true, "schema", o("type", "string")),
		o("name", "filename", "in", "path", "required", true, "schema", o("type", "string")),
		o("name", "thumb", "in", "query", "description", "A thumb size the field defines (e.g. `100x100`, `640x360`); images only. An undefined size serves the original.", "schema", o("type", "string", "pattern", `^\d+x\d+[tbf]?$`)),
		o("name", "download", "in", "query", "description", "`1` or `true` to send it as an attachment.", "schema", o("type", "boolean")),
		o("name", "token", "in", "query", "description", "A file token, for protected files.", "schema", o("type", "string")),
	})
	p.answer(200, o("description", "The file.", "content", o("*/*", o("schema", o("type", "string", "format", "binary")))))
	p.answer(400, errorResponse("The record or collection does not match the path."))
	p.answer(404, errorResponse("No such file, or the caller may not see the record of a protected file."))
	p.answer(429, tooManyRequests())
	b.add(p)

	tok := newOp(http.MethodPost, "/api/files/token", "files_token", "files", "Get a short-lived file token").
		describe("**Who may call it:** any signed-in record.", "Needed only to download protected files.")
	tok.o.set("security", []any{o("authToken", []any{})})
	tok.answer(200, jsonAnswer("The token.", o("type", "object", "properties", o("token", o("type", "string")))))
	tok.answer(401, errorResponse("No valid token was sent."))
	b.add(tok)

	b.addTag("health", "Liveness for load balancers and the Docker health check.")
	h := newOp(http.MethodGet, "/api/health", "health", "health", "Health check").describe("**Who may call it:** anyone.")
	h.answer(200, jsonAnswer("The server is up.", o("type", "object", "properties", o(
		"code", o("type", "integer"), "message", o("type", "string"), "data", o("type", "object")))))
	b.add(h)
}
