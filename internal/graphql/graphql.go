// Package graphql serves /api/graphql: a GraphQL schema generated at run time
// from the collections, answered through PocketBase's own record machinery
// (list rule + search provider for lists, view rule for single records,
// expand for relations), so a GraphQL client can never see more than the
// same caller sees through REST, and a rule change applies to both at once.
package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"lectern/internal/ruleguard"
)

// Path is the endpoint's route.
const Path = "/api/graphql"

// maxBodyBytes bounds a POST body: the query is capped far below it.
const maxBodyBytes = 1 << 20

// Register binds GET and POST /api/graphql to app's router.
func Register(app core.App) {
	h := &handler{}
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		h.mux = &restMux{router: se.Router}
		se.Router.GET(Path, h.serve)
		se.Router.POST(Path, h.serve)
		return se.Next()
	})
}

type handler struct {
	schemas schemaCache
	mux     *restMux
}

// params is a GraphQL-over-HTTP request.
type params struct {
	Query         string
	Variables     map[string]any
	OperationName string
	get           bool // sent with GET: queries only
}

// response is the GraphQL response; data is absent when the request failed
// before execution (parse, validation, limits), as the spec says.
type response struct {
	Data   any                        `json:"data,omitempty"`
	Errors []gqlerrors.FormattedError `json:"errors,omitempty"`
}

func (h *handler) serve(e *core.RequestEvent) error {
	p, apiErr := readParams(e)
	if apiErr != nil {
		return apiErr
	}
	b, err := h.schemas.get(e.App)
	if err != nil {
		return e.InternalServerError("", err)
	}
	p.get = e.Request.Method == http.MethodGet
	doc, errs := b.prepare(p)
	if errors.Is(errs.err, errMutationOverGet) {
		return e.Error(http.StatusMethodNotAllowed, "Mutations are sent with POST.", nil)
	}
	if len(errs.list) > 0 {
		return writeResult(e, response{Errors: errs.list})
	}
	rq := &request{mux: h.mux, app: e.App, orig: e, batches: map[string]*batch{}}
	out := execute(b, doc, p, context.WithValue(e.Request.Context(), ctxKey{}, rq))
	if out.Data == nil && len(out.Errors) == 0 {
		out.Data = map[string]any{}
	}
	for i := range out.Errors {
		out.Errors[i] = withStatus(out.Errors[i])
	}
	return writeResult(e, out)
}

// execute runs a prepared query; graphql-go recovers a resolver's panic into
// a field error, and anything else it panics on is an error here, not a 500.
func execute(b *built, doc *ast.Document, p params, ctx context.Context) (out response) {
	defer func() {
		if r := recover(); r != nil {
			out = response{Errors: gqlerrors.FormatErrors(errors.New(queryUnreadable))}
		}
	}()
	res := graphql.Execute(graphql.ExecuteParams{
		Schema:        b.schema,
		AST:           doc,
		OperationName: p.OperationName,
		Args:          p.Variables,
		Context:       ctx,
	})
	return response{Data: res.Data, Errors: res.Errors}
}

// prepared is prepare's refusal: the errors to answer with, and err set
// when the refusal is not a GraphQL answer (a mutation over GET).
type prepared struct {
	list []gqlerrors.FormattedError
	err  error
}

var errMutationOverGet = errors.New("mutation over GET")

// prepare parses, validates and measures a request: everything before any
// database work. A query it refuses comes back as errors only.
func (b *built) prepare(p params) (doc *ast.Document, out prepared) {
	fail := func(err error) (*ast.Document, prepared) {
		return nil, prepared{list: gqlerrors.FormatErrors(err)}
	}
	defer func() {
		// the parser and validator are a library's: whatever input makes
		// them panic (FuzzPrepare found a variable without a type) is the
		// client's bad query, not a 500
		if r := recover(); r != nil {
			doc, out = fail(errors.New(queryUnreadable))
		}
	}()
	if err := precheck(p.Query); err != nil {
		return fail(err)
	}
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(p.Query), Name: "GraphQL request"})})
	if err != nil {
		return fail(err)
	}
	if p.get && hasMutation(doc, p.OperationName) {
		return nil, prepared{err: errMutationOverGet}
	}
	if err := countFields(doc); err != nil {
		return fail(err)
	}
	// fragment cycles first: graphql-go's overlapping-fields rule recurses
	// through a cycle until the stack overflows, which no recover catches
	if v := graphql.ValidateDocument(&b.schema, doc, fragmentRules); !v.IsValid {
		return nil, prepared{list: v.Errors}
	}
	if v := graphql.ValidateDocument(&b.schema, doc, nil); !v.IsValid {
		return nil, prepared{list: v.Errors}
	}
	if err := limitsError(b, doc, p.OperationName, p.Variables); err != nil {
		return fail(err)
	}
	return doc, prepared{}
}

