package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/graphql-go/graphql"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/search"

	"lectern/hooks"
	"lectern/internal/authrules"
)

// node is a record as a resolver sees it: the record (for expanding its
// relations) and its fields exactly as REST serializes them.
type node struct {
	rec  *core.Record
	data map[string]any
}

// page is a list answer, shaped as REST's.
type page struct {
	Page, PerPage, TotalItems, TotalPages int
	Items                                 []*node
}

// request is one GraphQL request's state: who asks, and the open batches.
type request struct {
	mux     *restMux
	app     core.App
	orig    *core.RequestEvent
	batches map[string]*batch
}

type ctxKey struct{}

func requestOf(ctx context.Context) *request { return ctx.Value(ctxKey{}).(*request) }

// event builds the request event PocketBase's record machinery reads: the
// caller's auth and headers, a GET of the REST path it stands for (with the
// collection and id path values a request hook may read) with the REST list
// parameters as its query, and a response nobody reads (a list hook that
// writes its own answer must not write into the GraphQL response).
func (rq *request) event(collection, id string, query url.Values) *core.RequestEvent {
	r := rq.orig.Request.Clone(rq.orig.Request.Context())
	r.Method = http.MethodGet
	r.Body = http.NoBody
	r.ContentLength = 0
	r.Header.Del("Content-Type")
	u := *r.URL
	u.Path = "/api/collections/" + collection + "/records"
	if id != "" {
		u.Path += "/" + id
	}
	u.RawPath = ""
	u.RawQuery = query.Encode()
	r.URL = &u
	r.SetPathValue("collection", collection)
	r.SetPathValue("id", id)
	ev := &core.RequestEvent{App: rq.app, Auth: rq.orig.Auth}
	ev.Request = r
	ev.Response = discard{header: http.Header{}}
	return ev
}

// discard is a ResponseWriter that drops what is written to it.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

// listArgs are a list field's arguments as REST query parameters, perPage
// clamped as Lectern clamps REST's.
func listQuery(args map[string]any) url.Values {
	q := url.Values{}
	if s, ok := args["filter"].(string); ok && s != "" {
		q.Set(search.FilterQueryParam, s)
	}
	if s, ok := args["sort"].(string); ok && s != "" {
		q.Set(search.SortQueryParam, s)
	}
	if n, ok := args["page"].(int); ok {
		q.Set(search.PageQueryParam, strconv.Itoa(n))
	}
	if n, ok := args["perPage"].(int); ok {
		q.Set(search.PerPageQueryParam, strconv.Itoa(min(n, hooks.MaxPerPage)))
	}
	return q
}

