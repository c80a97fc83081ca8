package apidocs

import (
	"net/http"
	"slices"

	"lectern/hooks"
	"lectern/internal/search"
)

// Lectern's own routes, described statically: they are not generated from
// the schema. Each is documented only while the server routes it (checked
// with Options.HasRoute), so the reference never lists an endpoint that
// answers 404.

// Paths of the routes this package serves.
const (
	PathOpenAPI = "/api/openapi.json"
	PathDocs    = "/api/docs"
	PathTypes   = "/api/types.d.ts"
	PathGraphQL = "/api/graphql" // served by internal/graphql
)

type lecternRoute struct {
	method, path string
	add          func(b *openAPIBuilder)
}

var lecternRoutes = []lecternRoute{
	{http.MethodGet, "/api/search", (*openAPIBuilder).search},
	{http.MethodPost, PathGraphQL, graphqlOp(http.MethodPost)},
	{http.MethodGet, PathGraphQL, graphqlOp(http.MethodGet)},
	{http.MethodGet, "/feed.xml", feed("/feed.xml", "feeds_rss", "RSS 2.0 feed of the latest published posts", "application/rss+xml")},
	{http.MethodGet, "/atom.xml", feed("/atom.xml", "feeds_atom", "Atom 1.0 feed of the latest published posts", "application/atom+xml")},
	{http.MethodGet, "/feed.json", feed("/feed.json", "feeds_json", "JSON Feed 1.1 of the latest published posts", "application/feed+json")},
	{http.MethodGet, "/topics/{slug}/feed.xml", feed("/topics/{slug}/feed.xml", "feeds_topic", "RSS 2.0 feed of one topic's published posts", "application/rss+xml")},
	{http.MethodGet, "/sitemap.xml", feed("/sitemap.xml", "feeds_sitemap", "Sitemap of the home page, published posts and published courses", "application/xml")},
	{http.MethodPost, "/api/courses/{id}/checkout", (*openAPIBuilder).checkoutStart},
	{http.MethodPost, "/api/stripe/webhook", (*openAPIBuilder).checkoutWebhook},
	{http.MethodGet, "/api/checkout/{sessionId}", (*openAPIBuilder).checkoutState},
	{http.MethodGet, PathOpenAPI, (*openAPIBuilder).selfOpenAPI},
	{http.MethodGet, PathDocs, (*openAPIBuilder).selfDocs},
	{http.MethodGet, PathTypes, (*openAPIBuilder).selfTypes},
	{http.MethodPost, PathWebhookRetryDelivery, (*openAPIBuilder).webhookRetryDelivery},
	{http.MethodPost, PathWebhookRetryFailed, (*openAPIBuilder).webhookRetryFailed},
	{http.MethodGet, PathMetrics, (*openAPIBuilder).metrics},
	{http.MethodGet, hooks.SyllabusPath, (*openAPIBuilder).syllabus},
}

// lecternRoutes documents the routed ones among Lectern's routes of the given tags.
func (b *openAPIBuilder) lecternRoutes(tags ...string) {
	tagged := map[string]bool{}
	for _, r := range append(lecternRoutes, mailRoutes...) {
		tag := "feeds"
		switch r.path {
		case PathNewsletterSubscribe, PathNewsletterConfirm, PathNewsletterUnsubscribe, PathContact:
			tag = "mail"
		case "/api/search":
			tag = "search"
		case PathGraphQL:
			tag = "graphql"
		case PathOpenAPI, PathDocs, PathTypes:
			tag = "reference"
		case PathWebhookRetryDelivery, PathWebhookRetryFailed:
			tag = "webhooks"
		case PathMetrics:
			tag = "operations"
		case "/api/courses/{id}/checkout", "/api/stripe/webhook", "/api/checkout/{sessionId}":
			tag = "payments"
		case hooks.SyllabusPath:
			tag = "courses"
		}
		if !slices.Contains(tags, tag) || !b.opts.HasRoute(r.method, r.path) {
			continue
		}
		if !tagged[tag] {
			tagged[tag] = true
			switch tag {
			case "search":
				b.addTag(tag, "Lectern's full-text search over posts, courses and lessons.")
			case "graphql":
				b.addTag(tag, "GraphQL over the same records, rules and filters as REST (see the README's GraphQL section).")
			case "mail":
				b.addTag(tag, "Lectern's newsletter (double opt-in, one-click unsubscribe) and contact form; mail goes out through Settings → Mail.")
			case "feeds":
				b.addTag(tag, "Lectern's syndication feeds and sitemap (outside /api, for feed readers and crawlers).")
			case "payments":
				b.addTag(tag, "Paid courses with Stripe Checkout: buy, Stripe's webhook, and the success page's order state.")
			case "reference":
				b.addTag(tag, "This reference: the OpenAPI document, its docs page and the JS SDK types.")
			case "webhooks":
				b.addTag(tag, webhooksTag)
			case "operations":
				b.addTag(tag, "For operators: Prometheus metrics (see the README's Operations section).")
			}
		}
		r.add(b)
	}
}

