package graphql

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/graphql-go/graphql"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/inflector"
)

// nameRe is what the GraphQL spec allows as a name; collections and fields
// named otherwise are left out of the schema rather than renamed, so every
// GraphQL name is also the REST name.
var nameRe = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

// fieldKind classifies a schema field for the limits walk and the resolvers.
type fieldKind int

const (
	kindScalar  fieldKind = iota
	kindList              // a collection's list field or a back-relation: loads up to perPage records
	kindSingle            // a root singular field: loads one record
	kindRelOne            // a single relation: at most one record per parent
	kindRelMany           // a multiple relation: at most maxSelect records per parent
	kindPage              // the items of a list page (already counted by the list)
)

// fieldInfo is what the limits walk needs to know about one field.
type fieldInfo struct {
	kind   fieldKind
	target string // the GraphQL type the field's records are (for kindList: the XxxList type)
	max    int    // kindRelMany: the relation's maxSelect
}

// collInfo is one collection as the schema exposes it.
type collInfo struct {
	id       string
	name     string // collection name = list field
	single   string // singular field
	typeName string // PascalCase singular
	obj      *graphql.Object
	list     *graphql.Object
}

// backRel is a back-relation: the records of child whose single relation
// field points at the parent.
type backRel struct {
	name  string // field name on the parent type
	child *collInfo
	field string // the relation field on child
}

// built is one schema generated from the collections, with the facts the
// limits walk and the resolvers look up by GraphQL type and field name.
type built struct {
	schema graphql.Schema
	fields map[string]map[string]fieldInfo // type name → field name → info
	colls  map[string]*collInfo            // collection name → info
	byID   map[string]*collInfo            // collection id → info
}

// schemaCache rebuilds the schema when a collection changed (a migration, a
// dashboard edit, another process) and reuses it otherwise.
type schemaCache struct {
	mu  sync.Mutex
	key string
	b   *built
}