// toNodes serializes records as REST does (their MarshalJSON honours hidden
// fields and email visibility, set by the enrichment).
func toNodes(recs []*core.Record) ([]*node, error) {
	out := make([]*node, 0, len(recs))
	for _, r := range recs {
		raw, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("serialize %s %s: %w", r.Collection().Name, r.Id, err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		out = append(out, &node{rec: r, data: m})
	}
	return out, nil
}

// ---

// preflight is what REST's list handler checks before it queries: the list
// rule's existence, the superuser-only filter fields, Lectern's filter guard,
// and that the filter and sort parse and name fields the caller may use
// (resolved here, before any database work, so a bad one is a 400 with the
// reason and a database failure later is never mistaken for one).
func preflight(rq *request, c *core.Collection, info *core.RequestInfo, filter, sort string) error {
	su := info.HasSuperuserAuth()
	if c.ListRule == nil && !su {
		return apis.NewForbiddenError("Only superusers can perform this action.", nil)
	}
	if !su {
		for _, v := range []string{filter, sort} {
			for _, f := range []string{"@collection.", "@request."} {
				if strings.Contains(v, f) {
					return apis.NewForbiddenError("Only superusers can filter by "+f, nil)
				}
			}
		}
	}
	if err := checkFilter(rq.app, c, info.Auth, filter, sort); err != nil {
		return err
	}
	resolver := core.NewRecordFieldResolver(rq.app, c, info, true)
	resolver.SetAllowHiddenFields(su)
	if filter != "" {
		if len(filter) > search.MaxFilterLength {
			return badQuery(search.ErrFilterLengthLimit)
		}
		if _, err := search.FilterData(filter).BuildExprWithLimit(resolver, search.DefaultFilterExprLimit); err != nil {
			return badQuery(err)
		}
	}
	var sorts []search.SortField
	if sort != "" {
		sorts = search.ParseSortFromString(sort)
	}
	if len(sorts) > search.DefaultSortExprLimit {
		return badQuery(search.ErrSortExprLimit)
	}
	for _, sf := range sorts {
		if len(sf.Name) > search.MaxSortFieldLength {
			return badQuery(search.ErrSortFieldLengthLimit)
		}
		if _, err := sf.BuildExpr(resolver); err != nil {
			return badQuery(err)
		}
	}
	return nil
}

// resolveList answers a collection's list field as GET
// /api/collections/{c}/records does (apis/record_crud.go recordsList): the
// list rule joined to the client's filter by the same field resolver, the
// same search provider, the same list-request hooks and record enrichment.
func resolveList(ci *collInfo) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		rq := requestOf(p.Context)
		c, err := rq.app.FindCachedCollectionByNameOrId(ci.name)
		if err != nil {
			return nil, apis.NewNotFoundError("Missing collection context.", err)
		}
		q := listQuery(p.Args)
		ev := rq.event(c.Name, "", q)
		info, err := ev.RequestInfo()
		if err != nil {
			return nil, err
		}
		if err := preflight(rq, c, info, q.Get(search.FilterQueryParam), q.Get(search.SortQueryParam)); err != nil {
			return nil, err
		}

		query := rq.app.RecordQuery(c)
		resolver := core.NewRecordFieldResolver(rq.app, c, info, true)
		// the rule REST's handler gets for this caller (internal/authrules)
		rule := authrules.Collection(c, info.Auth).ListRule
		if !info.HasSuperuserAuth() && rule != nil && *rule != "" {
			expr, err := search.FilterData(*rule).BuildExpr(resolver)
			if err != nil {
				return nil, err
			}
			query.AndWhere(expr)
		}
		resolver.SetAllowHiddenFields(info.HasSuperuserAuth())
		provider := search.NewProvider(resolver).Query(query)
		if !c.IsView() {
			provider.CountCol("_rowid_")
		}
		records := []*core.Record{}
		result, err := provider.ParseAndExec(q.Encode(), &records)
		if err != nil {
			return nil, loadFailed(rq.app, c, err)
		}
		records, err = listHooks(ev, c, records, result)
		if err != nil {
			return nil, err
		}
		if err := apis.EnrichRecords(ev, records); err != nil {
			return nil, err
		}
		items, err := toNodes(records)
		if err != nil {
			return nil, err
		}
		return &page{Page: result.Page, PerPage: result.PerPage, TotalItems: result.TotalItems, TotalPages: result.TotalPages, Items: items}, nil
	}
}

// listHooks runs the list-request hooks REST runs on a page; the caller then
// enriches the records (once for all the pages of a batch).
func listHooks(ev *core.RequestEvent, c *core.Collection, records []*core.Record, result *search.Result) ([]*core.Record, error) {
	le := new(core.RecordsListRequestEvent)
	le.RequestEvent = ev
	le.Collection = c
	le.Records = records
	le.Result = result
	err := ev.App.OnRecordsListRequest().Trigger(le, func(e *core.RecordsListRequestEvent) error {
		records = e.Records
		return nil
	})
	return records, err
}