func (b *openAPIBuilder) search() {
	// A hit's record: by default the slim record of its type (what a results
	// page shows, search.SlimRecordFields), with fields the record as the
	// records API returns it, picked.
	var slim, full []any
	for _, name := range []string{"posts", "courses", "lessons"} {
		c := b.m.byName(name)
		if c == nil {
			continue
		}
		tn := typeName(name)
		b.schemas.set(tn+"SearchRecord", b.slimRecordSchema(c, search.SlimRecordFields(name)))
		slim = append(slim, o("$ref", "#/components/schemas/"+tn+"SearchRecord"))
		full = append(full, o("$ref", "#/components/schemas/"+tn+"Record"))
	}
	records := append(slim, full...)
	record := o("type", "object")
	if len(records) > 0 {
		record = o("anyOf", records)
	}
	record.set("description", "The matched record of the collection named by type, as the records API would return it to the caller (hidden fields left out, expand applied): without fields its slim form (`*SearchRecord`: what a results page shows, never the body), with fields the full record, picked.")
	b.schemas.set("SearchHit", o(
		"type", "object",
		"description", "One match. Without fields it has these five keys and a slim record; fields picks among them (`type,id,snippet`, `*`, `record.*`, `record.body:excerpt(200)`).",
		"required", []any{"type", "id", "score", "snippet", "record"},
		"properties", o(
			"type", o("type", "string", "enum", []any{"posts", "courses", "lessons"}, "description", "The collection of the match."),
			"id", o("type", "string", "description", "The record id."),
			"score", o("type", "number", "description", "Relevance: higher is better. bm25 with the statistics of the records anyone may see, so records the caller cannot see never change it."),
			"snippet", o("type", "string", "description", "Text around the match, HTML-escaped, with the matched words in <mark>…</mark> (the only tags)."),
			"record", record,
		),
	))
	counts := func(desc string) *obj {
		return o("type", "object", "description", desc, "additionalProperties", o("type", "integer"))
	}
	b.schemas.set("SearchResult", o(
		"type", "object",
		"required", []any{"page", "perPage", "totalItems", "totalPages", "items", "facets"},
		"properties", o(
			"page", o("type", "integer"),
			"perPage", o("type", "integer"),
			"totalItems", o("type", "integer"),
			"totalPages", o("type", "integer"),
			"items", o("type", "array", "items", o("$ref", "#/components/schemas/SearchHit")),
			"facets", o(
				"type", "object",
				"description", "Counts of the matches by value, for filter chips.",
				"properties", o(
					"type", counts("Matches per collection."),
					"mode", counts("Course matches per mode."),
					"level", counts("Course matches per level."),
					"minRating", counts("Course matches rated at least 1, 2, 3, 4 and 4.5."),
				),
			),
			"correctedQuery", o("type", "string", "description", "Present when the query had a likely typo and the results are for this spelling. Corrections come only from words of records anyone may see."),
			"approximate", o("type", "boolean", "description", "True when a collection had more than 10,000 matches the caller may see: totalItems, totalPages and the facets are then lower bounds (\"10,000+\")."),
			"approximateRanking", o("type", "boolean", "description", "True when a collection had more than 2,000 matches the caller may see: the items are then ranked among its 1,000 newest matches and up to 1,000 title matches, the caller's other matches following newest first."),
		),
	))
	p := newOp(http.MethodGet, "/api/search", "search", "search", "Search posts, courses and lessons").
		describe("**Who may call it:** anyone. Results follow the collections' view rules: a caller never finds a record it could not view.",
			"Ranked full-text search that tolerates typos. The course filters (mode, level, minRating) restrict the results to courses.")
	p.o.set("parameters", []any{
		o("name", "q", "in", "query", "required", true, "description", "The words to find.", "schema", o("type", "string", "minLength", 1)),
		o("name", "type", "in", "query", "description", "Only matches of this collection.", "schema", o("type", "string", "enum", []any{"posts", "courses", "lessons"})),
		o("name", "page", "in", "query", "schema", o("type", "integer", "minimum", 1, "maximum", 500, "default", 1)),
		o("name", "perPage", "in", "query", "description", "At most 100: a larger value is a 400 naming perPage.", "schema", o("type", "integer", "minimum", 1, "maximum", 100, "default", 20)),
		o("name", "mode", "in", "query", "description", "Courses only.", "schema", o("type", "string", "enum", []any{"online", "onsite", "hybrid"})),
		o("name", "level", "in", "query", "description", "Courses only.", "schema", o("type", "string", "enum", []any{"beginner", "intermediate", "advanced"})),
		o("name", "minRating", "in", "query", "description", "Courses only: at least this ratingAvg.", "schema", o("type", "number", "minimum", 0, "maximum", 5)),
		o("name", "fields", "in", "query", "description", "The keys of each hit, with the records API's syntax, applied to every hit (never to page, totals or facets): `type,id,snippet`; `*` for every key and the full record; `record.*`, `record.title`, `record.expand.author.name`; `:excerpt(200,true)` shortens text. Each path starts with type, id, score, snippet, record or `*`, else a 400 naming fields. Without it a hit is slim (see SearchHit).", "schema", o("type", "string", "maxLength", 1000)),
		o("name", "expand", "in", "query", "description", "Relations to expand in each hit's record, as for the records API (`author`, `instructor`, `course`); a related record the caller may not view is left out.", "schema", o("type", "string")),
	})
	p.answer(200, jsonAnswer("A page of matches.", o("$ref", "#/components/schemas/SearchResult")))
	p.answer(400, errorResponse("An invalid parameter, named in data: a blank or unusable q, an unknown type, a course filter with another type, a page or perPage out of range, a fields path that no hit has or an unknown modifier."))
	p.answer(429, tooManyRequests())
	b.add(p)
}

