package apidocs

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"lectern/hooks"
)

// dateLayout is how PocketBase writes every date: UTC, a space instead of
// RFC 3339's "T", always milliseconds.
const (
	dateLayout  = "2006-01-02 15:04:05.000Z"
	dateExample = "2026-05-01 09:30:00.000Z"
	datePattern = `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$`
	dateWords   = `PocketBase's date format "YYYY-MM-DD HH:MM:SS.sssZ" in UTC (a space, not RFC 3339's "T")`
)

// Options tunes what the document says about the server it describes.
type Options struct {
	// HasRoute reports whether the server routes method+path; Lectern's own
	// routes (search, feeds, these docs) are documented only when present.
	// Nil means none of them is.
	HasRoute func(method, path string) bool
	// MaxPerPage is the perPage cap lists apply.
	MaxPerPage int
	// Version goes into info.version.
	Version string
}

// schema modes: the same field is shown differently in a response and in
// each kind of request body.
type mode int

const (
	modeResponse mode = iota
	modeJSONCreate
	modeJSONUpdate
	modeForm // multipart/form-data, create or update
)

type openAPIBuilder struct {
	m          *model
	opts       Options
	paths      *obj
	schemas    *obj
	tags       []any
	answerNote string
}

// BuildOpenAPI returns the OpenAPI 3.1 document of the API the collections
// define, with PocketBase's own endpoints and Lectern's routes.
func BuildOpenAPI(collections []*core.Collection, opts Options) ([]byte, error) {
	if opts.MaxPerPage <= 0 {
		opts.MaxPerPage = 1000
	}
	if opts.HasRoute == nil {
		opts.HasRoute = func(string, string) bool { return false }
	}
	b := &openAPIBuilder{m: newModel(collections), opts: opts, paths: o(), schemas: o()}
	b.commonSchemas()
	// the order here is the order of the docs page
	for _, c := range b.m.collections {
		b.collection(c)
		if c.IsAuth() {
			b.auth(c)
		}
	}
	b.lecternRoutes("search", "graphql", "mail", "feeds", "webhooks", "payments", "courses")
	b.realtime()
	b.files()
	b.lecternRoutes("reference", "operations")

	doc := o(
		"openapi", "3.1.0",
		"info", o(
			"title", "Lectern API",
			"version", opts.Version,
			"summary", "The blog + course backend, generated from the live collections.",
			"description", infoDescription(opts.MaxPerPage),
		),
		"servers", []any{o("url", "/", "description", "This server")},
		"security", []any{o(), o("authToken", []any{})},
		"tags", b.tags,
		"paths", b.paths,
		"components", o(
			"schemas", b.schemas,
			"parameters", commonParameters(opts.MaxPerPage),
			"securitySchemes", o(
				"authToken", o(
					"type", "apiKey",
					"in", "header",
					"name", "Authorization",
					"description", "The token from an auth-with-* or auth-refresh answer, as is (a \"Bearer \" prefix is accepted too). Without it the caller is a guest; with a token that fails verification (expired, bad signature, unknown account) every route but sign-in answers 401, `data.token.code` saying why. The JS SDK sends it from pb.authStore.",
				),
			),
		),
	)
	return marshal(doc)
}

func infoDescription(maxPerPage int) string {
	return strings.Join([]string{
		"Lectern is a blog (posts, threaded comments) and a course catalogue (courses, lessons, enrollments, reviews) on PocketBase. This reference is generated at run time from the collections, so it follows schema changes made in the dashboard without a restart. The JS SDK types are at [/api/types.d.ts](/api/types.d.ts).",
		"**Auth.** Send the token of an auth-with-password (or auth-refresh) answer in the `Authorization` header; use the Authorize button to try calls as a user. Rules key on `@request.auth.role` (student, author, instructor, admin). PocketBase superusers (dashboard accounts) bypass every rule.",
		"**Dates** are " + dateWords + ", e.g. `" + dateExample + "`, or \"\" when not set. Requests also accept RFC 3339.",
		"**Server-set fields** (readOnly here) ignore client values: the request succeeds with the server's value, so a frontend may send a whole record back.",
		"**Errors** are `{status, message, data}`; a 400's `data` names each bad field with `{code, message}`. Viewing, updating or deleting a record the caller may not see is a 404; a list returns only the visible rows.",
		fmt.Sprintf("**Lists** default to 30 items a page; a perPage above %d is clamped to %d. **Rate limits** apply per client IP (429 with the error shape).", maxPerPage, maxPerPage),
	}, "\n\n")
}

