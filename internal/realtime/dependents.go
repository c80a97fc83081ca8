package realtime

// ---
// Records that leave a view through another record: the comments of a post
// taken back to draft, the lessons and reviews of a course unpublished, the
// lessons of an enrollment cancelled. Nothing is written to them, so no event
// of theirs runs; the update of the record their rule reads is what changes
// who may see them.
//
// A collection Y depends on the updated record r (of collection X) when its
// list/view rule, or a subscription's filter on it, reads X through
// a relation (`post.status`: Y's relation field to X, followed by a dot) or
// through `@collection.X`. The records of Y such an update can affect (the
// candidates) are, for a relation, those pointing at r; for `@collection.X`,
// those sharing a related record with r (a lesson of the enrollment's course)
// or that r points at (the enrollment's completed lessons). One hop: a rule
// reading `post.author.role` is followed to posts, not to users.
//
// Before the write, each subscription to Y gets the set of candidates it can
// see (its rule, then its filter, one query each per distinct question); after
// it, the same queries again; the ids that left the set get a delete carrying
// the record (unchanged by the write: it is as the subscriber saw it). These
// deletes are sent from the update's after-success hook, synchronously, so the
// update's fanout is not finished before they are queued: no later event can
// overtake them.

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// MaxDependents bounds the candidates one subscription's question reads per
// update (a post with more comments than this, taken back to draft, sends the
// deletes of the first ones; the page's post delete says the rest is gone).
var MaxDependents = 1000

// dependentSub is one subscription to a dependent collection and what it
// could see of the candidates before the update.
type dependentSub struct {
	viewer
	coll *core.Collection
	cand dbx.Expression
	only string // a record topic's id: only that candidate counts
	seen map[string]bool
}

// dependents returns the subscriptions of collections depending on r, with
// the candidates each can see now (before the write). old returns r as
// committed (nil if it is not), read only when a collection depends on r.
func (v *visibility) dependents(r *core.Record, old func() *core.Record) []dependentSub {
	// the subscriptions by the topic's collection part, in one pass
	type subscription struct {
		client subscriptions.Client
		sub    string
		opts   subscriptions.SubscriptionOptions
		auth   *core.Record
	}
	byCollection := map[string][]subscription{}
	for _, c := range v.app.SubscriptionsBroker().Clients() {
		var auth *core.Record
		for sub, opts := range c.Subscriptions() {
			name := sub
			if i := strings.IndexAny(name, "/?"); i >= 0 {
				name = name[:i]
			}
			if auth == nil {
				auth, _ = c.Get(apis.RealtimeClientAuthKey).(*core.Record)
			}
			byCollection[name] = append(byCollection[name], subscription{c, sub, opts, auth})
		}
	}
	x := r.Collection()
	var out []dependentSub
	sets := map[accessKey]map[string]bool{}
	for name, subs := range byCollection {
		y, err := v.app.FindCachedCollectionByNameOrId(name)
		if err != nil || y.Id == x.Id || y.Name != name && y.Id != name {
			continue
		}
		rules := map[string]*string{y.Name + "/*?": y.ListRule, y.Id + "/*?": y.ListRule, y.Name + "?": y.ListRule, y.Id + "?": y.ListRule}
		reads := readerOf(y, x)
		var cand dbx.Expression
		candDone := false
		candFor := func() dbx.Expression {
			if !candDone {
				cand, candDone = candidates(y, x, r, old()), true
			}
			return cand
		}
		for _, s := range subs {
			c, sub, opts, auth := s.client, s.sub, s.opts, s.auth
			rule, only, ok := ruleOfTopic(sub, y, rules)
			if !ok {
				continue
			}
			info := requestInfo(opts, auth)
			if !reads(rule, info.Query[search.FilterQueryParam]) || candFor() == nil {
				continue
			}
			seen := visibleSet(v.app, sets, y, candFor(), info, rule)
			if only != "" {
				seen = map[string]bool{only: seen[only]}
			}
			if !anyTrue(seen) {
				continue // nothing it sees can leave
			}
			out = append(out, dependentSub{
				viewer: viewer{client: c.Id(), sub: sub, options: opts, rule: rule, auth: auth},
				coll:   y, cand: candFor(), only: only, seen: seen,
			})
		}
	}
	return out
}

