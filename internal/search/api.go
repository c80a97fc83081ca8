package search

import (
	"cmp"
	"encoding/json/jsontext"
	"encoding/json/v2"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Response is the body of GET /api/search.
type Response struct {
	Page       int `json:"page"`
	PerPage    int `json:"perPage"`
	TotalItems int `json:"totalItems"`
	TotalPages int `json:"totalPages"`
	// Items are the hits, each an object with the keys of Item that the
	// fields parameter picks (fields.go), by default its type's slim ones.
	Items  []any  `json:"items"`
	Facets Facets `json:"facets"`
	// Approximate is set when a collection had more than CountCap matches:
	// totalItems, totalPages and the facets are then lower bounds (show
	// "10,000+"). Counts below the cap are exact and leave it unset.
	Approximate bool `json:"approximate"`
	// ApproximateRanking is set when a collection had more than RankLimit
	// matches: the items are then ranked among the newest matches and the
	// title matches, not among all of them (see RankLimit).
	ApproximateRanking bool `json:"approximateRanking"`
	// CorrectedQuery is set when the search as typed found nothing and a
	// typo-corrected one found records this caller may view; the results
	// are then those of the corrected search.
	CorrectedQuery string `json:"correctedQuery,omitempty"`
}

// Item is one result: the record as the list API returns it to this caller,
// its type (collection), relevance score (higher is better) and an
// HTML-escaped snippet with the matched words in <mark>.
type Item struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Score   float64      `json:"score"`
	Snippet string       `json:"snippet"`
	Record  *core.Record `json:"record"`
}

// handler serves GET /api/search.
type handler struct {
	vocab *vocabCache
}

func (h *handler) serve(e *core.RequestEvent) error {
	p, err := ParseParams(e.Request.URL.Query())
	if err != nil {
		return apis.NewBadRequestError("Invalid search parameters.", err)
	}
	info, err := e.RequestInfo()
	if err != nil {
		return apis.NewBadRequestError("", err)
	}
	en := engine{app: e.App, info: info, stats: &pubStats{}}

	groups := make([][]string, len(p.Query.Words))
	for i, w := range p.Query.Words {
		groups[i] = []string{w.Norm}
	}
	res, err := en.run(p, groups)
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("search: %w", err))
	}

	// Nothing as typed: try the nearest indexed words. Only the caller's
	// visible results count, so a word found only in a draft is never
	// suggested to someone who cannot read the draft.
	var cands [][]string
	corrected := false
	if res.total == 0 {
		v, err := h.vocab.get(e.App)
		if err != nil {
			return e.InternalServerError("", fmt.Errorf("search: %w", err))
		}
		cands = make([][]string, len(p.Query.Words))
		cgroups := make([][]string, len(p.Query.Words))
		var spellErr error
		spellings := func(term string) []string {
			s, err := v.spellings(e.App, term)
			spellErr = cmp.Or(spellErr, err)
			return s
		}
		for i, w := range p.Query.Words {
			cands[i] = rankCorrections(w, v.candidates(w), spellings)
			cgroups[i] = append([]string{w.Norm}, cands[i]...)
			corrected = corrected || len(cands[i]) > 0
		}
		if spellErr != nil {
			return e.InternalServerError("", fmt.Errorf("search spellings: %w", spellErr))
		}
		if corrected {
			cres, err := en.run(p, cgroups)
			if err != nil {
				return e.InternalServerError("", fmt.Errorf("search corrected: %w", err))
			}
			if cres.total > 0 {
				res = cres
			} else {
				corrected = false
			}
		}
	}

	items, err := h.items(e, res.hits)
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("search records: %w", err))
	}
	stems := map[string]bool{}
	for i, w := range p.Query.Words {
		stems[w.Stem] = true
		if corrected {
			for _, c := range cands[i] {
				stems[c] = true
			}
		}
	}
	for i := range items {
		items[i].Snippet = snippetOf(items[i].Record, stems, info.HasSuperuserAuth())
	}

	picked, err := pickHits(items, p.Fields)
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("search fields: %w", err))
	}
	out := Response{
		Page:               p.Page,
		PerPage:            p.PerPage,
		TotalItems:         res.total,
		TotalPages:         int(math.Ceil(float64(res.total) / float64(p.PerPage))),
		Items:              picked,
		Facets:             res.facets,
		Approximate:        res.approximate,
		ApproximateRanking: res.approximateRanking,
	}
	if corrected {
		out.CorrectedQuery = correctedQuery(p.Query, cands, items, info.HasSuperuserAuth())
	}
	// Not e.JSON: it would apply fields to the whole answer (whose keys are
	// page, items, …), where they were applied to each hit above. Hits are
	// maps now: Deterministic sorts their keys, so one answer is always the
	// same bytes.
	body, err := json.Marshal(out, jsontext.AllowInvalidUTF8(true), json.Deterministic(true))
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("search encode: %w", err))
	}
	return e.Blob(http.StatusOK, "application/json", body)
}

