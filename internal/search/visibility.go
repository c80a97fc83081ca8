package search

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	pbsearch "github.com/pocketbase/pocketbase/tools/search"
)

// Which index a record's entry lives in.
//
// A record a guest may list is "public": its entry is in ftsTable, whose
// bm25 statistics (row count, average length, how many rows hold a term)
// and vocabulary are the only ones any search ranks and corrects typos
// with. Every other record's entry is in hiddenTable, searched only for
// signed-in callers (a guest can list nothing a guest cannot list) and
// scored in Go with ftsTable's statistics (bm25.go). So a record a caller
// may not see changes nothing in what that caller gets: not the statistics,
// not the vocabulary, and — since every count and bound is taken over the
// caller's listable matches — no total, flag or order.
//
// "A guest may list" is decided by the collection's LIST rule itself, run
// by PocketBase's resolver for a request without auth, exactly as for a
// guest's list request: the rules stay the only place that says who sees
// what.

// guestInfo is the request of a guest listing records.
func guestInfo() *core.RequestInfo {
	return &core.RequestInfo{
		Context: core.RequestInfoContextDefault,
		Method:  http.MethodGet,
		Query:   map[string]string{},
		Headers: map[string]string{},
		Body:    map[string]any{},
	}
}

// applyListRule restricts q (a select from the collection's table) to the
// rows the caller of info may list: the collection's LIST rule built by
// PocketBase's filter parser and record field resolver, with the joins it
// needs, as the list API applies it. Superusers skip the rule; a
// superuser-only rule (nil) gives errNotListable.
func applyListRule(app core.App, col *core.Collection, info *core.RequestInfo, q *dbx.SelectQuery) error {
	superuser := info != nil && info.HasSuperuserAuth()
	if superuser {
		return nil
	}
	if col.ListRule == nil {
		return errNotListable
	}
	if *col.ListRule == "" {
		return nil
	}
	resolver := core.NewRecordFieldResolver(app, col, info, true)
	expr, err := pbsearch.FilterData(*col.ListRule).BuildExpr(resolver)
	if err != nil {
		return fmt.Errorf("build %s list rule: %w", col.Name, err)
	}
	q.AndWhere(expr)
	if err := resolver.UpdateQuery(q); err != nil {
		return fmt.Errorf("apply %s list rule: %w", col.Name, err)
	}
	return nil
}

// visibilityBatch bounds the ids of one guestVisible query.
const visibilityBatch = 500

// guestRuleSQL caches, per collection and list rule, the query that picks
// the records a guest may list among the ids given as a JSON array in
// {:guestIds} (or, single, the one id {:guestId}): building it (parsing the
// rule, resolving its fields) costs ten times running it, and every indexed
// write runs it.
var guestRuleSQL sync.Map // collection name, single, rule → *guestQuery

type guestQuery struct {
	sql    string
	params dbx.Params
}

func guestRuleQuery(app core.App, col *core.Collection, single bool) (*guestQuery, error) {
	key := fmt.Sprint(col.Name, "\x00", single, "\x00", *col.ListRule)
	if q, ok := guestRuleSQL.Load(key); ok {
		return q.(*guestQuery), nil
	}
	in := dbx.NewExp("[[" + col.Name + ".id]] IN (SELECT [[value]] FROM json_each({:guestIds}))")
	if single {
		in = dbx.NewExp("[[" + col.Name + ".id]] = {:guestId}")
	}
	q := app.DB().Select("[[" + col.Name + ".id]]").From(col.Name).AndWhere(in)
	if err := applyListRule(app, col, guestInfo(), q); err != nil {
		return nil, err
	}
	built := q.Build()
	gq := &guestQuery{sql: built.SQL(), params: built.Params()}
	guestRuleSQL.Store(key, gq)
	return gq, nil
}

// guestVisible reports which of the records (ids of s's collection) a guest
// may list. ids nil asks for every record of the collection.
func guestVisible(app core.App, s source, ids []string) (map[string]bool, error) {
	col, err := app.FindCachedCollectionByNameOrId(s.collection)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	if col.ListRule == nil {
		return out, nil // superusers only
	}
	collect := func(visible []string) {
		for _, id := range visible {
			out[id] = true
		}
	}
	if ids == nil {
		q := app.DB().Select("[[" + s.collection + ".id]]").From(s.collection)
		if err := applyListRule(app, col, guestInfo(), q); err != nil {
			return nil, err
		}
		var visible []string
		if err := q.Column(&visible); err != nil {
			return nil, fmt.Errorf("%s visible to guests: %w", s.collection, err)
		}
		collect(visible)
		return out, nil
	}
	gq, err := guestRuleQuery(app, col, false)
	if err != nil {
		return nil, err
	}
	for len(ids) > 0 {
		n := min(len(ids), visibilityBatch)
		batch, _ := json.Marshal(ids[:n])
		params := dbx.Params{"guestIds": string(batch)}
		maps.Copy(params, gq.params)
		var visible []string
		if err := app.DB().NewQuery(gq.sql).Bind(params).Column(&visible); err != nil {
			return nil, fmt.Errorf("%s visible to guests: %w", s.collection, err)
		}
		collect(visible)
		ids = ids[n:]
	}
	return out, nil
}

// dependent is an indexed collection whose guest visibility may follow the
// records of another collection: its LIST rule reads through field, a
// relation to that collection (lessons' "course.status").
type dependent struct {
	s     source
	field string
}

// dependentsOf lists the indexed collections whose LIST rule reads a
// record of target through a relation field, found from the schema and the
// rules' text (a rule naming "field." reads through it), so that a change
// of a course's status moves its lessons between the indexes.
func dependentsOf(app core.App, target *core.Collection) []dependent {
	var out []dependent
	for _, s := range sources {
		col, err := app.FindCachedCollectionByNameOrId(s.collection)
		if err != nil || col.ListRule == nil || *col.ListRule == "" {
			continue
		}
		for _, f := range col.Fields {
			rf, ok := f.(*core.RelationField)
			if ok && rf.CollectionId == target.Id && strings.Contains(*col.ListRule, rf.Name+".") {
				out = append(out, dependent{s: s, field: rf.Name})
			}
		}
	}
	return out
}

// refreshDependents re-decides the index of every record that a dependent
// collection relates to r through.
func refreshDependents(app core.App, deps []dependent, r *core.Record) error {
	for _, d := range deps {
		recs, err := app.FindRecordsByFilter(d.s.collection, d.field+" ?= {:id}", "", 0, 0, dbx.Params{"id": r.Id})
		if err != nil {
			return fmt.Errorf("find %s of %s %q: %w", d.s.collection, r.Collection().Name, r.Id, err)
		}
		for len(recs) > 0 {
			n := min(len(recs), visibilityBatch)
			if err := refreshVisibility(app, d.s, recs[:n]); err != nil {
				return err
			}
			recs = recs[n:]
		}
	}
	return nil
}
