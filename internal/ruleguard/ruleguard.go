// Package ruleguard refuses client filters and sorts that could answer
// questions about records the access rules hide.
//
// PocketBase applies a related collection's list rule to every row a filter
// joins, but not inside the "every-match" subquery it builds for a
// multi-valued path (a back-relation such as comments_via_post, a multiple
// relation such as completedLessons, or @collection.*) compared without the
// "?" prefix: `posts_via_topics.body !~ "codename"` on topics asks whether any
// post of the topic — drafts included — contains "codename"
// (core/record_field_resolver.go: "for now the joins are not applied for
// multi-match conditions"). And because the related rule is applied to the
// whole joined row, a filter that a record with no related rows could satisfy
// tells "no related rows" apart from "only rows you may not see".
//
// So, for anyone but a superuser, a condition whose path reaches a collection
// with a non-public list rule through a multi-valued hop must be an any-match
// comparison that an absent row cannot satisfy, and the filter as a whole must
// require it; a sort may not go through such a hop at all. Everything else —
// the record's own fields, single relations (their rules apply at every hop
// and their ids are visible on the record), paths through publicly listable
// collections only (nothing there is hidden) — passes unchanged.
//
// The check reads only the filter text and the collections' current rules, so
// a rule edited in the dashboard takes effect at once and nothing a client
// sends besides the filter and sort can change the outcome.
package ruleguard

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ganigeorgiev/fexpr"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
)

// viaRegex is PocketBase's back-relation pattern (core/record_field_resolver_runner.go).
var viaRegex = regexp.MustCompile(`^(\w+)_via_(\w+)$`)

// maxHops mirrors PocketBase's maxNestedRels: deeper paths fail there anyway.
const maxHops = 6

