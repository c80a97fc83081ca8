package authrules

import (
	"database/sql"
	"errors"
	"reflect"
	"strings"

	"github.com/ganigeorgiev/fexpr"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
)

// ---
// Pinned rows: the parts of a list rule that one filtered page decides once.
//
// A course's lessons page asks `lessons?filter=course="X"`. PocketBase
// answers it with `WHERE course = 'X' AND (rule)`, where the lessons rule
// reads `course.status`, `course.instructor` and the caller's enrollments:
// every lesson row of X is joined to course X and to each of the caller's
// enrollments (30 for a student of 30 courses), and the joins make
// PocketBase SELECT DISTINCT and COUNT(DISTINCT …) over all of it, bodies
// included. Yet on that page every row has course = 'X': whatever the rule
// reads only through `course` (and of the request) is the same for every row
// the filter lets through. Such a part is asked once, by one query that runs
// PocketBase's own compilation of it on the rows of X (as CanAccessRecord
// asks a rule of one record), and the list rule given to PocketBase for this
// request has the part replaced by its answer, `1 = 1` or `1 = 0`. What is
// left reads only the lesson's own columns: no join, no DISTINCT.
//
// Why the answers are the same (the tests compare them byte for byte):
//   - The filter F and the rule R are ANDed (apis.recordsList), so a row is
//     listed iff F(row) ∧ R(row). Only a top-level conjunct of F pins, and
//     only a single relation field to a non-empty quoted id: every row F lets
//     through holds exactly that id in that column.
//   - A part G is replaced only when every identifier in it reads the pinned
//     field, paths through it, or the request: G then has one value over all
//     those rows, and the check query asks exactly it (none of those rows:
//     the page is empty whatever G is).
//   - Rules have no negation, so a part whose SQL is NULL for a row counts as
//     false, as the WHERE treats it. A rule is evaluated over the product of
//     its joins (a row is listed if some combination holds), so G may use a
//     join that yields several rows (a back-relation, @collection, a multiple
//     relation) only if nothing outside G uses it: then "some combination"
//     splits into "G for some row of its joins" and the rest. A join that
//     yields at most one row (a chain of single relations, the caller's own
//     record) may be shared.
//   - Identifiers this does not model (a modifier or alias with ":",
//     functions, @-macros such as @now, deep @request paths) keep the whole
//     rule as PocketBase builds it; so does a join that would stay after the
//     rewrite (the DISTINCT would stay, and the extra queries would not pay).
//
// The check queries run right before the page's own query, not in the same
// read transaction: like the caller's role (specialize.go), what the rule
// reads of the caller and of the pinned record is read at the start of the
// request, and a change applies from the next one.

// pin is one top-level conjunct `field = "value"` of a client filter, on a
// single relation field of the listed collection.
type pin struct{ field, value string }

// pinsOf returns the pins of filter on collection c (the first per field).
func pinsOf(filter string, c *core.Collection) []pin {
	if filter == "" {
		return nil
	}
	groups, err := fexpr.Parse(filter)
	if err != nil {
		return nil
	}
	var out []pin
	var conjuncts func(gs []fexpr.ExprGroup)
	conjuncts = func(gs []fexpr.ExprGroup) {
		for i, g := range gs {
			// only an AND of every item makes each item a conjunct, whatever
			// the precedence between && and ||
			if i > 0 && g.Join != fexpr.JoinAnd && !pinOrMutation {
				return
			}
		}
		for _, g := range gs {
			switch item := g.Item.(type) {
			case fexpr.Expr:
				if p, ok := pinOf(item, c); ok && !hasPin(out, p.field) {
					out = append(out, p)
				}
			case []fexpr.ExprGroup:
				conjuncts(item)
			case fexpr.ExprGroup:
				conjuncts([]fexpr.ExprGroup{item})
			}
		}
	}
	conjuncts(groups)
	return out
}

func pinOf(e fexpr.Expr, c *core.Collection) (pin, bool) {
	if e.Op != fexpr.SignEq {
		return pin{}, false
	}
	id, text := e.Left, e.Right
	if id.Type != fexpr.TokenIdentifier {
		id, text = text, id
	}
	if id.Type != fexpr.TokenIdentifier || text.Type != fexpr.TokenText || text.Literal == "" {
		return pin{}, false
	}
	f, ok := c.Fields.GetByName(id.Literal).(*core.RelationField)
	if !ok || f.IsMultiple() || f.Name != id.Literal {
		return pin{}, false
	}
	return pin{f.Name, text.Literal}, true
}

