package authrules

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/ganigeorgiev/fexpr"
	"github.com/pocketbase/pocketbase/core"
)

// ---
// Partial evaluation of a rule against the caller's auth record.
//
// PocketBase resolves @request.auth.<field> to a constant only for id,
// collectionId, collectionName, email, emailVisibility and verified
// (core/record_field_resolver_runner.go plainRequestAuthFields); any other
// field, `role` for one, joins the auth collection to the query. Any join
// makes the list query SELECT DISTINCT and COUNT(DISTINCT …) over every
// matching row before the LIMIT, so a signed-in page costs more the bigger
// the table. A comparison of such a field with a quoted text is decided by
// the caller's own record alone, so it can be written as that comparison
// between two texts, which PocketBase resolves without a join.

// authField matches the identifiers that may be replaced: one field of the
// auth record, without a modifier (":lower", ":isset"…) and without a
// relation path behind it (those keep PocketBase's join).
var authField = regexp.MustCompile(`^@request\.auth\.(\w+)$`)

// plainFields are the auth fields PocketBase already resolves to constants;
// they are left alone.
var plainFields = map[string]bool{
	core.FieldNameId: true, core.FieldNameCollectionId: true, core.FieldNameCollectionName: true,
	core.FieldNameEmail: true, core.FieldNameEmailVisibility: true, core.FieldNameVerified: true,
}

// textOps are the operators whose answer, for a single stored text against
// a quoted text, is plain string (in)equality in both SQLite (BINARY
// collation, PocketBase's NULL-or-empty normalization) and here.
var textOps = map[fexpr.SignOp]bool{
	fexpr.SignEq: true, fexpr.SignNeq: true, fexpr.SignAnyEq: true, fexpr.SignAnyNeq: true,
}

// eligible reports whether the auth collection's field holds one text value
// whose comparison with a quoted text does not depend on the SQL storage:
// text, email, URL, a single select or a single relation (an id). Anything
// else (numbers, bools, JSON, multiple values, files, dates) keeps the join.
func eligible(f core.Field) bool {
	switch f := f.(type) {
	case *core.TextField, *core.EmailField, *core.URLField:
		return true
	case *core.SelectField:
		return !f.IsMultiple()
	case *core.RelationField:
		return !f.IsMultiple()
	}
	return false
}

// parsed is a rule's syntax tree and the auth fields it compares with a
// quoted text (the candidates for replacement).
type parsed struct {
	groups []fexpr.ExprGroup
	fields []string // sorted, unique
	err    error
}

// cache holds parsed rules and specialized rules. Both are bounded: the
// parsed map by the number of distinct rules, the specialized one by rule ×
// the distinct values of the replaced fields (a role: a handful), emptied
// when full.
type cache struct {
	mu          sync.Mutex
	parsed      map[string]*parsed
	specialized map[string]string
}

const cacheLimit = 4096

var rules = &cache{parsed: map[string]*parsed{}, specialized: map[string]string{}}

func (c *cache) parse(rule string) *parsed {
	c.mu.Lock()
	p, ok := c.parsed[rule]
	c.mu.Unlock()
	if ok {
		return p
	}
	p = &parsed{}
	p.groups, p.err = fexpr.Parse(rule)
	if p.err == nil {
		seen := map[string]bool{}
		walk(p.groups, func(e *fexpr.Expr) {
			for _, side := range []struct{ id, other fexpr.Token }{{e.Left, e.Right}, {e.Right, e.Left}} {
				if name, ok := candidate(side.id, e.Op, side.other); ok && !seen[name] {
					seen[name] = true
					p.fields = append(p.fields, name)
				}
			}
		})
	}
	c.mu.Lock()
	if len(c.parsed) >= cacheLimit {
		clear(c.parsed)
	}
	c.parsed[rule] = p
	c.mu.Unlock()
	return p
}

// candidate reports the auth field name when tok, compared by op with other,
// may be replaced by the field's value.
func candidate(tok fexpr.Token, op fexpr.SignOp, other fexpr.Token) (string, bool) {
	if tok.Type != fexpr.TokenIdentifier || other.Type != fexpr.TokenText || !textOps[op] {
		return "", false
	}
	m := authField.FindStringSubmatch(tok.Literal)
	if m == nil || plainFields[m[1]] {
		return "", false
	}
	return m[1], true
}

// walk calls fn with every comparison of the tree, in place.
func walk(groups []fexpr.ExprGroup, fn func(*fexpr.Expr)) {
	for i := range groups {
		switch item := groups[i].Item.(type) {
		case fexpr.Expr:
			fn(&item)
			groups[i].Item = item
		case []fexpr.ExprGroup:
			walk(item, fn)
		case fexpr.ExprGroup:
			one := []fexpr.ExprGroup{item}
			walk(one, fn)
			groups[i].Item = one[0]
		}
	}
}

// clone copies a syntax tree deeply enough for walk to rewrite it.
func clone(groups []fexpr.ExprGroup) []fexpr.ExprGroup {
	out := make([]fexpr.ExprGroup, len(groups))
	for i, g := range groups {
		out[i] = g
		switch item := g.Item.(type) {
		case []fexpr.ExprGroup:
			out[i].Item = clone(item)
		case fexpr.ExprGroup:
			out[i].Item = clone([]fexpr.ExprGroup{item})[0]
		}
	}
	return out
}