// Check returns nil when filter and sort may run for auth (nil for a guest)
// on collection c, or a 400 API error whose data names the refused field path
// under "filter" or "sort". Superusers are never refused. A filter or sort that
// does not parse is left to PocketBase, which answers it with its own 400.
func Check(app core.App, c *core.Collection, auth *core.Record, filter, sort string) error {
	if auth != nil && auth.IsSuperuser() {
		return nil
	}
	errs := validation.Errors{}
	if filter != "" {
		if err := CheckFilter(app, c, filter); err != nil {
			errs[search.FilterQueryParam] = err
		}
	}
	if sort != "" {
		if err := CheckSort(app, c, sort); err != nil {
			errs[search.SortQueryParam] = err
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return apis.NewBadRequestError("The filter or sort could reveal records you may not see.", errs)
}

// Refusal codes, stable for clients and tests.
const (
	CodeEveryMatch = "validation_filter_every_match"
	CodeOperand    = "validation_filter_operand"
	CodeOptional   = "validation_filter_optional_relation"
	CodePath       = "validation_filter_path"
	CodeSort       = "validation_sort_path"
)

func refuse(code, path, why string) validation.Error {
	return validation.NewError(code, fmt.Sprintf("%q %s", path, why))
}

// CheckFilter is Check's filter half for a non-superuser.
func CheckFilter(app core.App, c *core.Collection, filter string) error {
	groups, err := fexpr.Parse(filter)
	if err != nil {
		return nil // PocketBase refuses it with its own message
	}
	g := &guard{app: app, base: c}
	tree, err := g.build(groups)
	if err != nil {
		return err
	}
	// the filter must be false whenever a guarded hop has no visible row,
	// so that "none" and "only hidden ones" answer alike
	for _, key := range g.keys {
		if !tree.requires(key) {
			return refuse(CodeOptional, g.keyPath[key],
				"is reached through a relation that may hold records you cannot see: the filter must require a match there (join the condition with &&, not ||).")
		}
	}
	return nil
}

// CheckSort is Check's sort half for a non-superuser.
func CheckSort(app core.App, c *core.Collection, sort string) error {
	g := &guard{app: app, base: c}
	for _, f := range search.ParseSortFromString(sort) {
		name := f.Name
		if name == "" || strings.HasPrefix(name, "@random") || strings.HasPrefix(name, "@rowid") {
			continue
		}
		p, err := g.resolve(name)
		if err != nil {
			return err
		}
		if p.guardKey != "" {
			return refuse(CodeSort, name,
				"is reached through a relation that may hold records you cannot see and cannot be sorted by.")
		}
	}
	return nil
}

// ---

// node is a filter as a boolean tree with SQL's precedence (AND over OR),
// which is how PocketBase concatenates a group's conditions.
type node struct {
	op       string // "and", "or" or "" for a leaf
	children []*node
	keys     map[string]bool // leaf: the guarded hops it requires a visible row of
}

// requires reports whether the tree is false whenever hop key has no row.
func (n *node) requires(key string) bool {
	switch n.op {
	case "and":
		for _, c := range n.children {
			if c.requires(key) {
				return true
			}
		}
		return false
	case "or":
		for _, c := range n.children {
			if !c.requires(key) {
				return false
			}
		}
		return len(n.children) > 0
	}
	return n.keys[key]
}

type guard struct {
	app     core.App
	base    *core.Collection
	keys    []string          // guarded hops met, in order
	keyPath map[string]string // hop -> a client path through it (for messages)
}

func (g *guard) build(groups []fexpr.ExprGroup) (*node, error) {
	or := &node{op: "or"}
	and := &node{op: "and"}
	for i, grp := range groups {
		if i > 0 && grp.Join == fexpr.JoinOr {
			or.children = append(or.children, and)
			and = &node{op: "and"}
		}
		var child *node
		var err error
		switch item := grp.Item.(type) {
		case fexpr.Expr:
			child, err = g.leaf(item)
		case fexpr.ExprGroup:
			child, err = g.build([]fexpr.ExprGroup{item})
		case []fexpr.ExprGroup:
			child, err = g.build(item)
		default:
			return nil, refuse(CodePath, fmt.Sprint(item), "is not a supported expression.")
		}
		if err != nil {
			return nil, err
		}
		and.children = append(and.children, child)
	}
	or.children = append(or.children, and)
	return or, nil
}

// positiveAnyMatch are the any-match operators that a missing row (NULL)
// cannot satisfy against a non-empty literal. "?!=" is not among them: SQL's
// `NULL IS NOT 'x'` is true.
var positiveAnyMatch = map[fexpr.SignOp]bool{
	fexpr.SignAnyEq: true, fexpr.SignAnyLike: true, fexpr.SignAnyNlike: true,
	fexpr.SignAnyLt: true, fexpr.SignAnyLte: true, fexpr.SignAnyGt: true, fexpr.SignAnyGte: true,
}

func (g *guard) leaf(e fexpr.Expr) (*node, error) {
	left, err := g.operand(e.Left)
	if err != nil {
		return nil, err
	}
	right, err := g.operand(e.Right)
	if err != nil {
		return nil, err
	}
	guarded, other := left, right
	if len(left.guardKeys) == 0 {
		guarded, other = right, left
	}
	n := &node{keys: map[string]bool{}}
	if len(guarded.guardKeys) == 0 {
		return n, nil
	}
	path := guarded.paths[0]
	if len(other.guardKeys) > 0 {
		return nil, refuse(CodeOperand, path, "must be compared with a literal value, not with another relation path.")
	}
	if !positiveAnyMatch[e.Op] {
		if strings.HasPrefix(string(e.Op), "?") {
			return nil, refuse(CodeEveryMatch, path,
				"may hold records you cannot see: ?!= also matches records with none; use ?=, ?~, ?!~, ?<, ?<=, ?> or ?>=.")
		}
		return nil, refuse(CodeEveryMatch, path,
			fmt.Sprintf("may hold records you cannot see: compare it with the any-match operator ?%s (every-match operators look at all of them).", strings.TrimPrefix(string(e.Op), "?")))
	}
	if !other.literal {
		return nil, refuse(CodeOperand, path, "must be compared with a non-empty literal value.")
	}
	for _, k := range guarded.guardKeys {
		n.keys[k] = true
	}
	return n, nil
}

// operand is what the guard knows of one side of a comparison.
type operand struct {
	literal   bool     // a non-empty text, a number, true/false or a date macro
	guardKeys []string // guarded hops the operand's paths go through
	paths     []string // the client paths, for messages
}

func (g *guard) operand(t fexpr.Token) (operand, error) {
	switch t.Type {
	case fexpr.TokenText:
		return operand{literal: t.Literal != ""}, nil
	case fexpr.TokenNumber:
		return operand{literal: true}, nil
	case fexpr.TokenFunction:
		// a function's arguments may be paths (geoDistance(a.lon, ...))
		var o operand
		args, _ := t.Meta.([]fexpr.Token)
		for _, a := range args {
			ao, err := g.operand(a)
			if err != nil {
				return o, err
			}
			o.guardKeys = append(o.guardKeys, ao.guardKeys...)
			o.paths = append(o.paths, ao.paths...)
		}
		return o, nil
	case fexpr.TokenIdentifier:
		switch strings.ToLower(t.Literal) {
		case "true", "false":
			if g.base.Fields.GetByName(t.Literal) == nil {
				return operand{literal: true}, nil
			}
		case "null":
			if g.base.Fields.GetByName(t.Literal) == nil {
				return operand{}, nil
			}
		}
		p, err := g.resolve(t.Literal)
		if err != nil {
			return operand{}, err
		}
		if p.macro {
			return operand{literal: true}, nil
		}
		if p.guardKey == "" {
			return operand{}, nil
		}
		return operand{guardKeys: p.guardKeys, paths: []string{t.Literal}}, nil
	}
	return operand{}, nil
}

// path is what the guard knows of one identifier.
type path struct {
	macro     bool     // @now and friends: a constant
	guardKey  string   // the first guarded hop ("" when none)
	guardKeys []string // every guarded hop the path goes through
}

// resolve walks an identifier over the schema the way PocketBase's field
// resolver does, noting each multi-valued hop into a collection whose list
// rule is not public.
func (g *guard) resolve(ident string) (path, error) {
	var p path
	props := strings.Split(ident, ".")
	coll := g.base
	prefix := ""
	// once a path is multi-valued PocketBase checks every-match conditions
	// in one subquery over all of its later hops, single ones included
	multi := false
	// ":each" and ":length" make even single hops multi-valued
	if _, mod, ok := strings.Cut(props[len(props)-1], ":"); ok && (mod == "each" || mod == "length") {
		multi = true
	}

	switch {
	case strings.HasPrefix(ident, "@request."):
		// the caller's own values; a relation followed from them (4+ parts
		// from auth or body) joins other collections: not for clients
		if (props[1] == "auth" || props[1] == "body") && len(props) > 3 {
			return p, refuse(CodePath, ident, "follows a relation from the request, which filters and sorts may not do.")
		}
		return p, nil
	case strings.HasPrefix(ident, "@collection."):
		if len(props) < 3 {
			return p, nil // PocketBase refuses it
		}
		name, _, _ := strings.Cut(props[1], ":")
		target, err := g.app.FindCachedCollectionByNameOrId(name)
		if err != nil {
			return p, nil // PocketBase refuses it
		}
		prefix = "@collection." + props[1]
		multi = true
		g.hop(&p, target, prefix, ident)
		coll = target
		props = props[2:]
	case strings.HasPrefix(ident, "@"):
		p.macro = true
		return p, nil
	}

	for i, prop := range props {
		if i == len(props)-1 {
			break // the compared field itself
		}
		if i >= maxHops {
			return p, refuse(CodePath, ident, "goes through too many relations.")
		}
		if prefix != "" {
			prefix += "."
		}
		prefix += prop

		field := coll.Fields.GetByName(prop)
		if field == nil {
			// a back-relation: <collection>_via_<field>, split as PocketBase does
			parts := viaRegex.FindStringSubmatch(prop)
			if len(parts) != 3 {
				return p, refuse(CodePath, ident, "is not a relation path of "+coll.Name+".")
			}
			name, via := parts[1], parts[2]
			target, err := g.app.FindCachedCollectionByNameOrId(name)
			if err != nil || target.Fields.GetByName(via) == nil {
				return p, refuse(CodePath, ident, "is not a relation path of "+coll.Name+".")
			}
			multi = true
			g.hop(&p, target, prefix, ident)
			coll = target
			continue
		}
		switch f := field.(type) {
		case *core.JSONField, *core.GeoPointField:
			return p, nil // the rest is a JSON path inside this record
		case *core.RelationField:
			// "rel.id" of a single relation reads the record's own column
			if !f.IsMultiple() && i == len(props)-2 && props[i+1] == core.FieldNameId {
				return p, nil
			}
			target, err := g.app.FindCachedCollectionByNameOrId(f.CollectionId)
			if err != nil {
				return p, refuse(CodePath, ident, "is not a relation path of "+coll.Name+".")
			}
			if f.IsMultiple() {
				multi = true
			}
			if multi {
				g.hop(&p, target, prefix, ident)
			}
			coll = target
		default:
			return p, refuse(CodePath, ident, "is not a relation path of "+coll.Name+".")
		}
	}
	return p, nil
}

// hop records a multi-valued hop into target when target hides records.
func (g *guard) hop(p *path, target *core.Collection, key, ident string) {
	if target.ListRule != nil && *target.ListRule == "" {
		return // publicly listable: nothing there is hidden
	}
	if p.guardKey == "" {
		p.guardKey = key
	}
	p.guardKeys = append(p.guardKeys, key)
	if g.keyPath == nil {
		g.keyPath = map[string]string{}
	}
	if _, seen := g.keyPath[key]; !seen {
		g.keyPath[key] = ident
		g.keys = append(g.keys, key)
	}
}