// graphqlOp documents /api/graphql; the GraphQL schema itself is read by
// introspection (it follows the collections like this document).
func graphqlOp(method string) func(b *openAPIBuilder) {
	return func(b *openAPIBuilder) {
		if b.schemas.get("GraphQLResponse") == nil {
			b.schemas.set("GraphQLResponse", o(
				"type", "object",
				"description", "A GraphQL response: data, and errors when a field failed (a refused filter is an error whose extensions carry REST's status and data). A query refused before execution (syntax, validation, limits) has errors only.",
				"properties", o(
					"data", o("type", []any{"object", "null"}),
					"errors", o("type", "array", "items", o(
						"type", "object",
						"required", []any{"message"},
						"properties", o(
							"message", o("type", "string"),
							"locations", o("type", "array", "items", o("type", "object")),
							"path", o("type", "array", "items", o("type", []any{"string", "integer"})),
							"extensions", o("type", "object", "properties", o(
								"status", o("type", "integer", "description", "REST's status for the same request (400 bad filter, 403 superuser-only)."),
								"data", o("type", "object"),
							)),
						),
					)),
				),
			))
		}
		summary, id := "GraphQL query (JSON body)", "graphql_post"
		if method == http.MethodGet {
			summary, id = "GraphQL query (query string)", "graphql_get"
		}
		p := newOp(method, PathGraphQL, id, "graphql", summary).
			describe("**Who may call it:** anyone; the Authorization header is the same as REST's, and every list, record and relation follows the collection rules exactly as REST's list, view and expand do.",
				"Per collection: a list field named as the collection (`posts(filter, sort, page, perPage)` → `{page, perPage, totalItems, totalPages, items}`) and a singular field (`post(id)`, null where REST answers 404). Back-relations: `Post.comments`, `Course.lessons`, `Course.reviews` (and every other single relation's) with the list arguments. Introspection is on. Mutations (`createPost(data)`, `updatePost(id, data)`, `deletePost(id)`, … with REST's JSON body as `data`) are sent through REST's own record endpoints: the same rules, hooks and field errors.",
				"Limits, checked before any database work: depth 8 (introspection fields excepted), cost 10,000 (a list costs its perPage times the records it is nested under; see the README), 1,000 fields, 32 KiB of query text. perPage is clamped to 200 as in REST.")
		if method == http.MethodGet {
			p.o.set("parameters", []any{
				o("name", "query", "in", "query", "required", true, "description", "The GraphQL query (queries only: a mutation over GET is a 405).", "schema", o("type", "string")),
				o("name", "variables", "in", "query", "description", "The variables as a JSON object.", "schema", o("type", "string")),
				o("name", "operationName", "in", "query", "schema", o("type", "string")),
			})
		} else {
			p.o.set("requestBody", jsonBody(true, o(
				"type", "object",
				"required", []any{"query"},
				"properties", o(
					"query", o("type", "string", "examples", []any{`{ posts(sort: "-publishedAt", perPage: 20) { totalItems items { id title author { name } topics { name } } } }`}),
					"variables", o("type", []any{"object", "null"}),
					"operationName", o("type", []any{"string", "null"}),
					"extensions", o("type", []any{"object", "null"}),
				),
			)))
		}
		p.answer(200, jsonAnswer("The GraphQL response (also when fields failed or the query was refused).", o("$ref", "#/components/schemas/GraphQLResponse")))
		p.answer(400, errorResponse("Not a GraphQL request: a body that is not a JSON object with a string query, variables that are not an object, no query."))
		if method == http.MethodGet {
			p.answer(405, errorResponse("A mutation sent with GET."))
		}
		p.answer(429, tooManyRequests())
		b.add(p)
	}
}