func (sc *schemaCache) get(app core.App) (*built, error) {
	// PocketBase's own collection cache: reloaded on every collection save and
	// when another process changes the schema
	colls, _ := app.Store().Get(core.StoreKeyCachedCollections).([]*core.Collection)
	if colls == nil {
		var err error
		if colls, err = app.FindAllCollections(); err != nil {
			return nil, fmt.Errorf("load collections: %w", err)
		}
	}
	var key strings.Builder
	for _, c := range colls {
		key.WriteString(c.Id + c.Name + c.Updated.String() + ";")
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.b != nil && sc.key == key.String() {
		return sc.b, nil
	}
	b, err := buildSchema(colls)
	if err != nil {
		return nil, err
	}
	sc.key, sc.b = key.String(), b
	return b, nil
}

// typeNameOf is the singular of a collection name in PascalCase ("posts" → "Post").
func singularOf(name string) string {
	s := inflector.Singularize(name)
	if s == "" || s == name {
		s = name + "Item"
	}
	return s
}

func buildSchema(all []*core.Collection) (*built, error) {
	b := &built{fields: map[string]map[string]fieldInfo{}, colls: map[string]*collInfo{}, byID: map[string]*collInfo{}}

	var colls []*core.Collection
	for _, c := range all {
		if c.System || strings.HasPrefix(c.Name, "_") || !nameRe.MatchString(c.Name) {
			continue
		}
		colls = append(colls, c)
	}
	sort.Slice(colls, func(i, j int) bool { return colls[i].Name < colls[j].Name })

	// names already taken at the root and among types, so a collection whose
	// singular clashes with another's name is skipped, not silently merged
	rootNames := map[string]bool{}
	typeNames := map[string]bool{"Query": true, "Mutation": true, "JSON": true}
	for _, c := range colls {
		rootNames[c.Name] = true
	}
	byID := map[string]*core.Collection{}
	for _, c := range colls {
		single := singularOf(c.Name)
		tn := inflector.UcFirst(single)
		if rootNames[single] && single != c.Name || typeNames[tn] || typeNames[tn+"List"] {
			continue
		}
		rootNames[single] = true
		typeNames[tn], typeNames[tn+"List"] = true, true
		b.colls[c.Name] = &collInfo{id: c.Id, name: c.Name, single: single, typeName: tn}
		b.byID[c.Id] = b.colls[c.Name]
		byID[c.Id] = c
	}

	// back-relations: a single relation field of child → parent. When one child
	// collection has one such field the back-relation is named as the child
	// collection (Post.comments); otherwise as PocketBase's expand names it
	// (comments_via_post).
	backs := map[string][]backRel{}
	for _, c := range colls {
		ci := b.colls[c.Name]
		if ci == nil {
			continue
		}
		perParent := map[string][]string{}
		for _, f := range c.Fields {
			rf, ok := f.(*core.RelationField)
			if !ok || rf.IsMultiple() || rf.Hidden || !nameRe.MatchString(rf.Name) {
				continue
			}
			if p := byID[rf.CollectionId]; p != nil {
				perParent[p.Name] = append(perParent[p.Name], rf.Name)
			}
		}
		for parent, fields := range perParent {
			for _, f := range fields {
				name := c.Name
				if len(fields) > 1 {
					name = c.Name + "_via_" + f
				}
				backs[parent] = append(backs[parent], backRel{name: name, child: ci, field: f})
			}
		}
	}

	jsonScalar := graphql.NewScalar(graphql.ScalarConfig{
		Name:         "JSON",
		Description:  "Any JSON value: json and geoPoint fields as REST returns them, and a mutation's data as REST's body.",
		Serialize:    func(v any) any { return v },
		ParseValue:   func(v any) any { return v },
		ParseLiteral: literalValue,
	})

	listArgs := graphql.FieldConfigArgument{
		"filter":  {Type: graphql.String, Description: "PocketBase filter syntax, as REST's filter parameter."},
		"sort":    {Type: graphql.String, Description: "PocketBase sort syntax, as REST's sort parameter."},
		"page":    {Type: graphql.Int, Description: "Page number, from 1 (default 1)."},
		"perPage": {Type: graphql.Int, Description: "Items per page (default 30, at most 200, as REST)."},
	}

	for _, c := range colls {
		ci := b.colls[c.Name]
		if ci == nil {
			continue
		}
		c := c
		fi := map[string]fieldInfo{}
		b.fields[ci.typeName] = fi
		ci.obj = graphql.NewObject(graphql.ObjectConfig{
			Name:        ci.typeName,
			Description: fmt.Sprintf("A record of the %q collection.", c.Name),
			Fields: graphql.FieldsThunk(func() graphql.Fields {
				fields := graphql.Fields{}
				for _, f := range c.Fields {
					name := f.GetName()
					if f.GetHidden() || !nameRe.MatchString(name) || strings.HasPrefix(name, "__") {
						continue
					}
					if gf := b.recordField(c, f, jsonScalar, fi); gf != nil {
						fields[name] = gf
					}
				}
				for _, br := range backs[c.Name] {
					if _, taken := fields[br.name]; taken {
						continue
					}
					fi[br.name] = fieldInfo{kind: kindList, target: br.child.typeName + "List"}
					fields[br.name] = &graphql.Field{
						Type:        br.child.list,
						Description: fmt.Sprintf("The %s records whose %q is this record, under the %s list rule.", br.child.name, br.field, br.child.name),
						Args:        listArgs,
						Resolve:     resolveBack(br),
					}
				}
				return fields
			}),
		})
		pageFields := map[string]fieldInfo{"items": {kind: kindPage, target: ci.typeName}}
		b.fields[ci.typeName+"List"] = pageFields
		ci.list = graphql.NewObject(graphql.ObjectConfig{
			Name:        ci.typeName + "List",
			Description: fmt.Sprintf("A page of %s, as REST's list response.", c.Name),
			Fields: graphql.Fields{
				"page":       {Type: graphql.NewNonNull(graphql.Int), Resolve: pageInt(func(p *page) int { return p.Page })},
				"perPage":    {Type: graphql.NewNonNull(graphql.Int), Resolve: pageInt(func(p *page) int { return p.PerPage })},
				"totalItems": {Type: graphql.NewNonNull(graphql.Int), Resolve: pageInt(func(p *page) int { return p.TotalItems })},
				"totalPages": {Type: graphql.NewNonNull(graphql.Int), Resolve: pageInt(func(p *page) int { return p.TotalPages })},
				"items": {
					Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(ci.obj))),
					Resolve: func(p graphql.ResolveParams) (any, error) {
						return p.Source.(*page).Items, nil
					},
				},
			},
		})
	}

	rootFields := graphql.Fields{}
	rootInfo := map[string]fieldInfo{}
	b.fields["Query"] = rootInfo
	for _, c := range colls {
		ci := b.colls[c.Name]
		if ci == nil {
			continue
		}
		rootInfo[ci.name] = fieldInfo{kind: kindList, target: ci.typeName + "List"}
		rootFields[ci.name] = &graphql.Field{
			Type:        ci.list,
			Description: fmt.Sprintf("GET /api/collections/%s/records: the %s the caller may list.", c.Name, c.Name),
			Args:        listArgs,
			Resolve:     resolveList(ci),
		}
		rootInfo[ci.single] = fieldInfo{kind: kindSingle, target: ci.typeName}
		rootFields[ci.single] = &graphql.Field{
			Type:        ci.obj,
			Description: fmt.Sprintf("GET /api/collections/%s/records/{id}: null when the caller may not view it.", c.Name),
			Args:        graphql.FieldConfigArgument{"id": {Type: graphql.NewNonNull(graphql.ID)}},
			Resolve:     resolveSingle(ci),
		}
	}
	if len(rootFields) == 0 {
		// a schema needs a query type with at least one field
		rootFields["_empty"] = &graphql.Field{Type: graphql.Boolean}
	}

	mutations := graphql.Fields{}
	mutInfo := map[string]fieldInfo{}
	b.fields["Mutation"] = mutInfo
	for _, c := range colls {
		if ci := b.colls[c.Name]; ci != nil && !c.IsView() {
			for name, f := range mutationFields(ci, jsonScalar) {
				mutations[name] = f
				mutInfo[name] = fieldInfo{kind: kindSingle, target: ci.typeName}
			}
		}
	}
	cfg := graphql.SchemaConfig{Query: graphql.NewObject(graphql.ObjectConfig{Name: "Query", Fields: rootFields})}
	if len(mutations) > 0 {
		cfg.Mutation = graphql.NewObject(graphql.ObjectConfig{Name: "Mutation", Fields: mutations})
	}
	schema, err := graphql.NewSchema(cfg)
	if err != nil {
		return nil, fmt.Errorf("build graphql schema: %w", err)
	}
	b.schema = schema
	return b, nil
}

