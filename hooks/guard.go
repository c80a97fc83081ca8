package hooks

import (
	"encoding/json/v2"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// fieldPolicy says which fields a client may not write, per DATA_MODEL.md.
// Client values for them are ignored (the request succeeds with the server's
// value) so a frontend may send a whole record back.
type fieldPolicy struct {
	// server fields are computed; a client value is dropped on create and update.
	server []string
	// fixed fields are chosen on create and never change.
	fixed []string
	// owner is set from the signed-in user on create and never changes; only a
	// superuser (the dashboard, where there is no signed-in user) picks it.
	owner string
	// adminOwner lets admins pick the owner too (an admin enrolls a student).
	adminOwner bool
}

var policies = map[string]fieldPolicy{
	"users":       {server: []string{"emailVisibility"}},
	"topics":      {server: []string{"slug"}},
	"posts":       {server: []string{"readingMinutes", "commentsCount"}, owner: "author"},
	"comments":    {server: []string{"edited"}, fixed: []string{"post", "parent"}, owner: "author"},
	"courses":     {server: []string{"ratingAvg", "ratingCount", "enrollmentsCount"}, owner: "instructor"},
	"lessons":     {fixed: []string{"course"}},
	"enrollments": {server: []string{"progress"}, fixed: []string{"course"}, owner: "user", adminOwner: true},
	"reviews":     {fixed: []string{"course"}, owner: "user"},
}

func registerGuards(app core.App) {
	app.OnRecordCreateRequest().BindFunc(func(e *core.RecordRequestEvent) error {
		p, ok := policies[e.Collection.Name]
		if !ok {
			return e.Next()
		}
		if err := checkTypes(e, p); err != nil {
			return err
		}
		if err := normalizeURLs(e); err != nil {
			return err
		}
		who := callerOf(e.RequestEvent)
		blank := core.NewRecord(e.Collection)
		for _, f := range p.server {
			e.Record.Set(f, blank.Get(f))
		}
		picks := who.superuser || (p.adminOwner && who.admin())
		if p.owner != "" && (!picks || e.Record.GetString(p.owner) == "") {
			e.Record.Set(p.owner, who.id)
		}
		return e.Next()
	})

	app.OnRecordUpdateRequest().BindFunc(func(e *core.RecordRequestEvent) error {
		p, ok := policies[e.Collection.Name]
		if !ok {
			return e.Next()
		}
		if err := checkTypes(e, p); err != nil {
			return err
		}
		if err := normalizeURLs(e); err != nil {
			return err
		}
		who := callerOf(e.RequestEvent)
		orig := e.Record.Original()
		keep := append(append([]string{}, p.server...), p.fixed...)
		if p.owner != "" && !who.superuser {
			keep = append(keep, p.owner)
		}
		for _, f := range keep {
			e.Record.Set(f, orig.Get(f))
		}
		return e.Next()
	})
}

// checkTypes refuses the JSON values PocketBase would silently coerce into lost
// or invented data: an object or array for a scalar field, a non-numeric string
// or a bool for a number. Fields the server sets are skipped: their client
// values are ignored anyway.
//
// It decodes the request body again because e.RequestInfo().Body already holds
// the values PocketBase coerced for the record ({"x":1} has become "" by then).
// The router makes the body re-readable, batch sub-requests included.
func checkTypes(e *core.RecordRequestEvent, p fieldPolicy) error {
	body, err := clientValues(e)
	if err != nil {
		return apis.NewBadRequestError("Failed to read the submitted data.", nil)
	}
	skip := map[string]bool{p.owner: true}
	for _, f := range p.server {
		skip[f] = true
	}
	errs := validation.Errors{}
	for key, v := range body {
		// "field+", "+field" and "field-" are PocketBase's modifiers of field.
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(key, "+"), "+"), "-")
		field := e.Collection.Fields.GetByName(name)
		if field == nil || skip[name] || v == nil {
			continue
		}
		if msg := typeMismatch(field, v); msg != "" {
			errs[name] = validation.NewError("validation_invalid_type", msg)
		}
	}
	if len(errs) > 0 {
		return apis.NewBadRequestError("Invalid value type.", errs)
	}
	return nil
}

