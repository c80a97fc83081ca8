package search

import (
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"

	validation "github.com/pocketbase/ozzo-validation/v4"
)

// Paging and filter limits of GET /api/search.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
	// MaxPage bounds how deep a client may page: past a few hundred pages of
	// relevance-ranked results nobody reads, and each page costs its offset.
	MaxPage = 500
)

// Course select values, as in the courses collection.
var (
	courseModes  = []string{"online", "onsite", "hybrid"}
	courseLevels = []string{"beginner", "intermediate", "advanced"}
	// ratingSteps are the minRating facet's thresholds ("4 and up").
	ratingSteps = []float64{1, 2, 3, 4, 4.5}
)

// Params is a parsed, validated search request.
type Params struct {
	Query     Query
	Type      string // "" (all), posts, courses or lessons
	Page      int
	PerPage   int
	Mode      string
	Level     string
	MinRating float64
	HasRating bool
	// Fields is the hit fields expression (fields.go); "" for the default,
	// slim hits.
	Fields string
}

// courseFiltered reports whether any course-only filter is set.
func (p Params) courseFiltered() bool { return p.Mode != "" || p.Level != "" || p.HasRating }

// includes reports whether results of a collection are asked for.
func (p Params) includes(collection string) bool { return p.Type == "" || p.Type == collection }

// ParseParams validates the query string of a search request. Every problem
// is reported under the name of its parameter, PocketBase style.
func ParseParams(v url.Values) (Params, error) {
	p := Params{Page: 1, PerPage: DefaultPerPage}
	errs := validation.Errors{}

	q, err := ParseQuery(v.Get("q"))
	if v.Get("q") == "" {
		errs["q"] = validation.NewError("validation_required", "Cannot be blank.")
	} else if err != nil {
		errs["q"] = queryError(err)
	}
	p.Query = q

	if t := v.Get("type"); t != "" {
		if _, ok := sourceOf(t); !ok {
			errs["type"] = validation.NewError("validation_invalid_type", "Must be one of posts, courses or lessons.")
		}
		p.Type = t
	}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPage {
			errs["page"] = validation.NewError("validation_invalid_page", "Must be a whole number from 1 to "+strconv.Itoa(MaxPage)+".")
		}
		p.Page = n
	}
	if s := v.Get("perPage"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPerPage {
			errs["perPage"] = validation.NewError("validation_invalid_per_page", "Must be a whole number from 1 to "+strconv.Itoa(MaxPerPage)+".")
		}
		p.PerPage = n
	}
	if v.Get("fields") != "" {
		f, err := parseFields(v.Get("fields"))
		if err != nil {
			errs["fields"] = err
		}
		p.Fields = f
	}
	if s := v.Get("mode"); s != "" {
		if !slices.Contains(courseModes, s) {
			errs["mode"] = validation.NewError("validation_invalid_mode", "Must be one of online, onsite or hybrid.")
		}
		p.Mode = s
	}
	if s := v.Get("level"); s != "" {
		if !slices.Contains(courseLevels, s) {
			errs["level"] = validation.NewError("validation_invalid_level", "Must be one of beginner, intermediate or advanced.")
		}
		p.Level = s
	}
	if s := v.Get("minRating"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 5 {
			errs["minRating"] = validation.NewError("validation_invalid_min_rating", "Must be a number from 0 to 5.")
		}
		p.MinRating, p.HasRating = f, true
	}
	if p.courseFiltered() {
		switch p.Type {
		case "":
			p.Type = "courses"
		case "courses":
		default:
			if _, bad := errs["type"]; !bad {
				errs["type"] = validation.NewError("validation_type_conflict", "The mode, level and minRating filters apply to courses only.")
			}
		}
	}
	if len(errs) > 0 {
		return Params{}, errs
	}
	return p, nil
}

func queryError(err error) validation.Error {
	switch {
	case errors.Is(err, ErrQueryTooLong):
		return validation.NewError("validation_length_too_long", "Must be at most "+strconv.Itoa(MaxQueryBytes)+" bytes.")
	case errors.Is(err, ErrQueryTooMany):
		return validation.NewError("validation_too_many_words", "Use at most "+strconv.Itoa(MaxQueryWords)+" words.")
	case errors.Is(err, ErrQueryEncoding):
		return validation.NewError("validation_invalid_utf8", "Must be valid UTF-8 text.")
	case errors.Is(err, ErrQueryControl):
		return validation.NewError("validation_invalid_characters", "Must not contain control characters.")
	default:
		return validation.NewError("validation_no_words", "Search for at least one word.")
	}
}