// resolveSingle answers a singular field as GET /api/collections/{c}/records/{id}
// does: the view rule in the query, null (REST's 404) when it refuses.
func resolveSingle(ci *collInfo) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		rq := requestOf(p.Context)
		c, err := rq.app.FindCachedCollectionByNameOrId(ci.name)
		if err != nil {
			return nil, apis.NewNotFoundError("Missing collection context.", err)
		}
		id, _ := p.Args["id"].(string)
		ev := rq.event(c.Name, id, url.Values{})
		info, err := ev.RequestInfo()
		if err != nil {
			return nil, err
		}
		if c.ViewRule == nil && !info.HasSuperuserAuth() {
			return nil, apis.NewForbiddenError("Only superusers can perform this action.", nil)
		}
		if id == "" {
			return nil, nil
		}
		rec, err := rq.app.FindRecordById(c, id, func(q *dbx.SelectQuery) error {
			if info.HasSuperuserAuth() || *c.ViewRule == "" {
				return nil
			}
			resolver := core.NewRecordFieldResolver(rq.app, c, info, true)
			expr, err := search.FilterData(*authrules.Collection(c, info.Auth).ViewRule).BuildExpr(resolver)
			if err != nil {
				return err
			}
			q.AndWhere(expr)
			return resolver.UpdateQuery(q)
		})
		if err != nil || rec == nil {
			return nil, nil // REST's 404: not there or not viewable
		}
		ve := new(core.RecordRequestEvent)
		ve.RequestEvent = ev
		ve.Collection = c
		ve.Record = rec
		err = rq.app.OnRecordViewRequest().Trigger(ve, func(e *core.RecordRequestEvent) error {
			rec = e.Record
			return apis.EnrichRecord(e.RequestEvent, e.Record)
		})
		if err != nil {
			return nil, err
		}
		nodes, err := toNodes([]*core.Record{rec})
		if err != nil {
			return nil, err
		}
		return nodes[0], nil
	}
}

func resolveScalar(name string) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		return p.Source.(*node).data[name], nil
	}
}

func pageInt(get func(*page) int) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) { return get(p.Source.(*page)), nil }
}

// ---

// batch gathers the parents whose same relation field (or back-relation with
// the same arguments) is asked for at one level of the query. graphql-go
// calls every sibling's resolver before it calls the first thunk, so the
// first thunk loads for all of them at once.
type batch struct {
	parents []*core.Record
	seen    map[*core.Record]bool
	done    bool
	err     error
	one     map[*core.Record]*node   // forward single relation
	many    map[*core.Record][]*node // forward multiple relation
	pages   map[string]*page         // back-relation, by parent id
	run     func(b *batch) error
}

func (rq *request) enqueue(key string, parent *core.Record, run func(b *batch) error) *batch {
	b := rq.batches[key]
	if b == nil || b.done {
		b = &batch{seen: map[*core.Record]bool{}, run: run}
		rq.batches[key] = b
	}
	if !b.seen[parent] {
		b.seen[parent] = true
		b.parents = append(b.parents, parent)
	}
	return b
}

func (b *batch) load() error {
	if !b.done {
		b.done = true
		b.err = b.run(b)
	}
	return b.err
}

// resolveRelation answers a relation field as REST's expand does: PocketBase's
// own expansion (apis.EnrichRecords with the field as default expand), which
// fetches every parent's related records in one query under the related
// collection's view rule and leaves out what the caller may not view.
func resolveRelation(field string, multiple bool) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		rq := requestOf(p.Context)
		parent := p.Source.(*node).rec
		key := "rel:" + parent.Collection().Id + ":" + field
		b := rq.enqueue(key, parent, func(b *batch) error {
			ev := rq.event(parent.Collection().Name, "", url.Values{})
			if err := apis.EnrichRecords(ev, b.parents, field); err != nil {
				return err
			}
			b.one, b.many = map[*core.Record]*node{}, map[*core.Record][]*node{}
			for _, r := range b.parents {
				rel := r.ExpandedAll(field)
				nodes, err := toNodes(rel)
				if err != nil {
					return err
				}
				b.many[r] = nodes
				if len(nodes) > 0 {
					b.one[r] = nodes[0]
				}
			}
			return nil
		})
		return func() (any, error) {
			if err := b.load(); err != nil {
				return nil, err
			}
			if multiple {
				return b.many[parent], nil
			}
			if n := b.one[parent]; n != nil {
				return n, nil
			}
			return nil, nil
		}, nil
	}
}

