package hooks

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"lectern/internal/text"
)

// registerTextClean strips control and bidi-override characters from every
// text and rich-text field of Lectern's collections on every save (API,
// dashboard, seed, migrations), right before validation and the write. See
// text.StripControls for why: a name like "Hi \u202egnp.exe" spoofs, ESC
// sequences reach terminals.
func registerTextClean(app core.App) {
	handler := &hook.Handler[*core.RecordEvent]{
		Func: func(e *core.RecordEvent) error {
			cleanTextFields(e.Record)
			return e.Next()
		},
		// After the per-collection hooks (priority 0): they turn comment and
		// review bodies, excerpts and summaries into plain text and sanitize
		// HTML, and both decode entities, so "&#x202e;" only becomes the
		// character there. Stripping after them catches it.
		Priority: 100,
	}
	app.OnRecordCreate(lecternCollections...).Bind(handler)
	app.OnRecordUpdate(lecternCollections...).Bind(handler)
}

// lecternCollections are the collections of the data model.
var lecternCollections = []string{"users", "topics", "posts", "comments", "courses", "lessons", "enrollments", "reviews"}

// cleanTextFields rewrites the text and editor fields of r that hold
// characters text.StripControls removes; clean values are left untouched.
func cleanTextFields(r *core.Record) {
	for _, f := range r.Collection().Fields {
		switch f := f.(type) {
		case *core.TextField:
			if f.Pattern != "" {
				continue // slugs and codes: the pattern refuses them with a 400 instead
			}
		case *core.EditorField:
		default:
			continue
		}
		name := f.GetName()
		v, ok := r.GetRaw(name).(string)
		if !ok {
			continue
		}
		if !r.IsNew() && v == r.Original().GetString(name) {
			continue // unchanged: it was cleaned when stored
		}
		if clean := text.StripControls(v); clean != v {
			r.SetRaw(name, clean)
		}
	}
}
