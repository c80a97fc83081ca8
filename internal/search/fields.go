package search

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/tools/picker"
	"github.com/pocketbase/pocketbase/tools/tokenizer"
)

// A hit carries by default what a results page shows, not its whole record:
// a post's body alone made a 100-hit page weigh 282 KB, and the snippet
// already shows the matched text. The fields query parameter asks for other
// keys, with PocketBase's own picker (the records API's fields), applied to
// each hit — not to the whole answer, whose page, totals and facets always
// come — as PocketBase applies it to the items of a list:
//
//	fields=type,id,snippet             three keys per hit
//	fields=*                           every key, the whole record
//	fields=id,record.title,record.body the record's title and body only
//	fields=*,record.body:excerpt(200)  everything, the body cut short
//
// The record a hit starts from is the record as the list API returns it to
// the caller (hidden fields left out, expand applied, emails hidden), so a
// hit never carries more than the records API would show.

// maxFieldsBytes bounds a fields expression: every hit is picked with it.
const maxFieldsBytes = 1000

// hitKeys are the keys of a hit, the roots a fields path may start with.
var hitKeys = []string{"type", "id", "score", "snippet", "record"}

// slimRecord lists the record fields a hit carries without fields, per type:
// what a result links to and shows (title, slug, excerpt or summary, dates,
// ratings, course facts), never the body. expand is kept so that a client
// asking for expand=author gets it.
var slimRecord = map[string][]string{
	"posts": {"id", "collectionId", "collectionName", "title", "slug", "excerpt", "cover", "author", "topics",
		"status", "publishedAt", "readingMinutes", "commentsCount", "created", "updated", "expand"},
	"courses": {"id", "collectionId", "collectionName", "title", "slug", "summary", "cover", "instructor", "topics",
		"mode", "level", "durationDays", "price", "currency", "status", "publishedAt",
		"ratingAvg", "ratingCount", "enrollmentsCount", "created", "updated", "expand"},
	"lessons": {"id", "collectionId", "collectionName", "course", "title", "position", "durationMinutes",
		"freePreview", "created", "updated", "expand"},
}

// SlimFields returns the fields expression a hit of a collection is picked
// with when the request has no fields parameter.
func SlimFields(collection string) string {
	parts := []string{"type", "id", "score", "snippet"}
	for _, f := range slimRecord[collection] {
		parts = append(parts, "record."+f)
	}
	return strings.Join(parts, ",")
}

// SlimRecordFields returns the record fields of a slim hit of a collection.
func SlimRecordFields(collection string) []string { return slices.Clone(slimRecord[collection]) }

// parseFields checks a fields expression: PocketBase's picker syntax
// (comma-separated dot paths, "*", ":modifier(args)"), each path starting
// with a key a hit has — "title" alone would pick nothing from every hit
// (it is record.title), which a 200 with empty hits would hide.
func parseFields(raw string) (string, error) {
	invalid := func(msg string) error {
		return validation.NewError("validation_invalid_fields", msg)
	}
	if len(raw) > maxFieldsBytes {
		return "", invalid("Must be at most " + strconv.Itoa(maxFieldsBytes) + " bytes.")
	}
	paths, err := tokenizer.NewFromString(raw).ScanAll()
	if err != nil || len(paths) == 0 {
		return "", invalid("Must be a comma-separated list of fields.")
	}
	for _, p := range paths {
		path, _, _ := strings.Cut(strings.TrimSpace(p), ":")
		root, _, _ := strings.Cut(path, ".")
		if root != "*" && !slices.Contains(hitKeys, root) {
			return "", invalid("Unknown field " + quote(path) + ": a hit has type, id, score, snippet and record (record.title, record.*, …).")
		}
		if root == "*" && path != "*" {
			return "", invalid("Use * alone or record.* for every field of the record.")
		}
	}
	// The picker parses the modifiers (an unknown one, bad arguments).
	if _, err := picker.Pick(map[string]any{}, raw); err != nil && !errors.Is(err, picker.ErrInvalidModifierData) {
		return "", invalid("Invalid field modifier: " + err.Error() + ".")
	}
	return raw, nil
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}

// pickHits returns the hits as JSON values with the fields asked for, or
// each type's slim fields.
func pickHits(items []Item, fields string) ([]any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		f := fields
		if f == "" {
			f = SlimFields(it.Type)
		}
		v, err := picker.Pick(it, f)
		if err != nil && !errors.Is(err, picker.ErrInvalidModifierData) {
			return nil, err
		}
		if err != nil {
			// A modifier that does not fit a value (excerpt of a number):
			// PocketBase's own JSON answers keep the value as it was.
			if v, err = picker.Pick(it, stripModifiers(f)); err != nil {
				return nil, err
			}
		}
		out[i] = v
	}
	return out, nil
}

func stripModifiers(fields string) string {
	paths, _ := tokenizer.NewFromString(fields).ScanAll()
	for i, p := range paths {
		paths[i], _, _ = strings.Cut(strings.TrimSpace(p), ":")
	}
	return strings.Join(paths, ",")
}