func hasPin(pins []pin, field string) bool {
	for _, p := range pins {
		if p.field == field {
			return true
		}
	}
	return false
}

// node is a rule's syntax tree as the rewrite walks it: a comparison (leaf)
// or a parenthesized list of items joined by && and ||.
type node struct {
	join   fexpr.JoinOp
	leaf   *fexpr.Expr
	kids   []*node
	parent *node
	depth  int
	// value is the answer of the check query once asked: 1 true, -1 false
	value int8
	// idents are the identifiers of the subtree
	idents []string
}

func tree(groups []fexpr.ExprGroup, parent *node) []*node {
	out := make([]*node, 0, len(groups))
	for _, g := range groups {
		n := &node{join: g.Join, parent: parent}
		if parent != nil {
			n.depth = parent.depth + 1
		}
		switch item := g.Item.(type) {
		case fexpr.Expr:
			e := item
			n.leaf = &e
			for _, t := range []fexpr.Token{e.Left, e.Right} {
				if t.Type == fexpr.TokenIdentifier {
					n.idents = append(n.idents, t.Literal)
				}
			}
		case []fexpr.ExprGroup:
			n.kids = tree(item, n)
		case fexpr.ExprGroup:
			n.kids = tree([]fexpr.ExprGroup{item}, n)
		}
		for _, k := range n.kids {
			n.idents = append(n.idents, k.idents...)
		}
		out = append(out, n)
	}
	return out
}

// fold is the subtree's value from the answers so far: 1, -1, or 0 (it still
// depends on the row). A list is read as SQL reads PocketBase's
// concatenation of it: && binds tighter than ||.
func fold(n *node) int8 {
	if n.value != 0 || n.leaf != nil {
		return n.value
	}
	return foldList(n.kids)
}

func foldList(kids []*node) int8 {
	result := int8(-1) // the OR of the runs so far
	run := int8(1)     // the AND of the current run
	for i, k := range kids {
		if i > 0 && k.join == fexpr.JoinOr {
			result = or3(result, run)
			run = 1
		}
		run = and3(run, fold(k))
	}
	return or3(result, run)
}

func and3(a, b int8) int8 {
	if a == -1 || b == -1 {
		return -1
	}
	if a == 1 && b == 1 {
		return 1
	}
	return 0
}

func or3(a, b int8) int8 {
	if a == 1 || b == 1 {
		return 1
	}
	if a == -1 && b == -1 {
		return -1
	}
	return 0
}

// ident is what the rewrite needs to know of one identifier.
type ident struct {
	rowDependent bool     // reads a column of the listed row other than a pinned field
	joins        []string // the join paths PocketBase makes for it
	unknown      bool     // not modelled: keep the rule as it is
}

// analysis classifies the identifiers of one rule for one request.
type analysis struct {
	app    core.App
	col    *core.Collection
	auth   *core.Record
	pinned map[string]bool
	single map[string]bool // join path → yields at most one row
	ids    map[string]ident
}

func (an *analysis) classify(lit string) ident {
	if id, ok := an.ids[lit]; ok {
		return id
	}
	id := an.classify1(lit)
	an.ids[lit] = id
	return id
}

func (an *analysis) classify1(lit string) ident {
	if strings.Contains(lit, ":") {
		return ident{unknown: true}
	}
	switch strings.ToLower(lit) {
	case "null", "true", "false":
		return ident{}
	}
	segs := strings.Split(lit, ".")
	switch {
	case strings.HasPrefix(lit, "@request.auth."):
		rest := segs[2:]
		if len(rest) == 1 && plainFields[rest[0]] {
			return ident{} // a constant of the request
		}
		id := ident{joins: []string{"@request.auth"}}
		an.single["@request.auth"] = true // the caller's own record
		an.paths(&id, "@request.auth", an.auth.Collection(), rest)
		return id
	case strings.HasPrefix(lit, "@request."):
		if len(segs) > 3 {
			return ident{unknown: true}
		}
		return ident{} // query, headers, body, method: constants of the request
	case strings.HasPrefix(lit, "@collection."):
		if len(segs) < 3 {
			return ident{unknown: true}
		}
		root := "@collection." + segs[1]
		id := ident{joins: []string{root}}
		an.single[root] = false // every row of that collection
		an.paths(&id, root, nil, segs[2:])
		return id
	case strings.HasPrefix(lit, "@"):
		return ident{unknown: true} // @now and the other macros
	}
	id := ident{rowDependent: !an.pinned[segs[0]]}
	an.paths(&id, "", an.col, segs)
	return id
}

