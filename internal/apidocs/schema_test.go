package apidocs

import (
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryFieldTypeMaps builds the document for a collection with every
// PocketBase field type (the ones Lectern doesn't use yet included, as a
// dashboard edit may add them) plus a view collection, and validates it.
func TestEveryFieldTypeMaps(t *testing.T) {
	tags := core.NewBaseCollection("tags")
	tags.Id = "tags0000000001x"
	tags.Fields.Add(&core.TextField{Name: "id", PrimaryKey: true, System: true, Required: true, Min: 15, Max: 15, Pattern: `^[a-z0-9]+$`})

	kitchen := core.NewBaseCollection("kitchen_sink")
	kitchen.Id = "kitchen00000001"
	kitchen.ListRule = types.Pointer("")
	kitchen.Fields.Add(
		&core.TextField{Name: "id", PrimaryKey: true, System: true, Required: true, Min: 15, Max: 15, Pattern: `^[a-z0-9]+$`},
		&core.TextField{Name: "code", Required: true, Pattern: `^[A-Z]+$`},
		&core.EditorField{Name: "html", Required: true},
		&core.NumberField{Name: "score", Min: types.Pointer(1.0), Max: types.Pointer(10.0)},
		&core.BoolField{Name: "flag"},
		&core.EmailField{Name: "contact"},
		&core.EmailField{Name: "owner_email", Required: true},
		&core.URLField{Name: "home"},
		&core.DateField{Name: "due", Required: true},
		&core.DateField{Name: "maybe"},
		&core.SelectField{Name: "colors", MaxSelect: 3, Values: []string{"red", "green"}},
		&core.SelectField{Name: "size", Required: true, MaxSelect: 1, Values: []string{"s", "m"}},
		&core.RelationField{Name: "tags", CollectionId: tags.Id, MaxSelect: 5, MinSelect: 1},
		&core.RelationField{Name: "main_tag", CollectionId: tags.Id, MaxSelect: 1, Required: true},
		&core.FileField{Name: "gallery", MaxSelect: 4},
		&core.JSONField{Name: "meta"},
		&core.GeoPointField{Name: "where"},
		&core.AutodateField{Name: "created", OnCreate: true},
	)
	kitchen.AddIndex("idx_main_tag", true, "main_tag", "")

	view := core.NewViewCollection("tag_counts")
	view.Id = "tagcounts000001"
	view.ListRule = types.Pointer("")
	view.Fields.Add(&core.TextField{Name: "id", PrimaryKey: true}, &core.NumberField{Name: "total"})

	all := []*core.Collection{tags, kitchen, view}
	body, err := BuildOpenAPI(all, Options{MaxPerPage: 200, Version: "test"})
	require.NoError(t, err)
	v := decode(t, body)
	loadDoc(t, body)

	p := dig(t, v, "components", "schemas", "KitchenSinkRecord", "properties")
	assert.Equal(t, "^[A-Z]+$", dig(t, p, "code", "pattern"))
	assert.Equal(t, "array", dig(t, p, "colors", "type"))
	assert.Equal(t, []any{"s", "m"}, dig(t, p, "size", "enum"), "a required select has no empty value")
	assert.Equal(t, float64(1), dig(t, p, "tags", "minItems"))
	assert.Equal(t, "#/components/schemas/Date", dig(t, p, "due", "$ref"))
	assert.Equal(t, "email", dig(t, p, "owner_email", "format"))
	assert.Len(t, dig(t, p, "contact", "anyOf"), 2, "an optional email may be empty")
	assert.Equal(t, []any{"lon", "lat"}, dig(t, p, "where", "required"))
	assert.False(t, has(p, "score", "minimum"), "an optional number skips min at 0")
	assert.Contains(t, dig(t, p, "score", "description"), "0 means not set")
	assert.Equal(t, "#/components/schemas/KitchenSinkRecord", dig(t, v, "components", "schemas", "TagsRecord", "properties", "expand", "properties", "kitchen_sink_via_main_tag", "$ref"), "a unique relation expands to one record")
	assert.Equal(t, "array", dig(t, v, "components", "schemas", "TagsRecord", "properties", "expand", "properties", "kitchen_sink_via_tags", "type"))
	assert.Equal(t, "binary", dig(t, v, "components", "schemas", "KitchenSinkCreateForm", "properties", "gallery", "items", "format"))
	assert.False(t, has(v, "components", "schemas", "KitchenSinkCreate", "properties", "gallery"), "no file in a JSON create")
	assert.True(t, has(v, "components", "schemas", "KitchenSinkUpdateForm", "properties", "gallery+"))

	// a view collection is read-only
	assert.True(t, has(v, "paths", "/api/collections/tag_counts/records", "get"))
	assert.False(t, has(v, "paths", "/api/collections/tag_counts/records", "post"))
	assert.False(t, has(v, "components", "schemas", "TagCountsCreate"))

	ts := BuildTypeScript(all, "test")
	for _, want := range []string{
		`export type KitchenSinkColorsOptions = "red" | "green";`,
		"  colors?: KitchenSinkColorsOptions[];",
		"  size: KitchenSinkSizeOptions;",
		"  gallery: FileNameString[];", // the response always carries it
		"  meta?: unknown;",
		"  where?: { lon: number; lat: number };",
		"  main_tag: RecordIdString;",
		"expand?: { kitchen_sink_via_tags?: KitchenSinkRecord[]; kitchen_sink_via_main_tag?: KitchenSinkRecord };",
		`collection(idOrName: "tag_counts"): RecordService<TagCountsRecord>;`,
		`"gallery+"?: FileUpload | FileUpload[];`,
	} {
		assert.Contains(t, ts, want)
	}
	assert.NotContains(t, ts, "TagCountsCreate")
	assert.False(t, strings.Contains(ts, "*/ */"))
}

func TestTypeName(t *testing.T) {
	for in, want := range map[string]string{"posts": "Posts", "course_tags": "CourseTags", "x": "X", "9lives": "C9lives"} {
		assert.Equal(t, want, typeName(in), in)
	}
}