// ---

func (b *openAPIBuilder) commonSchemas() {
	b.schemas.set("Error", o(
		"type", "object",
		"description", "PocketBase's error shape.",
		"required", []any{"status", "message", "data"},
		"properties", o(
			"status", o("type", "integer", "description", "The HTTP status."),
			"message", o("type", "string", "description", "A short sentence for people."),
			"data", o(
				"type", "object",
				"description", "Field errors by field name (empty for errors that are not about a field).",
				"additionalProperties", o("$ref", "#/components/schemas/FieldError"),
			),
		),
	))
	b.schemas.set("FieldError", o(
		"type", "object",
		"required", []any{"code", "message"},
		"properties", o(
			"code", o("type", "string", "examples", []any{"validation_required"}),
			"message", o("type", "string", "examples", []any{"Cannot be blank."}),
		),
	))
	b.schemas.set("Date", o(
		"type", "string",
		"pattern", datePattern,
		"description", "A date in "+dateWords+".",
		"examples", []any{dateExample},
	))
}

func errorContent() *obj {
	return o("application/json", o("schema", o("$ref", "#/components/schemas/Error")))
}

func errorResponse(desc string) *obj {
	return o("description", desc, "content", errorContent())
}

// badToken is the 401 of every API route but the sign-in ones when the
// Authorization header's token fails verification (hooks/tokens.go).
func badToken() *obj {
	return errorResponse("The Authorization header holds a token that fails verification; `data.token.code` says why (" +
		strings.Join(hooks.BadTokenCodes(), ", ") + "). Sign in again, or send no header to be a guest.")
}

func tooManyRequests() *obj {
	return errorResponse("Too many requests from this client IP (a rate limit of Settings → Rate limiting).")
}

func commonParameters(maxPerPage int) *obj {
	return o(
		"page", o("name", "page", "in", "query", "description", "Page number, from 1.",
			"schema", o("type", "integer", "minimum", 1, "default", 1)),
		// no "maximum": a larger perPage is accepted and clamped (the JS SDK's
		// getFullList asks for 1000), so a maximum here would call valid
		// requests invalid; the list answer's perPage carries the cap
		"perPage", o("name", "perPage", "in", "query",
			"description", fmt.Sprintf("Items per page. Above %d it is clamped to %d, not refused (the answer's perPage says the size used).", maxPerPage, maxPerPage),
			"schema", o("type", "integer", "minimum", 1, "default", 30)),
		"sort", o("name", "sort", "in", "query",
			"description", "Comma-separated fields, `-` for descending, e.g. `-publishedAt,title`; `@random` shuffles.",
			"schema", o("type", "string")),
		"filter", o("name", "filter", "in", "query",
			"description", "A PocketBase filter expression, e.g. `status = \"published\" && created > \"2026-01-01\"`. It narrows what the list rule lets through; it never widens it.",
			"schema", o("type", "string")),
		"expand", o("name", "expand", "in", "query",
			"description", "Comma-separated relations to expand into the record's `expand` object, nested with dots (`author,topics`, `post.author`), back-relations as `<collection>_via_<field>`; up to 6 levels. A related record the caller may not view is left out.",
			"schema", o("type", "string")),
		"fields", o("name", "fields", "in", "query",
			"description", "Comma-separated fields to return (`id,title,expand.author.name`); `*` for all at a level; `:excerpt(200,true)` shortens text. The answer then holds only those fields, whatever the schema marks required.",
			"schema", o("type", "string")),
		"skipTotal", o("name", "skipTotal", "in", "query",
			"description", "Skip counting: faster; totalItems and totalPages are then -1.",
			"schema", o("type", "boolean")),
		"recordId", o("name", "id", "in", "path", "required", true,
			"description", "The record id.",
			"schema", o("type", "string")),
	)
}

func paramRefs(names ...string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = o("$ref", "#/components/parameters/"+n)
	}
	return out
}

// ---

