package apidocs

import (
	"fmt"
	"strings"

	"lectern/internal/search"
)

// writeSearch writes the types of GET /api/search (internal/search): its
// query parameters, its answer, and a hit per type whose record is the slim
// one the server sends without ?fields, so that reading a field a slim hit
// lacks (a post's body) is a type error. Nothing when the indexed
// collections are missing.
func writeSearch(w *tsWriter, m *model) {
	names := []string{"posts", "courses", "lessons"}
	for _, n := range names {
		if m.byName(n) == nil {
			return
		}
	}
	courses := m.byName("courses")
	opts := func(field string) string {
		if courses.Fields.GetByName(field) == nil {
			return "string"
		}
		return "Courses" + typeName(field) + "Options"
	}
	w.line("// --- GET /api/search")
	w.line("//   const res = await pb.send<SearchResult>(\"/api/search\", { query: { q: \"kubernetes\" } satisfies SearchParams });")
	w.line("//   for (const hit of res.items) if (hit.type === \"courses\") hit.record.ratingAvg;")
	w.line("")
	w.doc("The collections /api/search searches: a hit's type.")
	w.line(`export type SearchType = "posts" | "courses" | "lessons";`)
	w.line("")
	w.doc("The query parameters of GET /api/search. A bad value is a 400 naming the parameter.")
	w.line("export type SearchParams = {")
	w.field("q", "string", false, "The words to find (all of them), at most 200 bytes.")
	w.field("type", "SearchType", true, "Only matches of this collection; without it the three are merged by score.")
	w.field("page", "number", true, "From 1 (default) to 500.")
	w.field("perPage", "number", true, "From 1 to 100; 20 by default.")
	w.field("mode", opts("mode"), true, "Courses only (implies type courses).")
	w.field("level", opts("level"), true, "Courses only (implies type courses).")
	w.field("minRating", "number", true, "Courses only: at least this ratingAvg, 0–5.")
	w.field("fields", "string", true, "The keys of each hit (`type,id,snippet`, `*`, `record.*`, `record.body:excerpt(200)`); the answer's items are then SearchHitPicked. Without it hits are slim (SearchHit).")
	w.field("expand", "string", true, "Relations to expand in each hit's record, as for the records API.")
	w.line("};")
	w.line("")

	hits := make([]string, 0, len(names))
	for _, n := range names {
		c := m.byName(n)
		tn := typeName(n)
		var keys []string
		for _, f := range search.SlimRecordFields(n) {
			if f == "id" || f == "collectionId" || f == "collectionName" || c.Fields.GetByName(f) != nil ||
				f == "expand" && expandType(m, c) != "" {
				keys = append(keys, fmt.Sprintf("%q", f))
			}
		}
		w.doc(fmt.Sprintf("A `%s` search hit's record without ?fields: what a results page shows, never the body.", n))
		w.line(fmt.Sprintf("export type %sSearchRecord = Pick<%sRecord, %s>;", tn, tn, strings.Join(keys, " | ")))
		w.line("")
		hits = append(hits, tn+"SearchHit")
		w.doc(fmt.Sprintf("A `%s` match as /api/search sends it without ?fields.", n))
		w.line(fmt.Sprintf("export type %sSearchHit = {", tn))
		w.field("type", fmt.Sprintf("%q", n), false, "")
		w.field("id", "RecordIdString", false, "")
		w.field("score", "number", false, "Relevance: higher is better.")
		w.field("snippet", "string", false, "HTML-escaped text with the matched words in <mark>…</mark>, the only tags: safe to set as innerHTML once checked, never the record's own HTML.")
		w.field("record", tn+"SearchRecord", false, "")
		w.line("};")
		w.line("")
	}
	w.doc("A match without ?fields: narrow on type to read its record (hit.type === \"courses\" ? hit.record.ratingAvg : …).")
	w.line("export type SearchHit = " + strings.Join(hits, " | ") + ";")
	w.line("")
	picked := make([]string, len(names))
	for i, n := range names {
		picked[i] = fmt.Sprintf("{ type?: %q; id?: RecordIdString; score?: number; snippet?: string; record?: Partial<%sRecord> }", n, typeName(n))
	}
	w.doc("A match with ?fields: only the keys asked for, the record full (as the records API returns it) before picking.")
	w.line("export type SearchHitPicked = " + strings.Join(picked, " | ") + ";")
	w.line("")
	ratings := []string{`"1"`, `"2"`, `"3"`, `"4"`, `"4.5"`}
	w.doc("Counts of the matches by value (each facet applies every filter but its own).")
	w.line("export type SearchFacets = {")
	w.field("type", "Record<SearchType, number>", false, "")
	w.field("mode", "Record<"+opts("mode")+", number>", false, "Courses only.")
	w.field("level", "Record<"+opts("level")+", number>", false, "Courses only.")
	w.field("minRating", "Record<"+strings.Join(ratings, " | ")+", number>", false, "Courses rated at least this.")
	w.line("};")
	w.line("")
	w.doc("The answer of GET /api/search; SearchResult<SearchHitPicked> when asking with ?fields.")
	w.line("export type SearchResult<H = SearchHit> = {")
	w.field("page", "number", false, "")
	w.field("perPage", "number", false, "")
	w.field("totalItems", "number", false, "A lower bound when approximate.")
	w.field("totalPages", "number", false, "")
	w.field("items", "H[]", false, "")
	w.field("facets", "SearchFacets", false, "")
	w.field("correctedQuery", "string", true, "Set when nothing matched as typed and these are the results of this spelling (\"Did you mean …\").")
	w.field("approximate", "boolean", false, "Counts stopped at 10,000 in a collection: totals and facets are lower bounds.")
	w.field("approximateRanking", "boolean", false, "More than 2,000 matches in a collection: only candidates were ranked.")
	w.line("};")
	w.line("")
}
