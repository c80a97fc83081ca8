package graphql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Mutations are REST requests: each one is sent through PocketBase's own
// router (rate limits, auth, the record create/update/delete handlers, every
// request and model hook, rules, field errors), in process, with the
// caller's headers and address. Nothing about a write is decided here.

// restMux is the router's handler, built on first use: by then every OnServe
// hook has added its routes and middlewares.
type restMux struct {
	once   sync.Once
	router *router.Router[*core.RequestEvent]
	h      http.Handler
	err    error
}

func (m *restMux) handler() (http.Handler, error) {
	m.once.Do(func() {
		if m.router == nil {
			m.err = fmt.Errorf("graphql: no router")
			return
		}
		m.h, m.err = m.router.BuildMux()
	})
	return m.h, m.err
}

// captured is what a mutation's REST request returned.
type captured struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *captured) Header() http.Header { return c.header }
func (c *captured) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *captured) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}

// rest sends method path with a JSON body as the caller would over REST.
func (rq *request) rest(method, path string, data any) (int, []byte, error) {
	h, err := rq.mux.handler()
	if err != nil {
		return 0, nil, err
	}
	var body []byte
	if data != nil {
		if body, err = json.Marshal(data); err != nil {
			return 0, nil, err
		}
	}
	orig := rq.orig.Request
	req, err := http.NewRequestWithContext(orig.Context(), method, path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range orig.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Content-Type", "Accept-Encoding", "If-None-Match", "If-Modified-Since":
		default:
			req.Header[k] = v
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = orig.RemoteAddr
	req.Host = orig.Host
	req.TLS = orig.TLS
	out := &captured{header: http.Header{}}
	h.ServeHTTP(out, req)
	if out.status == 0 {
		out.status = http.StatusOK
	}
	return out.status, out.body.Bytes(), nil
}

// restError turns a REST error answer into the same API error, for GraphQL's
// errors (message, and status and field data in extensions).
func restError(status int, body []byte) error {
	var e struct {
		Message string         `json:"message"`
		Data    map[string]any `json:"data"`
	}
	_ = json.Unmarshal(body, &e)
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return &router.ApiError{Status: status, Message: e.Message, Data: e.Data}
}

func recordsPath(collection string, id string) string {
	p := "/api/collections/" + url.PathEscape(collection) + "/records"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

// mutationFields are createX, updateX and deleteX for a collection.
func mutationFields(ci *collInfo, jsonScalar *graphql.Scalar) graphql.Fields {
	suffix := ci.typeName
	data := &graphql.ArgumentConfig{Type: graphql.NewNonNull(jsonScalar), Description: "The record's fields, as REST's JSON body."}
	id := &graphql.ArgumentConfig{Type: graphql.NewNonNull(graphql.ID)}
	return graphql.Fields{
		"create" + suffix: {
			Type:        ci.obj,
			Description: fmt.Sprintf("POST /api/collections/%s/records, through REST's own handler: the same hooks, rules and field errors.", ci.name),
			Args:        graphql.FieldConfigArgument{"data": data},
			Resolve: func(p graphql.ResolveParams) (any, error) {
				return requestOf(p.Context).write(ci, http.MethodPost, "", p.Args["data"])
			},
		},
		"update" + suffix: {
			Type:        ci.obj,
			Description: fmt.Sprintf("PATCH /api/collections/%s/records/{id}, through REST's own handler.", ci.name),
			Args:        graphql.FieldConfigArgument{"id": id, "data": data},
			Resolve: func(p graphql.ResolveParams) (any, error) {
				rid, _ := p.Args["id"].(string)
				return requestOf(p.Context).write(ci, http.MethodPatch, rid, p.Args["data"])
			},
		},
		"delete" + suffix: {
			Type:        graphql.Boolean,
			Description: fmt.Sprintf("DELETE /api/collections/%s/records/{id}, through REST's own handler: true when deleted.", ci.name),
			Args:        graphql.FieldConfigArgument{"id": id},
			Resolve: func(p graphql.ResolveParams) (any, error) {
				rq := requestOf(p.Context)
				rid, _ := p.Args["id"].(string)
				status, body, err := rq.rest(http.MethodDelete, recordsPath(ci.name, rid), nil)
				if err != nil {
					return nil, err
				}
				if status >= 300 {
					return nil, restError(status, body)
				}
				return true, nil
			},
		},
	}
}

// write creates or updates a record over REST and answers REST's record; its
// relations then resolve as any other record's (under the view rules).
func (rq *request) write(ci *collInfo, method, id string, data any) (any, error) {
	if _, ok := data.(map[string]any); !ok {
		return nil, apis.NewBadRequestError("The data must be an object of the record's fields.", nil)
	}
	status, body, err := rq.rest(method, recordsPath(ci.name, id), data)
	if err != nil {
		return nil, err
	}
	if status >= 300 {
		return nil, restError(status, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("graphql: decode the %s answer: %w", ci.name, err)
	}
	rid, _ := m["id"].(string)
	rec, err := rq.app.FindRecordById(ci.name, rid)
	if err != nil {
		return nil, nil // deleted again by a hook in the meantime: nothing to show
	}
	delete(m, "expand")
	return &node{rec: rec, data: m}, nil
}

// literalValue reads a JSON argument written inline in the query.
func literalValue(v ast.Value) any {
	switch v := v.(type) {
	case *ast.ObjectValue:
		m := map[string]any{}
		for _, f := range v.Fields {
			m[f.Name.Value] = literalValue(f.Value)
		}
		return m
	case *ast.ListValue:
		l := make([]any, 0, len(v.Values))
		for _, x := range v.Values {
			l = append(l, literalValue(x))
		}
		return l
	case *ast.StringValue:
		return v.Value
	case *ast.BooleanValue:
		return v.Value
	case *ast.IntValue:
		if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			return n
		}
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	case *ast.FloatValue:
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	case *ast.EnumValue:
		return v.Value
	}
	return nil
}