// addTag adds a tag, or extends the description of one already there: a
// collection and a group of routes may share a name (the webhooks collection
// and the webhook retry routes), and OpenAPI allows each name once.
func (b *openAPIBuilder) addTag(name, desc string) {
	for _, t := range b.tags {
		if tag := t.(*obj); tag.get("name") == name {
			tag.set("description", tag.get("description").(string)+" "+desc)
			return
		}
	}
	b.tags = append(b.tags, o("name", name, "description", desc))
}

// op is one operation under construction: its answers become both the
// responses object and the list in the description.
type op struct {
	method, path string
	o            *obj
	description  []string
	answers      []opAnswer
	// badMessage and badField shape the example of a 400 answer.
	badMessage, badField string
}

type opAnswer struct {
	status   string
	response *obj
}

func newOp(method, path, id, tag, summary string) *op {
	return &op{method: method, path: path, o: o("tags", []any{tag}, "summary", summary, "operationId", id)}
}

func (p *op) describe(s ...string) *op { p.description = append(p.description, s...); return p }

func (p *op) answer(status int, resp *obj) *op {
	p.answers = append(p.answers, opAnswer{strconv.Itoa(status), resp})
	return p
}

func (b *openAPIBuilder) add(p *op) {
	if hooks.TokenChecked(p.path) {
		p.answer(http.StatusUnauthorized, badToken())
	}
	responses := o()
	var list []string
	sort.SliceStable(p.answers, func(i, j int) bool { return p.answers[i].status < p.answers[j].status })
	for _, a := range p.answers {
		if prev, ok := responses.get(a.status).(*obj); ok {
			// two reasons for one status: one response, both reasons
			prev.set("description", prev.get("description").(string)+" Also: "+a.response.get("description").(string))
			continue
		}
		responses.set(a.status, a.response)
	}
	for _, k := range responses.keys {
		resp := responses.get(k).(*obj)
		list = append(list, fmt.Sprintf("- **%s**: %s", k, resp.get("description")))
		p.errorExample(k, resp)
	}
	desc := append(append([]string{}, p.description...), "**Answers:**\n"+strings.Join(list, "\n"))
	p.o.set("description", strings.Join(desc, "\n\n"))
	p.o.set("responses", responses)

	item, _ := b.paths.get(p.path).(*obj)
	if item == nil {
		item = o()
		b.paths.set(p.path, item)
	}
	item.set(strings.ToLower(p.method), p.o)
}