func feed(path, id, summary, contentType string) func(b *openAPIBuilder) {
	return func(b *openAPIBuilder) {
		p := newOp(http.MethodGet, path, id, "feeds", summary).
			describe("**Who may call it:** anyone. Only published content is listed, whoever asks (the caller's auth is ignored).",
				"Links are absolute, built from Settings → Application URL. Cached for a minute (Cache-Control: public, max-age=60) with an ETag: send If-None-Match (or If-Modified-Since) to get a 304.")
		switch path {
		case "/topics/{slug}/feed.xml":
			p.o.set("parameters", []any{o("name", "slug", "in", "path", "required", true, "description", "The topic's slug.", "schema", o("type", "string"))})
			p.answer(404, errorResponse("No topic has this slug."))
		case "/sitemap.xml":
			p.describe("Above 50,000 URLs it becomes a sitemap index of /sitemap-{n}.xml pages.")
		default:
			p.describe("The latest 50 posts, newest first.")
		}
		p.answer(200, o("description", "The document.", "content", o(contentType, o("schema", o("type", "string")))))
		p.answer(304, o("description", "Not modified since the version the client holds."))
		b.add(p)
	}
}

func (b *openAPIBuilder) selfOpenAPI() {
	p := newOp(http.MethodGet, PathOpenAPI, "reference_openapi", "reference", "This OpenAPI document").
		describe("**Who may call it:** anyone.", "Generated from the live collections and regenerated when one is created, changed or deleted.")
	p.answer(200, o("description", "OpenAPI 3.1.", "content", o("application/json", o("schema", o("type", "object")))))
	b.add(p)
}

func (b *openAPIBuilder) selfDocs() {
	p := newOp(http.MethodGet, PathDocs, "reference_docs", "reference", "The docs page").
		describe("**Who may call it:** anyone.", "Swagger UI, served from the binary, reading /api/openapi.json.")
	p.answer(200, o("description", "HTML.", "content", o("text/html", o("schema", o("type", "string")))))
	b.add(p)
}

func (b *openAPIBuilder) selfTypes() {
	p := newOp(http.MethodGet, PathTypes, "reference_types", "reference", "TypeScript types for the JS SDK").
		describe("**Who may call it:** anyone.", "Record, create and update types per collection and a TypedPocketBase: `const pb = new PocketBase(url) as TypedPocketBase`. The same text as `lectern types`.")
	p.answer(200, o("description", "A TypeScript declaration file.", "content", o("application/typescript", o("schema", o("type", "string")))))
	b.add(p)
}

// slimRecordSchema is the record schema of c narrowed to fields: the record
// of a search hit without ?fields.
func (b *openAPIBuilder) slimRecordSchema(c *collectionDoc, fields []string) *obj {
	full := b.recordSchema(c)
	fprops := full.get("properties").(*obj)
	props := o()
	for _, k := range fprops.keys {
		if slices.Contains(fields, k) {
			props.set(k, fprops.get(k))
		}
	}
	var required []any
	for _, k := range full.get("required").([]any) {
		if slices.Contains(fields, k.(string)) {
			required = append(required, k)
		}
	}
	return o("type", "object",
		"description", "A `"+c.Name+"` search hit's record without ?fields: the fields a results page shows, never the body. As in the records API, a field hidden from the caller is left out.",
		"required", required, "properties", props)
}