// clientValues decodes the request body as the client sent it. A JSON body
// is decoded here in one pass, with the options of PocketBase's own decoder
// (e.BindBody), from the bytes read once: PocketBase's decoder stops after
// the first JSON value, so `{} garbage` would pass as {}, and json.Unmarshal
// refuses anything but one whole valid document. Other bodies (multipart,
// forms) go through e.BindBody.
func clientValues(e *core.RecordRequestEvent) (map[string]any, error) {
	body := map[string]any{}
	if !strings.HasPrefix(e.Request.Header.Get("Content-Type"), "application/json") || e.Request.ContentLength == 0 {
		return body, e.BindBody(&body)
	}
	raw, err := io.ReadAll(e.Request.Body)
	// the body-limit wrapper latches EOF; rewind it (and the buffer under it)
	if rr, ok := e.Request.Body.(router.Rereader); ok {
		rr.Reread()
	}
	if err != nil {
		return nil, err
	}
	return body, json.Unmarshal(raw, &body, json.MatchCaseInsensitiveNames(true))
}

// typeMismatch returns why v cannot be stored in field without losing or
// inventing data, or "" when it can.
func typeMismatch(field core.Field, v any) string {
	switch v.(type) {
	case map[string]any:
		switch field.(type) {
		case *core.JSONField, *core.GeoPointField, *core.FileField:
			return ""
		}
		return "Must be a " + fieldKind(field) + ", not an object."
	case []any:
		switch f := field.(type) {
		case *core.SelectField:
			if f.IsMultiple() {
				return ""
			}
		case *core.RelationField:
			// a one-element list for a single relation loses nothing; a longer one would
			if f.IsMultiple() || len(v.([]any)) <= 1 {
				return ""
			}
		case *core.FileField, *core.JSONField:
			return ""
		}
		return "Must be a " + fieldKind(field) + ", not an array."
	case bool:
		if _, ok := field.(*core.NumberField); ok {
			return "Must be a number, not a boolean."
		}
	case string:
		if _, ok := field.(*core.NumberField); ok {
			s := strings.TrimSpace(v.(string))
			if s == "" {
				return ""
			}
			n, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				return "Must be a number."
			}
		}
	}
	return ""
}

func fieldKind(field core.Field) string {
	switch f := field.(type) {
	case *core.NumberField:
		return "number"
	case *core.BoolField:
		return "boolean"
	case *core.SelectField:
		if f.IsMultiple() {
			return "list of values"
		}
		return "single value"
	case *core.RelationField:
		return "record id"
	default:
		return "string"
	}
}

// urlUnsafe are characters that are never valid unencoded in a URL and that
// break out of an HTML attribute when a frontend renders the value as a link.
var urlUnsafe = strings.NewReplacer(`"`, "%22", "<", "%3C", ">", "%3E", "'", "%27", "`", "%60", " ", "%20", "\\", "%5C")

// normalizeURLs accepts only absolute http(s) URLs in URL fields
// (users.website, lessons.videoUrl) and percent-encodes the characters that
// could break out of an href (quotes, angle brackets, spaces), leaving the rest
// as written (an IDN host stays readable); anything else is a 400 naming the field.
func normalizeURLs(e *core.RecordRequestEvent) error {
	errs := validation.Errors{}
	for _, field := range e.Collection.Fields {
		if _, ok := field.(*core.URLField); !ok {
			continue
		}
		name := field.GetName()
		v := strings.TrimSpace(e.Record.GetString(name))
		if v == "" || !changed(e.Record, name) {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs[name] = validation.NewError("validation_invalid_url", "Must be an absolute http or https URL.")
			continue
		}
		e.Record.Set(name, urlUnsafe.Replace(v))
	}
	if len(errs) > 0 {
		return apis.NewBadRequestError("Invalid URL.", errs)
	}
	return nil
}