// ruleOfTopic returns the rule PocketBase checks for a subscription to y
// (and the record id of a `y/id` topic), or false for a topic of another
// collection.
func ruleOfTopic(sub string, y *core.Collection, listRules map[string]*string) (*string, string, bool) {
	for prefix, rule := range listRules {
		if strings.HasPrefix(sub+"?", prefix) {
			return rule, "", true
		}
	}
	for _, n := range []string{y.Name, y.Id} {
		if rest, ok := strings.CutPrefix(sub, n+"/"); ok {
			id, _, _ := strings.Cut(rest, "?")
			if id != "" && id != "*" {
				return y.ViewRule, id, true
			}
		}
	}
	return nil, "", false
}

// readerOf returns whether a rule or a filter of y can read x: through one
// of y's relation fields to x followed by a dot, @collection.x, or x's rows
// pointing at the caller (`@request.auth.x_via_field.`, the lessons rule's
// "enrolled" test), whose candidates are those of @collection.x.
func readerOf(y, x *core.Collection) func(rule *string, filter string) bool {
	alts := []string{`@collection\.` + regexp.QuoteMeta(x.Name) + `[.:]`,
		`@request\.auth\.` + regexp.QuoteMeta(x.Name) + `_via_\w+\.`}
	for _, f := range y.Fields {
		if rel, ok := f.(*core.RelationField); ok && rel.CollectionId == x.Id {
			alts = append(alts, `(?:^|[^\w.@])`+regexp.QuoteMeta(rel.Name)+`\.`)
		}
	}
	re := regexp.MustCompile(strings.Join(alts, "|"))
	return func(rule *string, filter string) bool {
		if rule != nil && re.MatchString(*rule) {
			return true
		}
		return filter != "" && re.MatchString(filter)
	}
}

// candidates is the SQL condition on y's rows that r's update may affect, or
// nil when none can be told.
func candidates(y, x *core.Collection, r, old *core.Record) dbx.Expression {
	var or []dbx.Expression
	n := 0
	// in binds ids as one IN list: a flat OR of thousands of terms would
	// pass SQLite's expression depth limit
	in := func(ids []string) (string, dbx.Params) {
		params := dbx.Params{}
		names := make([]string, 0, len(ids))
		for _, id := range ids {
			n++
			p := "lecternDep" + strconv.Itoa(n)
			params[p] = id
			names = append(names, "{:"+p+"}")
		}
		return "(" + strings.Join(names, ", ") + ")", params
	}
	contains := func(f *core.RelationField, ids []string) {
		ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "" })
		if len(ids) == 0 {
			return
		}
		list, params := in(ids)
		col := "[[" + y.Name + "." + f.Name + "]]"
		if f.IsMultiple() {
			or = append(or, dbx.NewExp("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid("+col+") THEN "+col+" ELSE '[]' END) WHERE value IN "+list+")", params))
		} else {
			or = append(or, dbx.NewExp(col+" IN "+list, params))
		}
	}
	// a relation from y to x: the rows pointing at r
	for _, f := range y.Fields {
		if rel, ok := f.(*core.RelationField); ok && rel.CollectionId == x.Id {
			contains(rel, []string{r.Id})
		}
	}
	// @collection.x: the rows r points at, and those sharing a record r points at
	for _, f := range x.Fields {
		g, ok := f.(*core.RelationField)
		if !ok {
			continue
		}
		ids := r.GetStringSlice(g.Name)
		if old != nil {
			ids = union(ids, old.GetStringSlice(g.Name))
		}
		if g.CollectionId == y.Id {
			if ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "" }); len(ids) > 0 {
				list, params := in(ids)
				or = append(or, dbx.NewExp("[["+y.Name+".id]] IN "+list, params))
			}
			continue
		}
		for _, h := range y.Fields {
			if rel, ok := h.(*core.RelationField); ok && rel.CollectionId == g.CollectionId {
				contains(rel, ids)
			}
		}
	}
	if len(or) == 0 {
		return nil
	}
	return dbx.Or(or...)
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func anyTrue(m map[string]bool) bool {
	for _, v := range m {
		if v {
			return true
		}
	}
	return false
}

