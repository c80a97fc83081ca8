package hooks

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
)

func TestTypeMismatch(t *testing.T) {
	text := &core.TextField{Name: "title"}
	num := &core.NumberField{Name: "price"}
	single := &core.SelectField{Name: "status", MaxSelect: 1, Values: []string{"a"}}
	multi := &core.SelectField{Name: "tags", MaxSelect: 3, Values: []string{"a"}}
	rel := &core.RelationField{Name: "post", MaxSelect: 1}
	rels := &core.RelationField{Name: "topics", MaxSelect: 5}

	cases := []struct {
		name  string
		field core.Field
		value any
		bad   bool
	}{
		{"object for text", text, map[string]any{"x": 1.0}, true},
		{"array for text", text, []any{"a"}, true},
		{"number for text is kept as its digits", text, 123.0, false},
		{"bool for text", text, true, false},
		{"number", num, 9.5, false},
		{"numeric string", num, " 9.50 ", false},
		{"blank string means zero", num, "", false},
		{"word for number", num, "abc", true},
		{"NaN for number", num, "NaN", true},
		{"bool for number", num, true, true},
		{"array for single select", single, []any{"a"}, true},
		{"array for multi select", multi, []any{"a"}, false},
		{"object for multi select", multi, map[string]any{}, true},
		{"one-element list for single relation", rel, []any{"x"}, false},
		{"two ids for single relation", rel, []any{"x", "y"}, true},
		{"list for multi relation", rels, []any{"x", "y"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.bad, typeMismatch(c.field, c.value) != "")
		})
	}
}