// paths adds the join paths of the segments after root (all but the last
// segment, a field of the last joined collection) and records whether each
// yields at most one row: only a chain of single relations does.
func (an *analysis) paths(id *ident, root string, c *core.Collection, segs []string) {
	prefix := root
	for i := 0; i < len(segs)-1; i++ {
		if prefix != "" {
			prefix += "."
		}
		prefix += segs[i]
		id.joins = append(id.joins, prefix)
		one := false
		if c != nil && !strings.Contains(segs[i], "_via_") {
			if f, ok := c.Fields.GetByName(segs[i]).(*core.RelationField); ok && !f.IsMultiple() {
				one = true
				c, _ = an.app.FindCachedCollectionByNameOrId(f.CollectionId)
			}
		}
		if !one {
			c = nil // nothing after a multi-row step is single either
		}
		if prev, seen := an.single[prefix]; !seen || prev {
			an.single[prefix] = one
		}
	}
}

// pinRule returns rule rewritten for the rows pins select (see above), and
// whether it changed. It asks the database one query per part it decides,
// through app (the real one) with the request's info.
func pinRule(app core.App, store *answers, col *core.Collection, info *core.RequestInfo, rule string, pins []pin) (string, bool) {
	if len(pins) == 0 || rule == "" || info == nil || info.Auth == nil {
		return rule, false
	}
	p := rules.parse(rule)
	if p.err != nil {
		return rule, false
	}
	an := &analysis{app: app, col: col, auth: info.Auth, pinned: map[string]bool{}, single: map[string]bool{}, ids: map[string]ident{}}
	for _, pn := range pins {
		an.pinned[pn.field] = true
	}
	root := &node{kids: tree(p.groups, nil), depth: -1}
	for _, k := range root.kids {
		root.idents = append(root.idents, k.idents...)
	}
	// how often each join path is used in the whole rule
	uses := map[string]int{}
	for _, lit := range root.idents {
		id := an.classify(lit)
		if id.unknown {
			return rule, false
		}
		for _, j := range id.joins {
			uses[j]++
		}
	}
	if len(uses) == 0 {
		return rule, false // no join: nothing to save
	}
	if hasFunction(root) {
		return rule, false
	}

	var parts []*node
	missed := false // a join outside every decidable part would stay
	var find func(n *node)
	find = func(n *node) {
		if an.decidable(n, uses) {
			parts = append(parts, n)
			return
		}
		if n.leaf != nil {
			for _, lit := range n.idents {
				if len(an.classify(lit).joins) > 0 {
					missed = true
				}
			}
			return
		}
		for _, k := range n.kids {
			find(k)
		}
	}
	find(root)
	if missed || len(parts) == 0 {
		return rule, false
	}
	// shallow parts first: one of them may decide the whole rule
	sortByDepth(parts)
	for _, n := range parts {
		if fold(root) != 0 {
			break
		}
		if decided(n) {
			continue
		}
		ok, err := ask(app, store, col, info, pins, n)
		if err != nil {
			return rule, false
		}
		n.value = -1
		if ok {
			n.value = 1
		}
	}

	var out []fexpr.ExprGroup
	if v := fold(root); v != 0 {
		out = []fexpr.ExprGroup{{Join: fexpr.JoinAnd, Item: constExpr(v)}}
	} else {
		out = groupsOf(root.kids)
	}
	printed, ok := print(out)
	if !ok {
		return rule, false
	}
	if back, err := fexpr.Parse(printed); err != nil || !reflect.DeepEqual(back, out) {
		return rule, false
	}
	return printed, printed != rule
}