// visibleSet is the set of candidates of y a subscription can see now: its
// rule, then its filter (no @request/@collection for non-superusers, no
// hidden fields), each query shared by the subscriptions asking the same
// question within one update (sets, keyed like the access memo).
func visibleSet(app core.App, sets map[accessKey]map[string]bool, y *core.Collection, cand dbx.Expression, info *core.RequestInfo, rule *string) map[string]bool {
	probe := core.NewRecord(y) // the key's collection; the set covers every candidate
	ask := func(q *string, allowHidden bool) map[string]bool {
		key, ok := accessKeyFor(probe, info, q)
		if ok {
			if s, done := sets[key]; done {
				return s
			}
		}
		s := idsWhere(app, y, cand, info, q, allowHidden)
		if ok {
			sets[key] = s
		}
		return s
	}
	var byRule map[string]bool
	switch {
	case info.HasSuperuserAuth() || rule != nil && *rule == "":
		empty := ""
		byRule = ask(&empty, true)
	case rule == nil:
		return nil
	default:
		byRule = ask(rule, true)
	}
	filter := info.Query[search.FilterQueryParam]
	if filter == "" || len(byRule) == 0 {
		return byRule
	}
	if !info.HasSuperuserAuth() {
		for _, param := range []string{search.FilterQueryParam, search.SortQueryParam} {
			if p := info.Query[param]; strings.Contains(p, "@collection.") || strings.Contains(p, "@request.") {
				return nil
			}
		}
	}
	byFilter := ask(&filter, false)
	out := map[string]bool{}
	for id := range byRule {
		if byFilter[id] {
			out[id] = true
		}
	}
	return out
}

// idsWhere returns the ids of y's candidates matching filter (all of them
// for ""), at most MaxDependents; an error answers none.
func idsWhere(app core.App, y *core.Collection, cand dbx.Expression, info *core.RequestInfo, filter *string, allowHidden bool) map[string]bool {
	viewChecks.Add(1)
	db := app.ConcurrentDB()
	q := db.Select(db.QuoteSimpleColumnName(y.Name) + ".id").From(y.Name).AndWhere(cand).Limit(int64(MaxDependents))
	if *filter != "" {
		resolver := core.NewRecordFieldResolver(app, y, info, allowHidden)
		expr, err := search.FilterData(*filter).BuildExpr(resolver)
		if err != nil {
			return nil
		}
		q.AndWhere(expr)
		if err := resolver.UpdateQuery(q); err != nil {
			return nil
		}
	}
	var ids []string
	if err := q.Column(&ids); err != nil {
		return nil
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// sendDependents sends, after the commit, a delete for each candidate a
// subscription saw before the update and cannot see now.
func sendDependents(app core.App, deps []dependentSub) {
	sets := map[accessKey]map[string]bool{}
	loaded := map[string]*core.Record{}
	for _, d := range deps {
		// the event's broker may hold groups of clients (group.go): look the
		// client up as the event sends to it
		client, err := eventClientByID(app, d.client)
		if err != nil || !client.HasSubscription(d.sub) {
			continue
		}
		auth, _ := client.Get(apis.RealtimeClientAuthKey).(*core.Record)
		now := visibleSet(app, sets, d.coll, d.cand, requestInfo(d.options, auth), d.rule)
		for id, was := range d.seen {
			if !was || now[id] {
				continue
			}
			key := d.coll.Id + "/" + id
			rec, ok := loaded[key]
			if !ok {
				rec, _ = app.FindRecordById(d.coll, id)
				loaded[key] = rec
			}
			if rec == nil {
				continue // deleted meanwhile: its own delete event told them
			}
			if msg, ok := deleteMessage(app, rec, d.viewer); ok {
				sendNow(client, msg)
			}
		}
	}
}

// sendNow queues msg before returning (see dependents' doc): the event's
// client waits for the earlier events' messages, then queues without
// blocking.
func sendNow(c subscriptions.Client, msg subscriptions.Message) { c.Send(msg) }