// Specialize returns rule with every comparison of an eligible
// @request.auth.<field> with a quoted text replaced by the same comparison
// of auth's current value, and whether it changed anything. auth must be the
// record the rule will be evaluated for (a users record, not a superuser);
// with nil or on any doubt the rule is returned unchanged, which PocketBase
// then evaluates as it always does.
func Specialize(rule string, auth *core.Record) (string, bool) {
	if auth == nil || auth.Collection() == nil || auth.IsSuperuser() || rule == "" {
		return rule, false
	}
	p := rules.parse(rule)
	if p.err != nil || len(p.fields) == 0 {
		return rule, false
	}
	col := auth.Collection()
	values := map[string]string{}
	// the key holds every input of the answer: the rule, the auth
	// collection, and per field its type and the caller's current value
	// (JSON-quoted, so no value can forge a separator)
	var key strings.Builder
	key.WriteString(rule)
	key.WriteString("\x00")
	key.WriteString(col.Id)
	for _, name := range p.fields {
		f := col.Fields.GetByName(name)
		if f == nil || !eligible(f) {
			continue // PocketBase resolves it (NULL for an unknown field)
		}
		v := auth.GetString(name)
		values[name] = v
		q, _ := json.Marshal(v)
		key.WriteString("\x00")
		key.WriteString(name)
		key.WriteString(":")
		key.WriteString(f.Type())
		key.WriteString("=")
		if staleMutation {
			// the mutation test's broken cache: keyed by who, not by what
			// the rule reads of them
			key.WriteString(auth.Id)
		} else {
			key.Write(q)
		}
	}
	if len(values) == 0 {
		return rule, false
	}
	k := key.String()
	rules.mu.Lock()
	out, ok := rules.specialized[k]
	rules.mu.Unlock()
	if ok {
		return out, out != rule
	}

	tree := clone(p.groups)
	walk(tree, func(e *fexpr.Expr) {
		// decided on the comparison as written, before either side changes
		left, lok := candidate(e.Left, e.Op, e.Right)
		right, rok := candidate(e.Right, e.Op, e.Left)
		if v, ok := values[left]; lok && ok {
			e.Left = fexpr.Token{Type: fexpr.TokenText, Literal: v}
		}
		if v, ok := values[right]; rok && ok {
			e.Right = fexpr.Token{Type: fexpr.TokenText, Literal: v}
		}
	})
	out = rule
	if printed, ok := print(tree); ok {
		// the printed rule must parse back to exactly the rewritten tree
		// (a value no quoting survives — a NUL byte, invalid UTF-8 —
		// keeps the original rule)
		if back, err := fexpr.Parse(printed); err == nil && reflect.DeepEqual(back, tree) {
			out = printed
		}
	}
	rules.mu.Lock()
	if len(rules.specialized) >= cacheLimit {
		clear(rules.specialized)
	}
	rules.specialized[k] = out
	rules.mu.Unlock()
	return out, out != rule
}

// staleMutation is set only by the mutation test (see SetStaleMutation).
var staleMutation bool

// ---

// print writes a syntax tree back as a filter expression that fexpr parses
// to the same tree; ok is false for a node it does not know.
func print(groups []fexpr.ExprGroup) (string, bool) {
	var b strings.Builder
	ok := printGroups(&b, groups)
	return b.String(), ok
}

func printGroups(b *strings.Builder, groups []fexpr.ExprGroup) bool {
	for i, g := range groups {
		if i > 0 {
			switch g.Join {
			case fexpr.JoinAnd:
				b.WriteString(" && ")
			case fexpr.JoinOr:
				b.WriteString(" || ")
			default:
				return false
			}
		}
		switch item := g.Item.(type) {
		case fexpr.Expr:
			if !printToken(b, item.Left) {
				return false
			}
			b.WriteString(" ")
			b.WriteString(string(item.Op))
			b.WriteString(" ")
			if !printToken(b, item.Right) {
				return false
			}
		case []fexpr.ExprGroup:
			b.WriteString("(")
			if !printGroups(b, item) {
				return false
			}
			b.WriteString(")")
		case fexpr.ExprGroup:
			b.WriteString("(")
			if !printGroups(b, []fexpr.ExprGroup{item}) {
				return false
			}
			b.WriteString(")")
		default:
			return false
		}
	}
	return true
}

func printToken(b *strings.Builder, t fexpr.Token) bool {
	switch t.Type {
	case fexpr.TokenIdentifier, fexpr.TokenNumber:
		b.WriteString(t.Literal)
	case fexpr.TokenText:
		quote(b, t.Literal)
	case fexpr.TokenFunction:
		b.WriteString(t.Literal)
		b.WriteString("(")
		args, _ := t.Meta.([]fexpr.Token)
		for i, a := range args {
			if i > 0 {
				b.WriteString(", ")
			}
			if !printToken(b, a) {
				return false
			}
		}
		b.WriteString(")")
	default:
		return false
	}
	return true
}

// quote writes s as fexpr's double-quoted text: a backslash escapes the
// next character, so only the backslash and the quote need one.
func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		if r == '\\' || r == '"' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}