// decidable reports whether n is a part the check query may decide: it
// reads joins, and nothing of the row but pinned fields, and the
// multi-row joins it uses are used nowhere else in the rule.
func (an *analysis) decidable(n *node, uses map[string]int) bool {
	own := map[string]int{}
	joins := false
	for _, lit := range n.idents {
		id := an.classify(lit)
		if id.rowDependent {
			return false
		}
		for _, j := range id.joins {
			own[j]++
			joins = true
		}
	}
	if !joins {
		return false
	}
	for j, k := range own {
		if k < uses[j] && !an.single[j] {
			return false
		}
	}
	return true
}

func hasFunction(n *node) bool {
	if n.leaf != nil {
		return n.leaf.Left.Type == fexpr.TokenFunction || n.leaf.Right.Type == fexpr.TokenFunction
	}
	for _, k := range n.kids {
		if hasFunction(k) {
			return true
		}
	}
	return false
}

// decided reports whether n or an ancestor already has a value.
func decided(n *node) bool {
	for ; n != nil; n = n.parent {
		if fold(n) != 0 {
			return true
		}
	}
	return false
}

func sortByDepth(ns []*node) {
	// stable insertion sort: a handful of parts, order of appearance kept
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && ns[j].depth < ns[j-1].depth; j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}

// constExpr is a comparison PocketBase compiles to two bound numbers.
func constExpr(v int8) fexpr.Expr {
	right := "0"
	if v == 1 {
		right = "1"
	}
	return fexpr.Expr{Left: fexpr.Token{Type: fexpr.TokenNumber, Literal: "1"}, Op: fexpr.SignEq, Right: fexpr.Token{Type: fexpr.TokenNumber, Literal: right}}
}

// groupsOf turns the nodes back into fexpr's tree, each decided part as its
// constant.
func groupsOf(ns []*node) []fexpr.ExprGroup {
	out := make([]fexpr.ExprGroup, len(ns))
	for i, n := range ns {
		out[i].Join = n.join
		switch {
		case n.value != 0:
			out[i].Item = constExpr(n.value)
		case n.leaf != nil:
			out[i].Item = *n.leaf
		default:
			out[i].Item = groupsOf(n.kids)
		}
	}
	return out
}

// ask answers part n of the rule on the pinned rows: from the store when a
// check of the same question has run since the last write, else by holds.
func ask(app core.App, store *answers, col *core.Collection, info *core.RequestInfo, pins []pin, n *node) (bool, error) {
	text, ok := print(groupsOf([]*node{{join: fexpr.JoinAnd, leaf: n.leaf, kids: n.kids}}))
	if !ok {
		return false, errors.New("authrules: unprintable part")
	}
	gen, keep := store.generation() // before the query: see answers.go
	var key string
	if keep {
		key, keep = answerKey(col, info, pins, text, n.idents)
	}
	if keep {
		if v, ok := store.get(gen, key); ok {
			return v, nil
		}
	}
	v, err := holds(app, col, info, pins, text)
	if err == nil && keep {
		store.put(gen, key, v)
	}
	return v, err
}

// holds asks part (a rule's text) on the pinned rows, with PocketBase's own
// compilation of it, as core.CanAccessRecord asks a rule of one record: true
// when some row of the pinned ones (with some row of the part's joins)
// satisfies it.
func holds(app core.App, col *core.Collection, info *core.RequestInfo, pins []pin, part string) (bool, error) {
	q := app.RecordQuery(col).Select("(1)")
	for _, p := range pins {
		q.AndWhere(dbx.HashExp{col.Name + "." + p.field: p.value})
	}
	resolver := core.NewRecordFieldResolver(app, col, info, true)
	expr, err := search.FilterData(part).BuildExpr(resolver)
	if err != nil {
		return false, err
	}
	if err := resolver.UpdateQuery(q); err != nil {
		return false, err
	}
	var one int
	err = q.AndWhere(expr).Limit(1).Row(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return one > 0, err
}

// pinOrMutation is set only by the mutation test (SetPinOrMutation): it
// takes a conjunct of an OR for a pin, which reads one filtered course's
// answer for another's rows.
var pinOrMutation bool
