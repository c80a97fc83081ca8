// Package authrules makes a signed-in user's record reads cost what a
// guest's cost, without a second copy of any rule: for the length of one
// list or view request, PocketBase's own handler is given the collection's
// list and view rules partially evaluated against the caller's current auth
// record (specialize.go), so that a rule such as `@request.auth.role =
// "admin"` reaches PocketBase's query builder as `"student" = "admin"`,
// which needs no join, instead of a join of the users table, which makes
// PocketBase deduplicate every matching row before the LIMIT.
//
// The rules stay the ones the dashboard shows: each request reads the
// collection as it is in PocketBase's collection cache at that moment (a
// superuser's edit applies to the next request) and the auth record
// PocketBase loaded for the request from the database (a role change applies
// to the user's next request). Nothing else a client sends — query, headers,
// body — is read: the filter and sort still go to PocketBase unchanged.
//
// How the rule reaches PocketBase: GET /api/collections/{c}/records and
// /records/{id} run apis.recordsList and apis.recordView, which look the
// collection up with e.App.FindCachedCollectionByNameOrId and build the query
// from its ListRule/ViewRule. A middleware bound last before the handler puts
// a wrapper of the app on e.App (as internal/realtime does for one event's
// broadcast) whose collection lookups answer a copy carrying the specialized
// rules; the wrapper is taken off again at the very start of
// OnRecordsListRequest/OnRecordViewRequest, before any hook, expand or
// response, and records are always bound to the real collection. So the
// specialized rules exist only while PocketBase builds and runs the query,
// with the request's own RequestInfo, which is exactly what they were
// evaluated for.
package authrules

import (
	"net/http"
	"os"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// the record read routes of PocketBase (apis/record_crud.go), as http.ServeMux
// reports the matched pattern
const (
	listPattern = "GET /api/collections/{collection}/records"
	viewPattern = "GET /api/collections/{collection}/records/{id}"
)

const (
	// middlewarePriority runs after every other middleware (Lectern's are
	// bound at 0, PocketBase's below), right before the handler.
	middlewarePriority = 1_000_000
	// restorePriority runs before any other request hook.
	restorePriority = -1_000_000
)

// EnvDisable names the environment variable that turns the specialization
// off when it is "off": every rule then runs as PocketBase builds it (the
// same answers, at PocketBase's cost), as the benchmark measures it.
const EnvDisable = "LECTERN_AUTHRULES"

// Register binds the specialization to app's record list and view routes.
// Call it before the app serves.
func Register(app core.App) {
	if strings.EqualFold(os.Getenv(EnvDisable), "off") {
		return
	}
	answersOf(app).bind(app)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:       "lecternAuthRules",
			Priority: middlewarePriority,
			Func:     middleware,
		})
		return se.Next()
	})
	app.OnRecordsListRequest().Bind(&hook.Handler[*core.RecordsListRequestEvent]{
		Priority: restorePriority,
		Func: func(e *core.RecordsListRequestEvent) error {
			e.Collection = unwrap(e.RequestEvent, e.Collection)
			return e.Next()
		},
	})
	app.OnRecordViewRequest().Bind(&hook.Handler[*core.RecordRequestEvent]{
		Priority: restorePriority,
		Func: func(e *core.RecordRequestEvent) error {
			e.Collection = unwrap(e.RequestEvent, e.Collection)
			return e.Next()
		},
	})
}

