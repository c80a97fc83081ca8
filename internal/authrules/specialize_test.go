package authrules

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ganigeorgiev/fexpr"
	"github.com/pocketbase/pocketbase/core"
)

// authOf builds a users-like auth record in memory.
func authOf(t testing.TB, values map[string]any) *core.Record {
	t.Helper()
	c := core.NewAuthCollection("users", "_pb_users_auth_")
	c.Fields.Add(
		&core.SelectField{Name: "role", MaxSelect: 1, Values: []string{"student", "author", "instructor", "admin"}},
		&core.TextField{Name: "name"},
		&core.SelectField{Name: "tags", MaxSelect: 3, Values: []string{"a", "b", "c"}},
		&core.NumberField{Name: "level"},
		&core.JSONField{Name: "prefs"},
		&core.RelationField{Name: "mentor", CollectionId: "_pb_users_auth_", MaxSelect: 1},
		&core.RelationField{Name: "friends", CollectionId: "_pb_users_auth_", MaxSelect: 5},
	)
	r := core.NewRecord(c)
	r.Id = "u1"
	for k, v := range values {
		r.Set(k, v)
	}
	return r
}

func TestSpecialize(t *testing.T) {
	student := authOf(t, map[string]any{"role": "student", "name": `Bob "); DROP || x = "`, "level": 3, "mentor": "u9"})
	cases := []struct {
		name, rule, want string
	}{
		{"the admin check of every rule", `@request.auth.role = "admin"`, `"student" = "admin"`},
		{"text on the left", `"admin" != @request.auth.role`, `"admin" != "student"`},
		{"any-match operators on a single value", `@request.auth.role ?= "admin" || @request.auth.role ?!= "x"`, `"student" ?= "admin" || "student" ?!= "x"`},
		{"the posts list rule", `status = "published" || (@request.auth.id != "" && author = @request.auth.id) || @request.auth.role = "admin"`,
			`status = "published" || (@request.auth.id != "" && author = @request.auth.id) || "student" = "admin"`},
		{"a value with quotes and operators stays one text", `@request.auth.name = "Bob"`, `"Bob \"); DROP || x = \"" = "Bob"`},
		{"a single relation", `@request.auth.mentor = "u9"`, `"u9" = "u9"`},
		{"nested groups", `((@request.auth.role = "admin") && (x = 1 || y ~ "z"))`, `(("student" = "admin") && (x = 1 || y ~ "z"))`},
		{"functions are kept", `geoDistance(a, b, 1, 2) < 25 && @request.auth.role = "admin"`, `geoDistance(a, b, 1, 2) < 25 && "student" = "admin"`},

		// left to PocketBase: not provably the same comparison as the join's
		{"already a constant", `@request.auth.id != ""`, ""},
		{"compared with a column", `instructor = @request.auth.mentor`, ""},
		{"compared with a number", `@request.auth.level > 2`, ""},
		{"a number field", `@request.auth.level = "3"`, ""},
		{"a multiple select", `@request.auth.tags ?= "a"`, ""},
		{"a multiple relation", `@request.auth.friends ?= "u2"`, ""},
		{"JSON", `@request.auth.prefs = "x"`, ""},
		{"a modifier", `@request.auth.role:lower = "admin"`, ""},
		{"a relation path", `@request.auth.mentor.role = "admin"`, ""},
		{"like", `@request.auth.name ~ "Bob"`, ""},
		{"an unknown field", `@request.auth.nope = "x"`, ""},
		{"not a rule", `@request.auth.role = `, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, changed := Specialize(c.rule, student)
			want := c.want
			if want == "" {
				want = c.rule
			}
			if got != want || changed != (c.want != "") {
				t.Fatalf("Specialize(%q) = %q, %v; want %q", c.rule, got, changed, want)
			}
		})
	}

	// guests and superusers are left to PocketBase
	if got, changed := Specialize(`@request.auth.role = "admin"`, nil); changed || got != `@request.auth.role = "admin"` {
		t.Fatalf("guest: %q", got)
	}
	su := core.NewRecord(core.NewAuthCollection(core.CollectionNameSuperusers))
	if _, changed := Specialize(`@request.auth.role = "admin"`, su); changed {
		t.Fatal("superuser: the rule changed")
	}
}

// TestSpecializeReadsTheCurrentValue: the same rule for the same user gives
// the answer of their current role, cache or not.
func TestSpecializeReadsTheCurrentValue(t *testing.T) {
	u := authOf(t, map[string]any{"role": "admin"})
	rule := `@request.auth.role = "admin"`
	if got, _ := Specialize(rule, u); got != `"admin" = "admin"` {
		t.Fatalf("as admin: %q", got)
	}
	u.Set("role", "student")
	if got, _ := Specialize(rule, u); got != `"student" = "admin"` {
		t.Fatalf("demoted: %q (a cached answer of the old role?)", got)
	}
}

// TestUnquotableValuesKeepTheRule: a value the filter syntax cannot carry
// unchanged leaves the rule to PocketBase.
func TestUnquotableValuesKeepTheRule(t *testing.T) {
	for _, v := range []string{"a\x00b", "bad \xff utf-8"} {
		u := authOf(t, map[string]any{"name": v})
		rule := `@request.auth.name = "x"`
		if got, changed := Specialize(rule, u); changed || got != rule {
			t.Errorf("name %q: %q", v, got)
		}
	}
}

// FuzzPrint: whatever parses prints back to the same tree, and a text token
// of any value survives quoting or is refused.
func FuzzPrint(f *testing.F) {
	for _, s := range []string{
		`status = "published" || (@request.auth.id != "" && author = @request.auth.id) || @request.auth.role = "admin"`,
		`(freePreview = true && course.status = "published") || (@request.auth.id != "" && (course.instructor = @request.auth.id || @request.auth.role = "admin" || (@collection.enrollments.course ?= course && @collection.enrollments.user ?= @request.auth.id && @collection.enrollments.status ?!= "cancelled")))`,
		`a = 'it''s' && b = "\"q\" \\ \n" // comment`,
		`strftime('%Y', created) = "2024" && x ?!~ 'a%'`,
		`((a = 1))`, `a = -1.5 || b != null`,
	} {
		f.Add(s, `"); x = ("`)
	}
	f.Fuzz(func(t *testing.T, rule, value string) {
		tree, err := fexpr.Parse(rule)
		if err != nil {
			return
		}
		out, ok := print(tree)
		if !ok {
			t.Fatalf("print refused a parsed tree of %q", rule)
		}
		back, err := fexpr.Parse(out)
		if err != nil || !reflect.DeepEqual(back, tree) {
			t.Fatalf("%q printed as %q parses to another tree (%v)", rule, out, err)
		}

		// a value in place of every text: back to the same value, or no
		// specialization at all
		u := authOf(t, map[string]any{"name": value, "role": "admin"})
		spec, changed := Specialize(strings.ReplaceAll(rule, "@request.auth.role", "@request.auth.name"), u)
		if changed {
			if _, err := fexpr.Parse(spec); err != nil {
				t.Fatalf("specialized %q does not parse: %v", spec, err)
			}
		}
	})
}