// recordField maps one collection field to a GraphQL field that reads the
// record as REST serializes it. Every value is nullable: REST leaves some out
// (a hidden email), and a null is what a client then sees.
func (b *built) recordField(c *core.Collection, f core.Field, jsonScalar *graphql.Scalar, fi map[string]fieldInfo) *graphql.Field {
	name := f.GetName()
	scalar := func(t graphql.Output) *graphql.Field {
		fi[name] = fieldInfo{kind: kindScalar}
		return &graphql.Field{Type: t, Resolve: resolveScalar(name)}
	}
	list := func(t graphql.Output) *graphql.Field {
		return scalar(graphql.NewList(graphql.NewNonNull(t)))
	}
	switch f := f.(type) {
	case *core.TextField:
		if f.PrimaryKey {
			fi[name] = fieldInfo{kind: kindScalar}
			return &graphql.Field{Type: graphql.NewNonNull(graphql.ID), Resolve: resolveScalar(name)}
		}
		return scalar(graphql.String)
	case *core.NumberField:
		if f.OnlyInt {
			return scalar(graphql.Int)
		}
		return scalar(graphql.Float)
	case *core.BoolField:
		return scalar(graphql.Boolean)
	case *core.SelectField:
		if f.IsMultiple() {
			return list(graphql.String)
		}
		return scalar(graphql.String)
	case *core.FileField:
		if f.IsMultiple() {
			return list(graphql.String)
		}
		return scalar(graphql.String)
	case *core.JSONField, *core.GeoPointField:
		return scalar(jsonScalar)
	case *core.RelationField:
		target := b.byID[f.CollectionId]
		if target == nil {
			// a relation to a collection outside the schema: the ids, as REST has them
			if f.IsMultiple() {
				return list(graphql.ID)
			}
			return scalar(graphql.ID)
		}
		if f.IsMultiple() {
			fi[name] = fieldInfo{kind: kindRelMany, target: target.typeName, max: f.MaxSelect}
			return &graphql.Field{
				Type:        graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(target.obj))),
				Description: fmt.Sprintf("The %s the caller may view, as REST's expand=%s.", target.name, name),
				Resolve:     resolveRelation(name, true),
			}
		}
		fi[name] = fieldInfo{kind: kindRelOne, target: target.typeName}
		return &graphql.Field{
			Type:        target.obj,
			Description: fmt.Sprintf("The related %s record, null when empty or when the caller may not view it (as REST's expand=%s).", target.single, name),
			Resolve:     resolveRelation(name, false),
		}
	default:
		// text-like fields: editor, email, url, date, autodate, password…
		return scalar(graphql.String)
	}
}
