package graphql

import (
	"fmt"
	"strings"

	"github.com/graphql-go/graphql/language/ast"
	"github.com/pocketbase/pocketbase/tools/search"

	"lectern/hooks"
)

// The limits every query is measured against after validation and before any
// database work. Introspection fields (__schema, __type, __typename) touch no
// records and count for neither.
const (
	// MaxDepth is the deepest chain of fields allowed: posts → items → author
	// → name is depth 4.
	MaxDepth = 8
	// MaxCost bounds the records one query may load. A list field costs its
	// perPage (default 30, at most 200) times the records it is nested under, a
	// single relation 1 per parent, a multiple relation its maxSelect (at most
	// 100) per parent, a root singular field 1; each root field adds
	// rootFieldCost for the queries it runs on its own.
	MaxCost = 10000
	// rootFieldCost is what a root field adds on top of its records: root
	// fields are not batched with each other.
	rootFieldCost = 10
	// maxRelMany is the cost of a multiple relation without a maxSelect.
	maxRelMany = 100
	// maxQueryBytes and maxBraces bound the work of parsing and validating.
	maxQueryBytes = 32 << 10
	maxBraces     = 32
	maxFields     = 1000
)

// precheck refuses, before parsing, a query whose text alone would make the
// parser or validator work hard.
func precheck(q string) error {
	if len(q) > maxQueryBytes {
		return fmt.Errorf("The query is longer than %d bytes.", maxQueryBytes)
	}
	depth, inString := 0, false
	for i := 0; i < len(q); i++ {
		switch ch := q[i]; {
		case inString && ch == '\\':
			i++
		case ch == '"':
			inString = !inString
		case inString:
		case ch == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case ch == '{' || ch == '[':
			if depth++; depth > maxBraces {
				return fmt.Errorf("The query nests braces or brackets deeper than %d.", maxBraces)
			}
		case ch == '}' || ch == ']':
			depth--
		}
	}
	return nil
}

// countFields refuses a document with more fields than maxFields before it
// is validated: the overlapping-fields rule compares fields pairwise.
func countFields(doc *ast.Document) error {
	n := 0
	var walk func(set *ast.SelectionSet)
	walk = func(set *ast.SelectionSet) {
		if set == nil {
			return
		}
		for _, sel := range set.Selections {
			n++
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.OperationDefinition:
			walk(d.SelectionSet)
		case *ast.FragmentDefinition:
			walk(d.SelectionSet)
		}
	}
	if n > maxFields {
		return fmt.Errorf("The query selects more than %d fields.", maxFields)
	}
	return nil
}

// measure returns the depth and cost of the operation that will run.
type measurer struct {
	b         *built
	vars      map[string]any
	fragments map[string]*ast.FragmentDefinition
	fields    int
	depth     int
	cost      int
}

func limitsError(b *built, doc *ast.Document, opName string, vars map[string]any) error {
	m := &measurer{b: b, vars: vars, fragments: map[string]*ast.FragmentDefinition{}}
	var op *ast.OperationDefinition
	ops := 0
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.FragmentDefinition:
			m.fragments[d.Name.Value] = d
		case *ast.OperationDefinition:
			ops++
			if opName == "" || (d.Name != nil && d.Name.Value == opName) {
				op = d
			}
		}
	}
	if op == nil || (opName == "" && ops > 1) {
		return nil // the executor reports the missing or ambiguous operation
	}
	root := "Query"
	switch op.Operation {
	case ast.OperationTypeMutation:
		root = "Mutation"
	case ast.OperationTypeSubscription:
		return nil // the schema has none: validation refused it
	}
	m.walk(op.SelectionSet, root, 0, 1, map[string]bool{})
	if m.fields > maxFields {
		// fragments spread many times multiply the fields the executor visits
		return fmt.Errorf("The query selects more than %d fields.", maxFields)
	}
	if m.depth > MaxDepth {
		return fmt.Errorf("The query is %d levels deep; the limit is %d.", m.depth, MaxDepth)
	}
	if m.cost > MaxCost {
		return fmt.Errorf("The query may load %d records; the limit is %d (lower perPage or nest fewer lists).", m.cost, MaxCost)
	}
	return nil
}

func (m *measurer) walk(set *ast.SelectionSet, typeName string, depth, mult int, inFragments map[string]bool) {
	if set == nil || m.fields > maxFields {
		return
	}
	for _, sel := range set.Selections {
		switch s := sel.(type) {
		case *ast.Field:
			name := s.Name.Value
			if strings.HasPrefix(name, "__") {
				continue
			}
			m.fields++
			d := depth + 1
			m.depth = max(m.depth, d)
			info, ok := m.b.fields[typeName][name]
			if !ok {
				continue // validation reported it
			}
			next := mult
			switch info.kind {
			case kindList:
				n := m.perPage(s)
				m.add(mult * n)
				next = mult * n
			case kindSingle, kindRelOne:
				m.add(mult)
			case kindRelMany:
				n := info.max
				if n <= 0 || n > maxRelMany {
					n = maxRelMany
				}
				m.add(mult * n)
				next = mult * n
			}
			if typeName == "Query" || typeName == "Mutation" {
				m.add(rootFieldCost)
			}
			if info.target != "" {
				m.walk(s.SelectionSet, info.target, d, next, inFragments)
			}
		case *ast.InlineFragment:
			t := typeName
			if s.TypeCondition != nil {
				t = s.TypeCondition.Name.Value
			}
			m.walk(s.SelectionSet, t, depth, mult, inFragments)
		case *ast.FragmentSpread:
			f := m.fragments[s.Name.Value]
			if f == nil || inFragments[s.Name.Value] {
				continue // validation refuses unknown and cyclic fragments
			}
			inFragments[s.Name.Value] = true
			m.walk(f.SelectionSet, f.TypeCondition.Name.Value, depth, mult, inFragments)
			delete(inFragments, s.Name.Value)
		}
	}
}

func (m *measurer) add(n int) {
	// saturate: a product of big perPages must not wrap around
	m.cost = min(m.cost+n, MaxCost*1000)
}

// perPage is the page size a list field will use: its argument (a literal
// or a variable), REST's default when absent, Lectern's cap when larger.
func (m *measurer) perPage(f *ast.Field) int {
	n := search.DefaultPerPage
	for _, a := range f.Arguments {
		if a.Name.Value != "perPage" {
			continue
		}
		switch v := a.Value.(type) {
		case *ast.IntValue:
			var x int
			if _, err := fmt.Sscan(v.Value, &x); err == nil {
				n = x
			} else {
				n = hooks.MaxPerPage
			}
		case *ast.Variable:
			switch x := m.vars[v.Name.Value].(type) {
			case float64:
				n = int(x)
			case int:
				n = x
			}
		}
	}
	if n <= 0 {
		n = search.DefaultPerPage
	}
	return min(n, hooks.MaxPerPage)
}