func middleware(e *core.RequestEvent) error {
	if e.Request.Method != http.MethodGet || (e.Request.Pattern != listPattern && e.Request.Pattern != viewPattern) {
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil || info.Auth == nil || info.HasSuperuserAuth() || disabled {
		return e.Next()
	}
	plain := e.App
	a := &readApp{App: plain, auth: info.Auth, info: info, copies: map[*core.Collection]*core.Collection{}}
	if e.Request.Pattern == listPattern && !pinDisabled {
		// the list handler's first lookup is of the route's collection; the
		// filter is the one its search provider reads (the first value)
		a.listOf = e.Request.PathValue("collection")
		a.filter = e.Request.URL.Query().Get("filter")
	}
	e.App = a
	defer func() { e.App = plain }()
	return e.Next()
}

// unwrap takes the wrapper off e and returns the real collection for c.
func unwrap(e *core.RequestEvent, c *core.Collection) *core.Collection {
	a, ok := e.App.(*readApp)
	if !ok {
		return c
	}
	e.App = a.App
	return a.original(c)
}

// disabled is set only by the tests that compare answers with and without
// the specialization; pinDisabled turns off only the pinned-rows rewrite.
var disabled, pinDisabled bool

// readApp is the app PocketBase's record read handler runs with.
type readApp struct {
	core.App
	auth *core.Record
	info *core.RequestInfo
	// for a list request: the route's collection until the handler has
	// looked it up, the client's filter, and the copy whose list rule is
	// rewritten for the rows the filter pins (pin.go)
	listOf, filter   string
	pinned, pinnedOf *core.Collection
	// the specialized copy of each collection looked up in this request
	// (one request, one goroutine), by the real collection
	copies map[*core.Collection]*core.Collection
}

// FindCachedCollectionByNameOrId answers a copy of the cached collection
// whose list and view rules are specialized for the caller. Related
// collections looked up while the query is built (a client filter across a
// relation applies the related list rule) get theirs too: the same request,
// the same caller.
func (a *readApp) FindCachedCollectionByNameOrId(nameOrId string) (*core.Collection, error) {
	c, err := a.App.FindCachedCollectionByNameOrId(nameOrId)
	if err != nil || c == nil {
		return c, err
	}
	sp := a.specialized(c)
	if a.listOf != "" && nameOrId == a.listOf {
		// only the handler's own lookup of the listed collection: a related
		// collection's rule (even the same collection's, through a relation)
		// applies to rows the filter does not pin
		a.listOf = ""
		if sp.ListRule != nil && c.Type != core.CollectionTypeView {
			if pins := pinsOf(a.filter, c); len(pins) > 0 {
				if rule, ok := pinRule(a.App, answersOf(a.App), c, a.info, *sp.ListRule, pins); ok {
					cp := *sp
					cp.ListRule = &rule
					a.pinned, a.pinnedOf = &cp, c
					return a.pinned, nil
				}
			}
		}
	}
	return sp, nil
}

func (a *readApp) specialized(c *core.Collection) *core.Collection {
	if cp, ok := a.copies[c]; ok {
		return cp
	}
	cp := c
	list, lok := specializeRule(c.ListRule, a.auth)
	view, vok := specializeRule(c.ViewRule, a.auth)
	if lok || vok {
		copied := *c
		copied.ListRule, copied.ViewRule = list, view
		cp = &copied
	}
	a.copies[c] = cp
	return cp
}

func specializeRule(rule *string, auth *core.Record) (*string, bool) {
	if rule == nil {
		return nil, false // superusers only: nothing to evaluate
	}
	out, changed := Specialize(*rule, auth)
	if !changed {
		return rule, false
	}
	return &out, true
}

// original maps a specialized copy back to the real collection.
func (a *readApp) original(c *core.Collection) *core.Collection {
	if a.pinned != nil && c == a.pinned {
		return a.pinnedOf
	}
	for real, cp := range a.copies {
		if cp == c {
			return real
		}
	}
	return c
}

// RecordQuery binds the records it loads to the real collection: only the
// query is built from the copy's rules.
func (a *readApp) RecordQuery(collectionModelOrIdentifier any) *dbx.SelectQuery {
	if c, ok := collectionModelOrIdentifier.(*core.Collection); ok {
		collectionModelOrIdentifier = a.original(c)
	}
	return a.App.RecordQuery(collectionModelOrIdentifier)
}

// FindRecordById is the view handler's read: the rule comes in its filter
// function (built from the copy), the record is bound to the real collection.
func (a *readApp) FindRecordById(collectionModelOrIdentifier any, recordId string, optFilters ...func(q *dbx.SelectQuery) error) (*core.Record, error) {
	if c, ok := collectionModelOrIdentifier.(*core.Collection); ok {
		collectionModelOrIdentifier = a.original(c)
	}
	return a.App.FindRecordById(collectionModelOrIdentifier, recordId, optFilters...)
}

// ---

// Collection returns c with its list and view rules specialized for auth
// (internal/graphql builds its queries from these rules the way REST does).
// It returns c itself when nothing changes.
func Collection(c *core.Collection, auth *core.Record) *core.Collection {
	if c == nil || auth == nil || auth.IsSuperuser() || disabled {
		return c
	}
	list, lok := specializeRule(c.ListRule, auth)
	view, vok := specializeRule(c.ViewRule, auth)
	if !lok && !vok {
		return c
	}
	copied := *c
	copied.ListRule, copied.ViewRule = list, view
	return &copied
}

// SetStaleMutation switches on a deliberately broken cache (keyed by the
// caller's id instead of the values the rule reads), for the mutation test
// only: reliability.TestRuleMutations expects the authorization tests to
// catch it.
func SetStaleMutation() { staleMutation = true }

// SetDisabled switches the specialization off, for tests that compare the
// answers of both paths.
func SetDisabled(off bool) { disabled = off }

// SetPinDisabled switches only the pinned-rows rewrite (pin.go) off.
func SetPinDisabled(off bool) { pinDisabled = off }

// SetAnswerKeyMutation switches on a deliberately broken answer key that
// leaves the caller out, for the mutation test only.
func SetAnswerKeyMutation() { keyMutation = true }

// SetPinOrMutation switches on a deliberately broken pin finder that takes
// a term of an OR for a pin, for the mutation test only:
// reliability.TestRuleMutations expects the authorization tests to catch it.
func SetPinOrMutation() { pinOrMutation = true }
