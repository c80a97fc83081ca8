package hooks

import (
	"strings"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/text"
)

// assignSlug derives r's slug from its source field when the slug is empty,
// suffixing -2, -3… on collision, or validates an explicit one without
// rewriting it (a taken explicit slug is a 400, not a silent suffix). A slug is
// derived once: later edits of the source keep it.
func assignSlug(app core.App, r *core.Record, source, fallback string) error {
	slug := strings.TrimSpace(r.GetString("slug"))
	if slug == "" {
		base := text.Slugify(r.GetString(source))
		if base == "" {
			base = fallback
		}
		free, err := freeSlug(app, r, base)
		if err != nil {
			return err
		}
		r.Set("slug", free)
		return nil
	}
	if !changed(r, "slug") {
		return nil
	}
	if !text.ValidSlug(slug) {
		return validation.Errors{"slug": validation.NewError("validation_invalid_slug",
			"Use lowercase letters, digits and single hyphens (at most 200 characters).")}
	}
	taken, err := slugsLike(app, r, slug, false)
	if err != nil {
		return err
	}
	if taken[slug] {
		return validation.Errors{"slug": validation.NewError("validation_not_unique", "The slug is already in use.")}
	}
	r.Set("slug", slug)
	return nil
}

// freeSlug returns base or the first free base-N, reading the taken ones in one query.
func freeSlug(app core.App, r *core.Record, base string) (string, error) {
	taken, err := slugsLike(app, r, base, true)
	if err != nil {
		return "", err
	}
	candidate := base
	for n := 2; taken[candidate]; n++ {
		candidate = text.WithSuffix(base, n)
		if !strings.HasPrefix(candidate, base+"-") {
			// WithSuffix trimmed the base to fit (an 80-character base gives
			// a 78-character one plus "-2"): the prefix query did not cover
			// these, so check each one directly.
			more, err := slugsLike(app, r, candidate, false)
			if err != nil {
				return "", err
			}
			for k := range more {
				taken[k] = true
			}
		}
	}
	return candidate, nil
}

// slugsLike returns the slugs of other records equal to s (and, with prefix,
// starting with "s-"). Slugs hold only [a-z0-9-], and '.' sorts right after
// '-' and before every digit and letter, so [s, s+".") is exactly s and its
// "s-…" extensions: a range the unique slug index answers, where a LIKE would
// scan the whole table (and every body in it) on each insert.
func slugsLike(app core.App, r *core.Record, s string, prefix bool) (map[string]bool, error) {
	q := app.DB().Select("slug").From(r.Collection().Name).
		AndWhere(dbx.NewExp("id != {:id}", dbx.Params{"id": r.Id}))
	if prefix {
		q.AndWhere(dbx.NewExp("slug >= {:lo} AND slug < {:hi}", dbx.Params{"lo": s, "hi": s + "."}))
	} else {
		q.AndWhere(dbx.HashExp{"slug": s})
	}
	var slugs []string
	if err := q.Column(&slugs); err != nil {
		return nil, err
	}
	taken := make(map[string]bool, len(slugs))
	for _, v := range slugs {
		taken[v] = true
	}
	return taken, nil
}
