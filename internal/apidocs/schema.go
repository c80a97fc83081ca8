package apidocs

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"lectern/hooks"
)

// access says who writes a field, which decides where it appears: in the
// record a client reads, in the create body, in the update body.
type access int

const (
	// writable: the client chooses it on create and may change it.
	writable access = iota
	// fixed: chosen on create, never changes (a client value on update is ignored).
	fixed
	// createOnly: chosen on create, changed only through a dedicated endpoint
	// (an auth record's email, through request-email-change).
	createOnly
	// owner: the signed-in user, set by the server on create; never changes.
	owner
	// server: computed by the server; a client value is ignored on create and update.
	server
	// system: managed by PocketBase (id, created/updated, verified).
	system
)

// readOnly reports whether a client never writes the field (OpenAPI readOnly).
func (a access) readOnly() bool { return a == owner || a == server || a == system }

// inCreate and inUpdate report whether the field belongs in a request body.
func (a access) inCreate() bool { return a == writable || a == fixed || a == createOnly }
func (a access) inUpdate() bool { return a == writable }

// note is the sentence the docs add to a field of this access.
func (a access) note() string {
	switch a {
	case fixed:
		return "Chosen on create; never changes (a value sent on update is ignored)."
	case createOnly:
		return "Chosen on create; changed only through request-email-change."
	case owner:
		return "Set by the server to the signed-in user on create; never changes (a client value is ignored; only a superuser may choose it)."
	case server:
		return "Set by the server (a client value is ignored on create and update)."
	case system:
		return "Managed by PocketBase."
	}
	return ""
}

// fieldDoc is one field of a collection as the API reference shows it.
type fieldDoc struct {
	core.Field
	collection string
	access     access
	help       string
}

func (f fieldDoc) name() string { return f.GetName() }

// required reports whether PocketBase requires a non-empty value.
func (f fieldDoc) required() bool {
	v := reflect.ValueOf(f.Field)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if r := v.FieldByName("Required"); r.IsValid() && r.Kind() == reflect.Bool {
		return r.Bool()
	}
	return false
}

// multiple reports whether a select, relation or file field holds a list.
func (f fieldDoc) multiple() bool {
	if m, ok := f.Field.(interface{ IsMultiple() bool }); ok {
		return m.IsMultiple()
	}
	return false
}

// alwaysSet reports whether a response always carries a meaningful value even
// though the field is not "required" in the schema (ids, autodates, flags
// PocketBase manages).
func (f fieldDoc) alwaysSet() bool {
	switch f.Field.(type) {
	case *core.AutodateField:
		return true
	}
	return f.access == system
}

// collectionDoc is a collection with its fields classified.
type collectionDoc struct {
	*core.Collection
	// fields a response may carry, in schema order; hidden fields left out.
	fields []fieldDoc
	// hidden fields (password, tokenKey, fields hidden in the dashboard).
	hidden []fieldDoc
	// backRelations are the other collections' relation fields pointing here,
	// which expand as "<collection>_via_<field>".
	backRelations []backRelation
}

type backRelation struct {
	collection *core.Collection
	field      *core.RelationField
	single     bool // the relation field has a single-column unique index
}

// expandKey is the expand name of a back-relation.
func (b backRelation) expandKey() string {
	return b.collection.Name + "_via_" + b.field.Name
}

// model is every documented collection, sorted by name, with lookups by id.
type model struct {
	collections []*collectionDoc
	byID        map[string]*collectionDoc
}

// newModel classifies the fields of every collection a client can reach:
// PocketBase's system collections (_superusers, _mfas, ...) are left out.
func newModel(all []*core.Collection) *model {
	m := &model{byID: map[string]*collectionDoc{}}
	for _, c := range all {
		if c.System {
			continue
		}
		cd := &collectionDoc{Collection: c}
		policy, _ := hooks.FieldPolicyOf(c.Name)
		for _, f := range c.Fields {
			fd := fieldDoc{Field: f, collection: c.Name, access: classify(c, f, policy), help: helpOf(f)}
			if f.GetHidden() {
				cd.hidden = append(cd.hidden, fd)
				continue
			}
			cd.fields = append(cd.fields, fd)
		}
		m.collections = append(m.collections, cd)
		m.byID[c.Id] = cd
	}
	sort.Slice(m.collections, func(i, j int) bool {
		a, b := m.collections[i].Name, m.collections[j].Name
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		return a < b
	})

	for _, src := range m.collections {
		for _, f := range src.fields {
			rel, ok := f.Field.(*core.RelationField)
			if !ok {
				continue
			}
			target := m.byID[rel.CollectionId]
			if target == nil {
				continue
			}
			target.backRelations = append(target.backRelations, backRelation{
				collection: src.Collection,
				field:      rel,
				single:     hasSingleUniqueIndex(src.Collection, rel.Name),
			})
		}
	}
	return m
}

// lecternOrder is the order the reference lists Lectern's collections in,
// the order of the data model; other collections follow by name.
var lecternOrder = []string{"users", "topics", "posts", "comments", "courses", "lessons", "enrollments", "reviews"}

func rank(name string) int {
	if i := slices.Index(lecternOrder, name); i >= 0 {
		return i
	}
	return len(lecternOrder)
}

// collection returns the documented collection with the given id, or nil.
func (m *model) collection(id string) *collectionDoc { return m.byID[id] }