// items loads the records of a page of hits, enriched per collection as the
// list API enriches them (expand, hidden fields, email visibility), in hit
// order. A record deleted since it was ranked is left out.
func (h *handler) items(e *core.RequestEvent, hits []Hit) ([]Item, error) {
	byType := map[string][]string{}
	for _, hit := range hits {
		byType[hit.Type] = append(byType[hit.Type], hit.ID)
	}
	records := map[string]*core.Record{}
	for typ, ids := range byType {
		recs, err := e.App.FindRecordsByIds(typ, ids)
		if err != nil {
			return nil, err
		}
		if err := apis.EnrichRecords(e, recs); err != nil {
			return nil, err
		}
		for _, r := range recs {
			records[typ+"/"+r.Id] = r
		}
	}
	items := make([]Item, 0, len(hits))
	for _, hit := range hits {
		r, ok := records[hit.Type+"/"+hit.ID]
		if !ok {
			continue
		}
		items = append(items, Item{Type: hit.Type, ID: hit.ID, Score: -hit.Rank, Record: r})
	}
	return items, nil
}

// textFields returns the visible text of a record's indexed fields, body
// first (where a match says most), hidden fields left out for non-superusers.
func textFields(r *core.Record, superuser bool) []string {
	s, ok := sourceOf(r.Collection().Name)
	if !ok {
		return nil
	}
	get := func(field string) string {
		if field == "" {
			return ""
		}
		if f := r.Collection().Fields.GetByName(field); f == nil || (f.GetHidden() && !superuser) {
			return ""
		}
		return r.GetString(field)
	}
	d := s.docOf(get)
	return []string{d.body, d.summary, d.title}
}

// snippetOf highlights the first of body, summary and title that holds a
// matched word, or shows the start of the first non-empty one.
func snippetOf(r *core.Record, stems map[string]bool, superuser bool) string {
	fields := textFields(r, superuser)
	for _, f := range fields {
		for _, t := range Tokens(f) {
			if stems[t.Stem] {
				return Highlight(f, stems, SnippetWords)
			}
		}
	}
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return Highlight(f, stems, SnippetWords)
		}
	}
	return ""
}

// correctedQuery spells the corrected search with words taken from the
// results themselves (records the caller may view): for each word, the
// result word nearest to it as typed among those of its candidates, the
// first found on a tie; a word found as typed is kept.
func correctedQuery(q Query, cands [][]string, items []Item, superuser bool) string {
	out := make([]string, len(q.Words))
	changed := false
	for i, w := range q.Words {
		out[i] = w.Norm
		if len(cands[i]) == 0 {
			continue
		}
		typed := []rune(w.Norm)
		best, bestDist := "", math.MaxInt
	search:
		for _, it := range items {
			for _, f := range textFields(it.Record, superuser) {
				for _, t := range Tokens(f) {
					if t.Stem == w.Stem {
						best = ""
						break search
					}
					if slices.Contains(cands[i], t.Stem) {
						if d := OSA(string(typed), t.Norm); d < bestDist {
							best, bestDist = t.Norm, d
						}
					}
				}
			}
		}
		if best != "" {
			out[i], changed = best, true
		}
	}
	if !changed {
		return ""
	}
	return strings.Join(out, " ")
}