// errorExample gives an error answer an example with its status and
// PocketBase's message for it, so the page doesn't show a 400 body under 404.
func (p *op) errorExample(status string, resp *obj) {
	content, _ := resp.get("content").(*obj)
	if content == nil {
		return
	}
	media, _ := content.get("application/json").(*obj)
	if media == nil || media.get("schema").(*obj).get("$ref") != "#/components/schemas/Error" {
		return
	}
	code, _ := strconv.Atoi(status)
	data := o()
	message := map[int]string{
		400: "Something went wrong while processing your request.",
		401: "Missing or invalid authentication.",
		403: "You are not allowed to perform this request.",
		404: "The requested resource wasn't found.",
		429: "Too Many Requests.",
	}[code]
	if code == 400 {
		if p.badMessage != "" {
			message = p.badMessage
		}
		if p.badField != "" {
			data.set(p.badField, o("code", "validation_required", "message", "Cannot be blank."))
		}
	}
	if message == "" {
		return
	}
	media.set("example", o("status", code, "message", message, "data", data))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// ---

// internalTag groups the superuser-only collections on the docs page.
const internalTag = "internal"

func (b *openAPIBuilder) collection(c *collectionDoc) {
	name := c.Name
	tn := typeName(name)
	kind := "base"
	switch {
	case c.IsAuth():
		kind = "auth"
	case c.IsView():
		kind = "view (read-only)"
	}
	// Collections only superusers reach (every rule locked: outboxes, ledgers,
	// processed events) share one tag: a frontend never calls them, and
	// Swagger UI stops rendering a "list" page of more than about 30 tags.
	tag := name
	if c.ListRule == nil && c.ViewRule == nil && c.CreateRule == nil && c.UpdateRule == nil && c.DeleteRule == nil {
		tag = internalTag
		b.addTag(tag, "Collections only superusers reach (the dashboard and the server itself: outboxes, ledgers, processed events). Every rule is locked; anyone else gets a 403.")
	} else {
		b.addTag(name, fmt.Sprintf("The `%s` collection (%s): records, their schema and who may read and write them.", name, kind))
	}

	b.schemas.set(tn+"Record", b.recordSchema(c))
	b.schemas.set(tn+"ListResult", o(
		"type", "object",
		"description", "One page of "+name+" records.",
		"required", []any{"page", "perPage", "totalItems", "totalPages", "items"},
		"properties", o(
			"page", o("type", "integer"),
			"perPage", o("type", "integer", "maximum", b.opts.MaxPerPage, "description", "The page size used: the requested perPage, clamped."),
			"totalItems", o("type", "integer", "description", "-1 with skipTotal."),
			"totalPages", o("type", "integer", "description", "-1 with skipTotal."),
			"items", o("type", "array", "items", o("$ref", "#/components/schemas/"+tn+"Record")),
		),
	))

	base := "/api/collections/" + name + "/records"
	one := base + "/{id}"
	record := o("description", "The record.", "content", o("application/json", o("schema", o("$ref", "#/components/schemas/"+tn+"Record"))))
	lecternNote := ""
	if _, ok := hints[name+":"+actionList]; ok {
		lecternNote = " A value of the wrong type (an object, or an array for a single-value field; a non-numeric string for a number) is refused rather than coerced."
	}

	// list
	list := newOp(http.MethodGet, base, name+"_list", tag, "List "+name).
		describe(whoMayCall(name, actionList, c.ListRule))
	list.o.set("parameters", paramRefs("page", "perPage", "sort", "filter", "expand", "fields", "skipTotal"))
	list.answer(200, o("description", "A page of the records the caller may see (possibly none).",
		"content", o("application/json", o("schema", o("$ref", "#/components/schemas/"+tn+"ListResult")))))
	list.answer(400, errorResponse("A filter, sort, expand or fields parameter that does not parse or names an unknown field."))
	if c.ListRule == nil {
		list.answer(403, errorResponse("The caller is not a superuser: \"Only superusers can perform this action.\""))
	}
	list.answer(429, tooManyRequests())
	b.add(list)

	// view
	view := newOp(http.MethodGet, one, name+"_view", tag, "View one "+singular(name)).
		describe(whoMayCall(name, actionView, c.ViewRule))
	view.o.set("parameters", append(paramRefs("recordId"), paramRefs("expand", "fields")...))
	view.answer(200, record)
	if c.ViewRule == nil {
		view.answer(403, errorResponse("The caller is not a superuser."))
	}
	view.answer(404, errorResponse("No such record, or the view rule does not let the caller see it."))
	view.answer(429, tooManyRequests())
	b.add(view)

	if c.IsView() {
		return
	}

	hasFiles := false
	for _, f := range c.fields {
		if _, ok := f.Field.(*core.FileField); ok {
			hasFiles = true
		}
	}
	b.schemas.set(tn+"Create", b.bodySchema(c, modeJSONCreate))
	b.schemas.set(tn+"Update", b.bodySchema(c, modeJSONUpdate))
	createBody := o("application/json", o("schema", o("$ref", "#/components/schemas/"+tn+"Create")))
	updateBody := o("application/json", o("schema", o("$ref", "#/components/schemas/"+tn+"Update")))
	if hasFiles {
		b.schemas.set(tn+"CreateForm", b.formSchema(c, true))
		b.schemas.set(tn+"UpdateForm", b.formSchema(c, false))
		createBody.set("multipart/form-data", o("schema", o("$ref", "#/components/schemas/"+tn+"CreateForm")))
		updateBody.set("multipart/form-data", o("schema", o("$ref", "#/components/schemas/"+tn+"UpdateForm")))
	}

	// create
	create := newOp(http.MethodPost, base, name+"_create", tag, "Create a "+singular(name)).
		describe(whoMayCall(name, actionCreate, c.CreateRule))
	create.badMessage, create.badField = "Failed to create record.", exampleField(c)
	if hasFiles {
		create.describe("Files are uploaded with multipart/form-data (the JS SDK switches to it by itself when a value is a File or Blob).")
	}
	create.o.set("parameters", paramRefs("expand", "fields"))
	create.o.set("requestBody", o("required", true, "content", createBody))
	create.answer(200, o("description", "The created record (PocketBase answers 200, not 201).", "content", record.get("content")))
	create.answer(400, errorResponse("Invalid or missing values: data names each field with {code, message}; or the create rule refused the caller (\"Failed to create record.\" with empty data)."+lecternNote))
	if c.CreateRule == nil {
		create.answer(403, errorResponse("The caller is not a superuser."))
	}
	b.hookAnswers(create, name, actionCreate)
	create.answer(429, tooManyRequests())
	b.add(create)

	// update
	update := newOp(http.MethodPatch, one, name+"_update", tag, "Update a "+singular(name)).
		describe(whoMayCall(name, actionUpdate, c.UpdateRule), "Send only the fields to change. Multi-value fields take `field+` (append) and `field-` (remove) modifiers; numbers take `field+`/`field-` to add or subtract.")
	update.badMessage, update.badField = "Failed to update record.", exampleField(c)
	update.o.set("parameters", append(paramRefs("recordId"), paramRefs("expand", "fields")...))
	update.o.set("requestBody", o("required", true, "content", updateBody))
	update.answer(200, o("description", "The updated record.", "content", record.get("content")))
	update.answer(400, errorResponse("Invalid values: data names each field with {code, message}."+lecternNote))
	if c.UpdateRule == nil {
		update.answer(403, errorResponse("The caller is not a superuser."))
	}
	b.hookAnswers(update, name, actionUpdate)
	update.answer(404, errorResponse("No such record, or the update rule does not let the caller change it."))
	update.answer(429, tooManyRequests())
	b.add(update)

	// delete
	del := newOp(http.MethodDelete, one, name+"_delete", tag, "Delete a "+singular(name)).
		describe(whoMayCall(name, actionDelete, c.DeleteRule))
	del.badMessage = "Failed to delete record. Make sure that the record is not part of a required relation reference."
	del.o.set("parameters", paramRefs("recordId"))
	del.answer(204, o("description", "Deleted (records whose relation cascades are deleted with it)."))
	del.answer(400, errorResponse("Another record still requires this one (a required relation without cascade)."))
	if c.DeleteRule == nil {
		del.answer(403, errorResponse("The caller is not a superuser."))
	}
	b.hookAnswers(del, name, actionDelete)
	del.answer(404, errorResponse("No such record, or the delete rule does not let the caller delete it."))
	del.answer(429, tooManyRequests())
	b.add(del)
}

// exampleField is the field a 400 example names: the first required field
// a client writes, else the first it writes.
func exampleField(c *collectionDoc) string {
	first := ""
	for _, f := range c.fields {
		if !f.access.inCreate() {
			continue
		}
		if f.required() {
			return f.name()
		}
		if first == "" {
			first = f.name()
		}
	}
	return first
}

func (b *openAPIBuilder) hookAnswers(p *op, collection, action string) {
	for _, a := range hookAnswers[collection+":"+action] {
		p.answer(a.status, errorResponse("Lectern refuses "+a.when+"."))
	}
}

// singular is good enough for operation summaries ("posts" → "post").
func singular(name string) string {
	switch {
	case strings.HasSuffix(name, "ies"):
		return strings.TrimSuffix(name, "ies") + "y"
	case strings.HasSuffix(name, "s") && !strings.HasSuffix(name, "ss"):
		return strings.TrimSuffix(name, "s")
	}
	return name + " record"
}

// ---

// recordSchema is a record as the API returns it.
func (b *openAPIBuilder) recordSchema(c *collectionDoc) *obj {
	props := o(
		"collectionId", o("type", "string", "readOnly", true, "const", c.Id),
		"collectionName", o("type", "string", "readOnly", true, "const", c.Name),
	)
	required := []any{"collectionId", "collectionName"}
	var ordered []string
	for _, f := range c.fields {
		s := b.fieldSchema(f, modeResponse)
		if s == nil {
			continue
		}
		props.set(f.name(), s)
		ordered = append(ordered, f.name())
		if (f.required() || f.alwaysSet()) && !(c.IsAuth() && f.name() == core.FieldNameEmail) {
			required = append(required, f.name())
		}
	}
	// id first, then the collection fields, as PocketBase writes them
	props.keys = append([]string{core.FieldNameId}, append([]string{"collectionId", "collectionName"}, without(ordered, core.FieldNameId)...)...)
	if _, ok := props.vals[core.FieldNameId]; !ok {
		props.vals[core.FieldNameId] = o("type", "string", "readOnly", true)
	}

	if exp := b.expandSchema(c); exp != nil {
		props.set("expand", exp)
	}
	desc := "A `" + c.Name + "` record as the API returns it. Fields not marked required are still present, with their empty value (\"\", 0, false, []), unless `fields` leaves them out."
	return o("type", "object", "description", desc, "required", required, "properties", props)
}

func without(list []string, drop string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func (b *openAPIBuilder) expandSchema(c *collectionDoc) *obj {
	props := o()
	for _, f := range c.fields {
		rel, ok := f.Field.(*core.RelationField)
		if !ok {
			continue
		}
		target := b.m.collection(rel.CollectionId)
		if target == nil {
			continue
		}
		ref := o("$ref", "#/components/schemas/"+typeName(target.Name)+"Record")
		if f.multiple() {
			props.set(f.name(), o("type", "array", "items", ref, "description", "The "+target.Name+" records of "+f.name()+", with expand="+f.name()+"."))
		} else {
			props.set(f.name(), o("$ref", ref.get("$ref"), "description", "The "+target.Name+" record of "+f.name()+", with expand="+f.name()+"."))
		}
	}
	for _, br := range c.backRelations {
		ref := o("$ref", "#/components/schemas/"+typeName(br.collection.Name)+"Record")
		key := br.expandKey()
		if br.single {
			props.set(key, o("$ref", ref.get("$ref"), "description", "The "+br.collection.Name+" record whose "+br.field.Name+" points here, with expand="+key+"."))
		} else {
			props.set(key, o("type", "array", "items", ref, "description", "The "+br.collection.Name+" records whose "+br.field.Name+" points here, with expand="+key+"."))
		}
	}
	if props.len() == 0 {
		return nil
	}
	return o(
		"type", "object",
		"readOnly", true,
		"description", "Only with ?expand=…; a related record the caller may not view is left out.",
		"properties", props,
	)
}

// bodySchema is a JSON request body (create or update).
func (b *openAPIBuilder) bodySchema(c *collectionDoc, m mode) *obj {
	props := o()
	create := m == modeJSONCreate
	if create {
		props.set(core.FieldNameId, o("type", "string", "description", "Optional: a record id of your own (15 characters a-z0-9); the server generates one otherwise.", "pattern", `^[a-z0-9]{15}$`))
	}
	required := b.writableProps(c, props, m, create)
	what := "create"
	if !create {
		what = "update"
	}
	desc := "The fields a client may send to " + what + " a `" + c.Name + "` record. Server-set fields are not listed: a value sent for them is ignored."
	if !create {
		desc += " Send only the fields to change."
	}
	return o("type", "object", "description", desc, "required", nonEmpty(required), "properties", props)
}

// formSchema is a multipart/form-data body: the same fields, files as binary.
func (b *openAPIBuilder) formSchema(c *collectionDoc, create bool) *obj {
	props := o()
	required := b.writableProps(c, props, modeForm, create)
	props.set("@jsonPayload", o("type", "string", "contentMediaType", "application/json",
		"description", "Optional: the non-file fields as one JSON object, an alternative to sending each as its own part."))
	return o("type", "object",
		"description", "The same fields as the JSON body, with files as parts; a list is sent as repeated parts.",
		"required", nonEmpty(required), "properties", props)
}

// writableProps adds to props the fields a client may send on create or
// update in mode m (with the update modifiers, and the password fields of an
// auth collection), returning the names a create requires.
func (b *openAPIBuilder) writableProps(c *collectionDoc, props *obj, m mode, create bool) (required []any) {
	for _, f := range c.fields {
		if (create && !f.access.inCreate()) || (!create && !f.access.inUpdate()) {
			continue
		}
		s := b.fieldSchema(f, m)
		if s == nil {
			continue
		}
		props.set(f.name(), s)
		if create && f.required() {
			required = append(required, f.name())
		}
		if !create {
			b.modifiers(props, f, m)
		}
	}
	if c.IsAuth() {
		b.passwordProps(c, props, create)
		if create {
			required = append(required, "password", "passwordConfirm")
		}
	}
	return required
}

func nonEmpty(list []any) any {
	if len(list) == 0 {
		return nil
	}
	return list
}

func (b *openAPIBuilder) passwordProps(c *collectionDoc, props *obj, create bool) {
	pw := o("type", "string", "writeOnly", true)
	for _, h := range c.hidden {
		if p, ok := h.Field.(*core.PasswordField); ok {
			min := p.Min
			if min < 1 {
				min = 1
			}
			pw.set("minLength", min)
			if p.Max > 0 {
				pw.set("maxLength", p.Max)
			}
			if p.Pattern != "" {
				pw.set("pattern", p.Pattern)
			}
		}
	}
	if create {
		props.set("password", pw)
		props.set("passwordConfirm", o("type", "string", "writeOnly", true, "description", "The same password again."))
		return
	}
	props.set("oldPassword", o("type", "string", "writeOnly", true, "description", "The current password; required to set a new one (superusers excepted)."))
	props.set("password", pw)
	props.set("passwordConfirm", o("type", "string", "writeOnly", true, "description", "The new password again."))
}

// modifiers adds the "field+", "+field" and "field-" keys PocketBase accepts
// on update for lists and numbers.
func (b *openAPIBuilder) modifiers(props *obj, f fieldDoc, m mode) {
	switch t := f.Field.(type) {
	case *core.NumberField:
		props.set(f.name()+"+", o("type", "number", "description", "Adds to "+f.name()+"."))
		props.set(f.name()+"-", o("type", "number", "description", "Subtracts from "+f.name()+"."))
	case *core.SelectField, *core.RelationField:
		if !f.multiple() {
			return
		}
		item := o("type", "string")
		if s, ok := t.(*core.SelectField); ok {
			item.set("enum", toAny(s.Values))
		}
		many := o("anyOf", []any{item, o("type", "array", "items", item)})
		props.set(f.name()+"+", o("anyOf", many.get("anyOf"), "description", "Appends to "+f.name()+"."))
		props.set("+"+f.name(), o("anyOf", many.get("anyOf"), "description", "Prepends to "+f.name()+"."))
		props.set(f.name()+"-", o("anyOf", many.get("anyOf"), "description", "Removes from "+f.name()+"."))
	case *core.FileField:
		names := o("anyOf", []any{o("type", "string"), o("type", "array", "items", o("type", "string"))})
		props.set(f.name()+"-", o("anyOf", names.get("anyOf"), "description", "File names to delete from "+f.name()+"."))
		if f.multiple() && m == modeForm {
			files := o("type", "array", "items", o("type", "string", "format", "binary"))
			props.set(f.name()+"+", o("type", "array", "items", files.get("items"), "description", "Files to append to "+f.name()+"."))
			props.set("+"+f.name(), o("type", "array", "items", files.get("items"), "description", "Files to prepend to "+f.name()+"."))
		}
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// fieldSchema maps one field to JSON Schema for the given mode; nil leaves
// the field out of that mode.
func (b *openAPIBuilder) fieldSchema(f fieldDoc, m mode) *obj {
	var s *obj
	req := f.required()
	resp := m == modeResponse
	switch t := f.Field.(type) {
	case *core.TextField:
		s = o("type", "string")
		if t.PrimaryKey {
			s.set("pattern", t.Pattern)
			if t.Min > 0 {
				s.set("minLength", t.Min)
			}
		}
		max := t.Max
		if max <= 0 {
			max = 5000
		}
		s.set("maxLength", max)
		if req && !t.PrimaryKey {
			s.set("minLength", maxInt(t.Min, 1))
			s.set("pattern", t.Pattern)
		} else if t.Pattern != "" && !t.PrimaryKey {
			s.set("pattern", "^$|(?:"+t.Pattern+")")
		}
	case *core.EditorField:
		s = o("type", "string", "contentMediaType", "text/html", "maxLength", orDefault(t.MaxSize, core.DefaultEditorFieldMaxSize))
		if req {
			s.set("minLength", 1)
		}
	case *core.NumberField:
		typ := "number"
		if t.OnlyInt {
			typ = "integer"
		}
		s = o("type", typ)
		if t.Min != nil && (req || *t.Min <= 0) {
			s.set("minimum", *t.Min)
		}
		if t.Max != nil && (req || *t.Max >= 0) {
			s.set("maximum", *t.Max)
		}
	case *core.BoolField:
		s = o("type", "boolean")
	case *core.EmailField:
		s = emptyOr(o("type", "string", "format", "email"), req)
	case *core.URLField:
		s = emptyOr(o("type", "string", "format", "uri"), req)
	case *core.DateField:
		if resp {
			if req {
				s = o("$ref", "#/components/schemas/Date")
			} else {
				s = o("type", "string", "pattern", `^$|`+datePattern, "examples", []any{dateExample})
				s.set("description", "A date in "+dateWords+", or \"\" when not set.")
			}
		} else {
			s = o("type", "string", "examples", []any{dateExample},
				"description", "A date: \"YYYY-MM-DD HH:MM:SS.sssZ\" or RFC 3339; \"\" clears it.")
		}
	case *core.AutodateField:
		if !resp {
			return nil
		}
		s = o("$ref", "#/components/schemas/Date")
	case *core.SelectField:
		values := toAny(t.Values)
		if f.multiple() {
			s = o("type", "array", "items", o("type", "string", "enum", values), "uniqueItems", true, "maxItems", t.MaxSelect)
			if req {
				s.set("minItems", 1)
			}
		} else {
			if !req {
				values = append(values, "")
			}
			s = o("type", "string", "enum", values)
		}
	case *core.RelationField:
		target := "record"
		if tc := b.m.collection(t.CollectionId); tc != nil {
			target = "`" + tc.Name + "` record"
		}
		if f.multiple() {
			s = o("type", "array", "items", o("type", "string", "minLength", 1), "uniqueItems", true, "maxItems", t.MaxSelect,
				"description", "Ids of "+target+"s.")
			if t.MinSelect > 0 {
				s.set("minItems", t.MinSelect)
			} else if req {
				s.set("minItems", 1)
			}
		} else {
			s = o("type", "string", "description", "The id of a "+target+".")
			if req {
				s.set("minLength", 1)
			}
		}
	case *core.FileField:
		switch m {
		case modeForm:
			bin := o("type", "string", "format", "binary")
			if f.multiple() {
				s = o("type", "array", "items", bin, "maxItems", t.MaxSelect)
			} else {
				s = bin
			}
		case modeJSONCreate:
			return nil // a file is uploaded with multipart/form-data
		default:
			name := o("type", "string")
			if f.multiple() {
				s = o("type", "array", "items", name, "maxItems", t.MaxSelect)
			} else {
				s = name
			}
			if resp {
				s.set("description", "Stored file name"+plural(f.multiple())+"; the URL is /api/files/{collectionId}/{recordId}/{name} (?thumb=WxH for an image thumb).")
			} else {
				// null deletes the files too: the JS SDK's documented way
				// ({avatar: null}), which PocketBase accepts
				s.set("type", []any{s.get("type"), "null"})
				s.set("description", "The stored file names to keep (\"\", [] or null deletes all); upload new files with multipart/form-data.")
			}
		}
	case *core.JSONField:
		s = o("description", "Any JSON value.")
	case *core.GeoPointField:
		s = o("type", "object", "required", []any{"lon", "lat"}, "properties", o(
			"lon", o("type", "number", "minimum", -180, "maximum", 180),
			"lat", o("type", "number", "minimum", -90, "maximum", 90),
		))
	case *core.PasswordField:
		return nil
	default:
		s = o("description", "A "+f.Type()+" field.")
	}

	desc := describeField(f)
	if prev, _ := s.get("description").(string); prev != "" {
		desc = strings.TrimSpace(prev + " " + desc)
	}
	if m == modeResponse && f.access == createOnly && f.name() == core.FieldNameEmail {
		desc = strings.TrimSpace(desc + " Present only in the caller's own record (and for superusers, or when emailVisibility is on).")
	}
	if s.get("$ref") != nil && desc == "" {
		return s
	}
	s.set("description", desc)
	if resp && f.access.readOnly() {
		s.set("readOnly", true)
	}
	return s
}

// emptyOr allows "" beside a formatted string for a field that is not required.
func emptyOr(s *obj, required bool) *obj {
	if required {
		return s
	}
	return o("type", "string", "anyOf", []any{o("format", s.get("format")), o("const", "")})
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func plural(many bool) string {
	if many {
		return "s"
	}
	return ""
}