// resolveBack answers a back-relation (Post.comments) as REST answers GET
// /api/collections/comments/records?filter=post="<id>" && (<filter>): the
// child's list rule, the client's filter and sort through the same field
// resolver, per parent its own page. The parents of one level are answered
// by one statement (a UNION ALL of each parent's query) plus one for the totals.
func resolveBack(br backRel) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		rq := requestOf(p.Context)
		parent := p.Source.(*node).rec
		q := listQuery(p.Args)
		key := "back:" + br.child.id + ":" + br.field + "?" + q.Encode()
		b := rq.enqueue(key, parent, func(b *batch) error { return rq.loadBack(br, q, b) })
		return func() (any, error) {
			if err := b.load(); err != nil {
				return nil, err
			}
			return b.pages[parent.Id], nil
		}, nil
	}
}

// unionChunk bounds the arms of one UNION ALL (SQLite allows 500).
const unionChunk = 100

var placeholderRe = regexp.MustCompile(`\{:(\w+)\}`)

func (rq *request) loadBack(br backRel, q url.Values, b *batch) error {
	c, err := rq.app.FindCachedCollectionByNameOrId(br.child.name)
	if err != nil {
		return apis.NewNotFoundError("Missing collection context.", err)
	}
	ev := rq.event(c.Name, "", q)
	info, err := ev.RequestInfo()
	if err != nil {
		return err
	}
	filter, sortStr := q.Get(search.FilterQueryParam), q.Get(search.SortQueryParam)
	if err := preflight(rq, c, info, filter, sortStr); err != nil {
		return err
	}
	// the provider's normalisation (tools/search/provider.go)
	pageN, _ := strconv.Atoi(q.Get(search.PageQueryParam))
	perPage, _ := strconv.Atoi(q.Get(search.PerPageQueryParam))
	if pageN <= 0 {
		pageN = 1
	}
	if perPage <= 0 {
		perPage = search.DefaultPerPage
	}
	perPage = min(perPage, hooks.MaxPerPage)
	su := info.HasSuperuserAuth()
	// the rule REST's handler gets for this caller (internal/authrules)
	rule := authrules.Collection(c, info.Auth).ListRule

	// the same query PocketBase's provider builds for one parent
	build := func(parentID string) (items, count *dbx.Query, err error) {
		query := rq.app.RecordQuery(c)
		resolver := core.NewRecordFieldResolver(rq.app, c, info, true)
		if !su && rule != nil && *rule != "" {
			expr, err := search.FilterData(*rule).BuildExpr(resolver)
			if err != nil {
				return nil, nil, err
			}
			query.AndWhere(expr)
		}
		resolver.SetAllowHiddenFields(su)
		query.AndWhere(dbx.HashExp{c.Name + "." + br.field: parentID})
		if filter != "" {
			if len(filter) > search.MaxFilterLength {
				return nil, nil, search.ErrFilterLengthLimit
			}
			expr, err := search.FilterData(filter).BuildExprWithLimit(resolver, search.DefaultFilterExprLimit)
			if err != nil {
				return nil, nil, err
			}
			query.AndWhere(expr)
		}
		var sorts []search.SortField
		if sortStr != "" {
			sorts = search.ParseSortFromString(sortStr)
		}
		if len(sorts) > search.DefaultSortExprLimit {
			return nil, nil, search.ErrSortExprLimit
		}
		for _, sf := range sorts {
			if len(sf.Name) > search.MaxSortFieldLength {
				return nil, nil, search.ErrSortFieldLengthLimit
			}
			expr, err := sf.BuildExpr(resolver)
			if err != nil {
				return nil, nil, err
			}
			if expr != "" {
				if sf.Name == "@rowid" && !strings.Contains(expr, ".") {
					expr = "[[" + c.Name + "]]." + expr
				}
				query.AndOrderBy(expr)
			}
		}
		if err := resolver.UpdateQuery(query); err != nil {
			return nil, nil, err
		}
		countQ := *query
		count = countQ.Distinct(false).
			Select("COUNT(DISTINCT [["+c.Name+"._rowid_]]) AS n", "COALESCE(MIN([["+c.Name+"."+br.field+"]]), '') AS p").
			GroupBy().OrderBy().Build()
		items = query.Limit(int64(perPage)).Offset(int64(perPage * (pageN - 1))).Build()
		return items, count, nil
	}

	b.pages = map[string]*page{}
	ids := make([]string, 0, len(b.parents))
	seen := map[string]bool{}
	for _, r := range b.parents {
		if !seen[r.Id] {
			seen[r.Id] = true
			ids = append(ids, r.Id)
			b.pages[r.Id] = &page{Page: pageN, PerPage: perPage, Items: []*node{}}
		}
	}
	db := rq.app.ConcurrentDB()
	var all []*core.Record
	for start := 0; start < len(ids); start += unionChunk {
		chunk := ids[start:min(start+unionChunk, len(ids))]
		var itemArms, countArms []string
		params := dbx.Params{}
		for i, id := range chunk {
			items, count, err := build(id)
			if err != nil {
				return loadFailed(rq.app, c, err)
			}
			itemArms = append(itemArms, fmt.Sprintf("SELECT *, %d AS [[__gql_arm]], ROW_NUMBER() OVER () AS [[__gql_row]] FROM (%s)", i, renameParams(items, i, params)))
			countArms = append(countArms, renameParams(count, i, params))
		}
		cols := []string{}
		for _, name := range c.Fields.FieldNames() {
			cols = append(cols, db.QuoteSimpleColumnName(c.Name)+"."+db.QuoteSimpleColumnName(name))
		}
		var recs []*core.Record
		err := rq.app.RecordQuery(c).
			Select(cols...).
			From("("+strings.Join(itemArms, " UNION ALL ")+") "+db.QuoteSimpleTableName(c.Name)).
			OrderBy("[[__gql_arm]]", "[[__gql_row]]").
			Bind(params).
			All(&recs)
		if err != nil {
			return loadFailed(rq.app, c, err)
		}
		var counts []struct {
			N int    `db:"n"`
			P string `db:"p"`
		}
		if err := db.NewQuery(strings.Join(countArms, " UNION ALL ")).Bind(params).All(&counts); err != nil {
			return loadFailed(rq.app, c, err)
		}
		for _, n := range counts {
			if pg := b.pages[n.P]; pg != nil {
				pg.TotalItems = n.N
				pg.TotalPages = int(math.Ceil(float64(n.N) / float64(perPage)))
			}
		}
		all = append(all, recs...)
	}

	// per parent, the list-request hooks and enrichment REST would run
	groups := map[string][]*core.Record{}
	for _, r := range all {
		pid := r.GetString(br.field)
		groups[pid] = append(groups[pid], r)
	}
	kept := map[string][]*core.Record{}
	var enrich []*core.Record
	for _, id := range ids {
		pg := b.pages[id]
		res := &search.Result{Page: pg.Page, PerPage: pg.PerPage, TotalItems: pg.TotalItems, TotalPages: pg.TotalPages}
		recs, err := listHooks(rq.event(c.Name, "", q), c, groups[id], res)
		if err != nil {
			return err
		}
		kept[id] = recs
		enrich = append(enrich, recs...)
	}
	if err := apis.EnrichRecords(ev, enrich); err != nil {
		return err
	}
	for _, id := range ids {
		if b.pages[id].Items, err = toNodes(kept[id]); err != nil {
			return err
		}
	}
	return nil
}

// renameParams returns q's SQL with its placeholders renamed for arm i of a
// union (dbx numbers a query's own placeholders from p0), adding the values to params.
func renameParams(q *dbx.Query, i int, params dbx.Params) string {
	suffix := "_a" + strconv.Itoa(i)
	for k, v := range q.Params() {
		params[k+suffix] = v
	}
	return placeholderRe.ReplaceAllString(q.SQL(), "{:${1}"+suffix+"}")
}

// loadFailed reports a failure past the checks (the database, a hook) as
// REST's 500 would be: logged, with a message that names nothing internal.
func loadFailed(app core.App, c *core.Collection, err error) error {
	var apiErr *router.ApiError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	app.Logger().Error("graphql: load records", "collection", c.Name, "error", err)
	return apis.NewInternalServerError("Failed to load the records.", nil)
}

// badQuery turns what the record machinery refused (a filter or sort it
// cannot parse or resolve) into the 400 REST answers, as a GraphQL error.
func badQuery(err error) error {
	var apiErr *router.ApiError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return apis.NewBadRequestError("Invalid filter or sort: "+err.Error(), nil)
}