// queryUnreadable is the error of a query the library panicked on.
const queryUnreadable = "The query could not be read."

var fragmentRules = []graphql.ValidationRuleFn{graphql.KnownFragmentNamesRule, graphql.NoFragmentCyclesRule}

// readParams reads a GraphQL request from a GET's query string or a POST's
// JSON body; anything else is REST's 400.
func readParams(e *core.RequestEvent) (params, *router.ApiError) {
	var p params
	bad := func(msg string) (params, *router.ApiError) {
		return params{}, apis.NewBadRequestError(msg, nil)
	}
	if e.Request.Method == http.MethodGet {
		q := e.Request.URL.Query()
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &p.Variables); err != nil {
				return bad("The variables parameter must be a JSON object.")
			}
		}
	} else {
		ct := e.Request.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") && !strings.HasPrefix(strings.ToLower(ct), "application/graphql-response+json") {
			return bad("A GraphQL request is a JSON body (Content-Type: application/json).")
		}
		raw, err := io.ReadAll(io.LimitReader(e.Request.Body, maxBodyBytes+1))
		if err != nil || len(raw) > maxBodyBytes {
			return bad("The request body is too large or unreadable.")
		}
		var body map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&body); err != nil || body == nil || dec.More() {
			return bad("The body is not a GraphQL request: a JSON object with a query.")
		}
		for k, v := range body {
			switch k {
			case "query":
				if json.Unmarshal(v, &p.Query) != nil {
					return bad("The query must be a string.")
				}
			case "variables":
				if string(v) != "null" && (json.Unmarshal(v, &p.Variables) != nil) {
					return bad("The variables must be a JSON object.")
				}
			case "operationName":
				if string(v) != "null" && json.Unmarshal(v, &p.OperationName) != nil {
					return bad("The operationName must be a string.")
				}
			case "extensions":
			default:
				return bad("The body is not a GraphQL request: unknown key " + quoteKey(k) + ".")
			}
		}
	}
	if strings.TrimSpace(p.Query) == "" {
		return bad("The query is missing.")
	}
	return p, nil
}

func quoteKey(k string) string {
	b, _ := json.Marshal(k)
	if len(b) > 60 {
		return string(b[:57]) + `..."`
	}
	return string(b)
}

func hasMutation(doc *ast.Document, opName string) bool {
	for _, d := range doc.Definitions {
		if op, ok := d.(*ast.OperationDefinition); ok && op.Operation != ast.OperationTypeQuery {
			if opName == "" || (op.Name != nil && op.Name.Value == opName) {
				return true
			}
		}
	}
	return false
}

// withStatus carries an API error's status and field data into the GraphQL
// error's extensions, so a client reads a refused filter as it would from REST.
func withStatus(fe gqlerrors.FormattedError) gqlerrors.FormattedError {
	// a resolver's error arrives wrapped once or twice (thunks wrap again)
	var orig error = fe
	var apiErr *router.ApiError
	for range 5 {
		switch x := orig.(type) {
		case gqlerrors.FormattedError:
			orig = x.OriginalError()
			continue
		case *gqlerrors.Error:
			orig = x.OriginalError
			continue
		}
		break
	}
	if !errors.As(orig, &apiErr) {
		return fe
	}
	fe.Message = apiErr.Message
	fe.Extensions = map[string]any{"status": apiErr.Status, "data": apiErr.Data}
	return fe
}

func writeResult(e *core.RequestEvent, r response) error {
	body, err := json.Marshal(r)
	if err != nil {
		return e.InternalServerError("", err)
	}
	// written directly: PocketBase's e.JSON would apply a ?fields= parameter
	// to the GraphQL response
	e.Response.Header().Set("Content-Type", "application/json")
	e.Response.WriteHeader(http.StatusOK)
	_, err = e.Response.Write(body)
	return err
}

// checkFilter is the one place a client's filter and sort meet Lectern's
// filter guard (the same check REST's list requests pass).
func checkFilter(app core.App, c *core.Collection, auth *core.Record, filter, sort string) error {
	return ruleguard.Check(app, c, auth, filter, sort)
}