// byName returns the documented collection with the given name, or nil.
func (m *model) byName(name string) *collectionDoc {
	for _, c := range m.collections {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func classify(c *core.Collection, f core.Field, policy hooks.FieldPolicy) access {
	name := f.GetName()
	switch {
	case name == core.FieldNameId:
		return system
	case c.IsAuth() && name == core.FieldNameVerified:
		return system // only superusers (or a manage rule) change it
	case c.IsAuth() && name == core.FieldNameEmail:
		return createOnly
	case name == policy.Owner:
		return owner
	case slices.Contains(policy.Server, name):
		return server
	case slices.Contains(policy.Fixed, name):
		return fixed
	}
	switch f.(type) {
	case *core.AutodateField:
		return system
	}
	if c.IsView() {
		return system
	}
	return writable
}

// helpOf returns the field's help text from the dashboard ("" when none);
// every field type but autodate has one, so it is read by name.
func helpOf(f core.Field) string {
	v := reflect.ValueOf(f)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if h := v.FieldByName("Help"); h.IsValid() && h.Kind() == reflect.String {
		return strings.TrimSpace(h.String())
	}
	return ""
}

func hasSingleUniqueIndex(c *core.Collection, column string) bool {
	for _, idx := range c.Indexes {
		lower := strings.ToLower(idx)
		if !strings.Contains(lower, "unique") {
			continue
		}
		open, close := strings.Index(idx, "("), strings.LastIndex(idx, ")")
		if open < 0 || close < open {
			continue
		}
		cols := strings.Split(idx[open+1:close], ",")
		if len(cols) != 1 {
			continue
		}
		col := strings.Fields(strings.Trim(strings.TrimSpace(cols[0]), "`\"[]"))
		if len(col) > 0 && strings.Trim(col[0], "`\"[]") == column {
			return true
		}
	}
	return false
}

// typeName turns a collection name into a PascalCase identifier ("course_tags" → "CourseTags").
func typeName(collection string) string {
	var b strings.Builder
	upper := true
	for _, r := range collection {
		switch {
		case r == '_' || r == '-' || r == ' ':
			upper = true
		case upper:
			b.WriteString(strings.ToUpper(string(r)))
			upper = false
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "C" + s
	}
	return s
}

// limits describes a field's constraints in words, for descriptions and JSDoc.
func limits(f fieldDoc) string {
	var parts []string
	switch t := f.Field.(type) {
	case *core.TextField:
		switch {
		case t.Min > 0 && t.Min == t.Max:
			parts = append(parts, fmt.Sprintf("%d characters", t.Min))
		case t.Min > 0 && t.Max > 0:
			parts = append(parts, fmt.Sprintf("%d–%d characters", t.Min, t.Max))
		case t.Max > 0:
			parts = append(parts, fmt.Sprintf("at most %d characters", t.Max))
		case t.Min > 0:
			parts = append(parts, fmt.Sprintf("at least %d characters", t.Min))
		}
		if t.Pattern != "" && !t.PrimaryKey {
			parts = append(parts, "matches "+t.Pattern)
		}
	case *core.EditorField:
		parts = append(parts, "HTML, sanitized on the server", "at most "+byteSize(orDefault(t.MaxSize, core.DefaultEditorFieldMaxSize)))
	case *core.NumberField:
		if t.OnlyInt {
			parts = append(parts, "integer")
		}
		switch {
		case t.Min != nil && t.Max != nil:
			parts = append(parts, fmt.Sprintf("%s–%s", num(*t.Min), num(*t.Max)))
		case t.Min != nil:
			parts = append(parts, "≥ "+num(*t.Min))
		case t.Max != nil:
			parts = append(parts, "≤ "+num(*t.Max))
		}
		if !f.required() && t.Min != nil && *t.Min > 0 {
			parts = append(parts, "0 means not set")
		}
	case *core.SelectField:
		if f.multiple() {
			parts = append(parts, fmt.Sprintf("up to %d of: %s", t.MaxSelect, strings.Join(t.Values, ", ")))
		}
	case *core.RelationField:
		if f.multiple() {
			parts = append(parts, fmt.Sprintf("up to %d record ids", t.MaxSelect))
		}
	case *core.FileField:
		n := "one file"
		if f.multiple() {
			n = fmt.Sprintf("up to %d files", t.MaxSelect)
		}
		parts = append(parts, n+" of at most "+byteSize(orDefault(t.MaxSize, core.DefaultFileFieldMaxSize)))
		if len(t.MimeTypes) > 0 {
			parts = append(parts, "types "+strings.Join(t.MimeTypes, ", "))
		}
		if len(t.Thumbs) > 0 {
			parts = append(parts, "thumbs "+strings.Join(t.Thumbs, ", "))
		}
		if t.Protected {
			parts = append(parts, "protected (downloads need a file token)")
		}
	case *core.URLField:
		if len(t.OnlyDomains) > 0 {
			parts = append(parts, "only "+strings.Join(t.OnlyDomains, ", "))
		}
	case *core.EmailField:
		if len(t.OnlyDomains) > 0 {
			parts = append(parts, "only @"+strings.Join(t.OnlyDomains, ", @"))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, "; ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// describeField joins a field's help text, limits and access note.
func describeField(f fieldDoc) string {
	var parts []string
	if f.help != "" {
		parts = append(parts, sentence(f.help))
	}
	if l := limits(f); l != "" {
		parts = append(parts, l)
	}
	if n := f.access.note(); n != "" && !strings.Contains(strings.ToLower(f.help), "set by the server") {
		parts = append(parts, n)
	}
	if n := fieldNotes[f.collection+"."+f.name()]; n != "" {
		parts = append(parts, n)
	}
	return strings.Join(parts, " ")
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

func orDefault(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func num(f float64) string { return fmt.Sprintf("%g", f) }
