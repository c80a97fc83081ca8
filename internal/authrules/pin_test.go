package authrules

import (
	"reflect"
	"testing"

	"github.com/ganigeorgiev/fexpr"
	"github.com/pocketbase/pocketbase/core"
)

// lessonsLike is a collection with a single relation (course), a multiple
// one (tags) and plain fields.
func lessonsLike() *core.Collection {
	c := core.NewBaseCollection("lessons", "lessons_id")
	c.Fields.Add(
		&core.RelationField{Name: "course", CollectionId: "courses_id", MaxSelect: 1},
		&core.RelationField{Name: "tags", CollectionId: "tags_id", MaxSelect: 5},
		&core.TextField{Name: "title"},
		&core.BoolField{Name: "freePreview"},
	)
	return c
}

func TestPinsOf(t *testing.T) {
	c := lessonsLike()
	cases := []struct {
		filter string
		want   []pin
	}{
		{`course = "c1"`, []pin{{"course", "c1"}}},
		{`"c1" = course`, []pin{{"course", "c1"}}},
		{`course = "c1" && freePreview = true`, []pin{{"course", "c1"}}},
		{`(title != "" && (course = "c1")) && freePreview = false`, []pin{{"course", "c1"}}},
		{`course = "c1" && course = "c2"`, []pin{{"course", "c1"}}}, // no row has both: any answer is empty
		{`course = "c1" || course = "c2"`, nil},
		{`course = "c1" && freePreview = true || title = "x"`, nil}, // (a && b) || c
		{`title = "x" || course = "c1" && freePreview = true`, nil},
		{`(course = "c1" || title = "x") && freePreview = true`, nil},
		{`course != "c1"`, nil},
		{`course ?= "c1"`, nil},
		{`course = ""`, nil},
		{`course = course`, nil},
		{`course.title = "c1"`, nil},
		{`tags = "t1"`, nil},   // a multiple relation: rows hold more than the id
		{`title = "c1"`, nil},  // not a relation
		{`Course = "c1"`, nil}, // field names are exact
		{`course = "c1" &&`, nil},
		{``, nil},
	}
	for _, tc := range cases {
		got := pinsOf(tc.filter, c)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("pinsOf(%q) = %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestFoldReadsSQLPrecedence(t *testing.T) {
	parse := func(s string) []*node {
		g, err := fexpr.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return tree(g, nil)
	}
	// leaves are decided by their left identifier: t true, f false, else unknown
	decide := func(ns []*node) {
		var walk func(ns []*node)
		walk = func(ns []*node) {
			for _, n := range ns {
				if n.leaf != nil {
					switch n.leaf.Left.Literal {
					case "t":
						n.value = 1
					case "f":
						n.value = -1
					}
				}
				walk(n.kids)
			}
		}
		walk(ns)
	}
	cases := []struct {
		rule string
		want int8
	}{
		{`t = 1 || u = 1`, 1},
		{`f = 1 || u = 1`, 0},
		{`f = 1 && u = 1 || t = 1`, 1},          // (f && u) || t
		{`t = 1 || u = 1 && f = 1`, 1},          // t || (u && f)
		{`u = 1 || f = 1 && t = 1`, 0},          // u || (f && t)
		{`f = 1 || t = 1 && f = 1`, -1},         // f || (t && f)
		{`u = 1 && f = 1 || f = 1`, -1},         // (u && f) || f
		{`(u = 1 || t = 1) && t = 1`, 1},        // groups first
		{`(u = 1 || f = 1) && t = 1`, 0},        // u
		{`t = 1 && (f = 1 || (t = 1))`, 1},      // nested groups
		{`u = 1 && t = 1 || f = 1 && u = 1`, 0}, // u
	}
	for _, tc := range cases {
		ns := parse(tc.rule)
		decide(ns)
		if got := foldList(ns); got != tc.want {
			t.Errorf("fold(%s) = %d, want %d", tc.rule, got, tc.want)
		}
	}
}

// FuzzPinsOf: whatever the filter, a pin is a single relation of the
// collection compared with a non-empty text, and removing every other part
// of an all-AND filter keeps it (so it is one of its conjuncts).
func FuzzPinsOf(f *testing.F) {
	for _, s := range []string{`course = "c1"`, `course = "c1" || course = "c2"`, `(course = "c1") && (title = "x" || freePreview = true)`, `"c1" = course && tags = "t"`} {
		f.Add(s)
	}
	c := lessonsLike()
	f.Fuzz(func(t *testing.T, filter string) {
		pins := pinsOf(filter, c)
		if len(pins) == 0 {
			return
		}
		groups, err := fexpr.Parse(filter)
		if err != nil {
			t.Fatalf("pins %v from a filter that does not parse: %q", pins, filter)
		}
		for _, p := range pins {
			if p.field != "course" || p.value == "" {
				t.Fatalf("pin %v from %q", p, filter)
			}
			if !conjunct(groups, p) {
				t.Fatalf("pin %v is not a conjunct of %q", p, filter)
			}
		}
	})
}

// conjunct reports whether every path from the root to the pin's comparison
// crosses only && (the independent statement of what pinsOf must find).
func conjunct(groups []fexpr.ExprGroup, p pin) bool {
	for i, g := range groups {
		if i > 0 && g.Join == fexpr.JoinOr {
			return false
		}
	}
	for _, g := range groups {
		switch item := g.Item.(type) {
		case fexpr.Expr:
			l, r := item.Left, item.Right
			if item.Op == fexpr.SignEq && ((l.Literal == p.field && l.Type == fexpr.TokenIdentifier && r.Type == fexpr.TokenText && r.Literal == p.value) ||
				(r.Literal == p.field && r.Type == fexpr.TokenIdentifier && l.Type == fexpr.TokenText && l.Literal == p.value)) {
				return true
			}
		case []fexpr.ExprGroup:
			if conjunct(item, p) {
				return true
			}
		case fexpr.ExprGroup:
			if conjunct([]fexpr.ExprGroup{item}, p) {
				return true
			}
		}
	}
	return false
}
