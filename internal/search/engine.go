package search

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"golang.org/x/sync/errgroup"
)

// errNotListable: the caller may not list this collection at all (a
// superuser-only list rule); it simply contributes nothing.
var errNotListable = errors.New("collection not listable")

// Hit is one ranked match: the record's collection, id and bm25 rank (lower
// is better, as SQLite returns it). A hit past a bounded ranking's candidates
// (see RankLimit) is ordered by its index rowid instead, newest first, after
// every ranked hit.
type Hit struct {
	Type string
	ID   string
	Rank float64

	unranked  bool  // past the candidates of a bounded ranking
	rowid     int64 // index rowid, the order of unranked hits
	needScore bool  // an unranked hidden-index hit, scored once on the page
}

// Facets are the counts next to a result list. Each facet applies every
// filter but its own, so it shows what choosing one of its values would
// give. mode, level and minRating count courses only.
type Facets struct {
	Type      Counts `json:"type"`
	Mode      Counts `json:"mode"`
	Level     Counts `json:"level"`
	MinRating Counts `json:"minRating"`
}

// Counts are a facet's counts by value. They encode with their keys in
// order, so one answer is always the same bytes (PocketBase's JSON encoder
// writes a map in no fixed order).
type Counts map[string]int

// MarshalJSON writes the counts as a JSON object, keys sorted.
func (c Counts) MarshalJSON() ([]byte, error) {
	keys := slices.Sorted(maps.Keys(c))
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		kj, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b = append(b, kj...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(c[k]), 10)
	}
	return append(b, '}'), nil
}

// CountCap bounds how many matches of one collection are counted. A word
// found in most posts would otherwise make every search walk all of them
// just to print a total; past the cap the total (and the type facet) is a
// lower bound and the answer says "approximate". A variable for tests.
var CountCap = 10_000

// RankLimit is how many matches of one collection (that the caller may
// list) are ranked exactly: up to it, bm25 scores every match and the
// results are exactly the best ones. bm25 reads every scored match's row
// sizes and positions — for a word in 99,000 of 100,000 posts 0.2–0.5 s, more
// than PocketBase's own list filter takes (bench/search). Past RankLimit it
// scores only the candidates: the RankCandidates newest matches the caller
// may list, and up to RankCandidates older ones with a searched word in the
// title (worth ten body words, so an old title match is not lost). The
// candidates are ranked by bm25 then id, the caller's other matches follow
// newest first, and the answer says "approximateRanking". Within one search every
// match shares the same IDF, so what the bound gives up is mostly term
// frequency and length among older body-only matches. Variables for tests.
var (
	RankLimit      = 2_000
	RankCandidates = 1_000
)

// result is one executed search: totals, facets and the hits of a page.
type result struct {
	total       int
	approximate bool // a count stopped at CountCap
	// approximateRanking: a collection had more than RankLimit matches
	approximateRanking bool
	facets             Facets
	hits               []Hit
}

// engine runs a search for one caller: every query is the collection's own
// records joined to the FTS matches, with the collection's LIST rule applied
// by PocketBase's rule resolver, exactly as the list API applies it.
type engine struct {
	app   core.App
	info  *core.RequestInfo
	stats *pubStats // the public index's bm25 statistics, for hidden hits
}

// indexes lists the indexes to search for this caller, public first
// (true): a guest may list nothing of the hidden index, by its definition.
func (en engine) indexes() []bool {
	if en.info == nil || en.info.Auth == nil {
		return []bool{true}
	}
	return []bool{true, false}
}

// matchOpts shape the FTS subquery of matches.
type matchOpts struct {
	hidden bool    // the hidden index rather than the public one
	ranked bool    // add the bm25 rank as m.rank (public index only)
	best   int     // with ranked: only the best (by rank, then record id), 0 for all
	from   int64   // only index rowids >= from (0: the collection's whole range)
	below  int64   // only index rowids < below (0: the collection's whole range)
	only   []int64 // only these index rowids (nil: all)
}

// matches returns the FTS matches of match in one collection, in the public
// index or (o.hidden) the hidden one, as a subquery
// aliased m, with the record id as m.rid, the index rowid as m.frow and, when
// ranked, the bm25 rank as m.rank. The rowid range lets FTS5 skip the other
// collections' entries (and, with from, every older entry) without reading
// them. Without best the subquery is flattened into the query that joins it,
// so SQLite computes bm25 only for the rows that pass the list rule, and
// ORDER BY m.frow DESC walks the index newest first and stops at the LIMIT.
func matches(s source, match string, o matchOpts) (string, dbx.Params) {
	lo, hi := s.rowids()
	if o.from > lo {
		lo = o.from
	}
	if o.below > 0 && o.below < hi {
		hi = o.below
	}
	fts := ftsOf(!o.hidden)
	params := dbx.Params{"ftsMatch": match, "ftsLo": lo, "ftsHi": hi}
	cols := `[[d.record]] AS [[rid]], {{` + fts + `}}.[[rowid]] AS [[frow]]`
	where := ``
	tail := ``
	if o.ranked && !o.hidden {
		cols += `, bm25({{` + fts + `}}, ` + strconv.FormatFloat(weightTitle, 'f', -1, 64) + `, ` +
			strconv.FormatFloat(weightSummary, 'f', -1, 64) + `, ` +
			strconv.FormatFloat(weightBody, 'f', -1, 64) + `) AS [[rank]]`
		if o.best > 0 {
			tail = ` ORDER BY [[rank]], [[d.record]] LIMIT {:ftsK}`
			params["ftsK"] = o.best
		}
	}
	if o.only != nil {
		// The unary + keeps SQLite from handing the list to FTS5 one rowid
		// at a time (each a new query, bm25's IDF recounted every time): the
		// rowids are checked as FTS5 walks the range.
		ids, _ := json.Marshal(o.only)
		where = ` AND +{{` + fts + `}}.[[rowid]] IN (SELECT [[value]] FROM json_each({:ftsOnly}))`
		params["ftsOnly"] = string(ids)
	}
	return `(SELECT ` + cols + ` FROM {{` + fts + `}} INNER JOIN {{` + docsTable + `}} [[d]] ON [[d.id]] = {{` + fts + `}}.[[rowid]]` +
		` WHERE {{` + fts + `}} MATCH {:ftsMatch} AND {{` + fts + `}}.[[rowid]] >= {:ftsLo} AND {{` + fts + `}}.[[rowid]] < {:ftsHi}` +
		where + tail + `) [[m]]`, params
}

// titleMatch narrows match to the records with at least one of the searched
// terms in the title.
func titleMatch(groups [][]string) string {
	var terms []string
	for _, g := range groups {
		terms = append(terms, g...)
	}
	oneOf := MatchGroups([][]string{terms})
	if oneOf == "" {
		return ""
	}
	return "(" + MatchGroups(groups) + ") AND {title} : (" + oneOf + ")"
}

// listable returns SELECT <selects> FROM <collection> joined to sub, the
// rows restricted to what the caller may list (applyListRule).
func (en engine) listable(name, sub string, params dbx.Params, selects ...string) (*dbx.SelectQuery, error) {
	col, err := en.app.FindCachedCollectionByNameOrId(name)
	if err != nil {
		return nil, err
	}
	q := en.app.DB().Select(selects...).From(name).
		InnerJoin(sub, dbx.NewExp("[[m.rid]] = [["+name+".id]]")).
		AndBind(params)
	if err := applyListRule(en.app, col, en.info, q); err != nil {
		return nil, err
	}
	return q, nil
}

// courseFilter applies the course-only filters to a courses query.
func courseFilter(q *dbx.SelectQuery, p Params) {
	if p.Mode != "" {
		q.AndWhere(dbx.HashExp{"courses.mode": p.Mode})
	}
	if p.Level != "" {
		q.AndWhere(dbx.HashExp{"courses.level": p.Level})
	}
	if p.HasRating {
		q.AndWhere(dbx.NewExp("[[courses.ratingAvg]] >= {:minRating}", dbx.Params{"minRating": p.MinRating}))
	}
}

// count returns how many records of a collection the caller may list match,
// counting at most CountCap (capped reports a lower bound).
func (en engine) count(s source, match string) (n int, capped bool, err error) {
	n, err = en.visible(s, match, CountCap+1)
	if n > CountCap {
		return CountCap, true, err
	}
	return n, false, err
}

// visible counts a collection's matches the caller may list, in both
// indexes, up to limit.
func (en engine) visible(s source, match string, limit int) (int, error) {
	total := 0
	for _, public := range en.indexes() {
		sub, params := matches(s, match, matchOpts{hidden: !public})
		q, err := en.listable(s.collection, sub, params, "[["+s.collection+".id]]")
		if errors.Is(err, errNotListable) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		inner := q.Limit(int64(limit - total)).Build()
		var n int
		if err := en.app.DB().NewQuery("SELECT COUNT(*) FROM (" + inner.SQL() + ")").Bind(inner.Params()).Row(&n); err != nil {
			return 0, err
		}
		if total += n; total >= limit {
			break
		}
	}
	return total, nil
}

// indexed counts a collection's matches in the public index, up to limit:
// FTS5 alone, without the list rule.
func (en engine) indexed(s source, match string, limit int) (int, error) {
	sub, params := matches(s, match, matchOpts{})
	params["ftsN"] = limit
	var n int
	err := en.app.DB().NewQuery("SELECT COUNT(*) FROM (SELECT [[frow]] FROM " + sub + " LIMIT {:ftsN})").Bind(params).Row(&n)
	return n, err
}

type courseGroup struct {
	Mode   string  `db:"mode"`
	Level  string  `db:"level"`
	Rating float64 `db:"rating"`
	N      int     `db:"n"`
}

// courseGroups counts the matching courses by (mode, level, ratingAvg):
// a few hundred groups at most, from which every course facet and the
// filtered course total are summed. Like count, it reads at most CountCap+1
// courses; capped then says the groups are lower bounds.
func (en engine) courseGroups(match string) (groups []courseGroup, capped bool, err error) {
	s, _ := sourceOf("courses")
	type key struct {
		mode, level string
		rating      float64
	}
	sums := map[key]int{}
	n := 0
	for _, public := range en.indexes() {
		sub, params := matches(s, match, matchOpts{hidden: !public})
		q, err := en.listable("courses", sub, params, "[[courses.id]]", "[[courses.mode]] AS [[mode]]",
			"[[courses.level]] AS [[level]]", "COALESCE([[courses.ratingAvg]], 0) AS [[rating]]")
		if errors.Is(err, errNotListable) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		inner := q.Limit(int64(CountCap + 1 - n)).Build()
		var part []courseGroup
		err = en.app.DB().NewQuery("SELECT [[mode]], [[level]], [[rating]], COUNT(*) AS [[n]] FROM (" + inner.SQL() +
			") GROUP BY [[mode]], [[level]], [[rating]]").Bind(inner.Params()).All(&part)
		if err != nil {
			return nil, false, err
		}
		for _, g := range part {
			sums[key{g.Mode, g.Level, g.Rating}] += g.N
			n += g.N
		}
		if n > CountCap {
			break
		}
	}
	for k, c := range sums {
		groups = append(groups, courseGroup{Mode: k.mode, Level: k.level, Rating: k.rating, N: c})
	}
	slices.SortFunc(groups, func(a, b courseGroup) int {
		return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Level, b.Level), cmp.Compare(a.Rating, b.Rating))
	})
	if n > CountCap {
		// Drop the one course past the cap from a group, so the total is
		// CountCap as for the other collections.
		groups[len(groups)-1].N--
		capped = true
	}
	return groups, capped, nil
}

// rankedRow is one row of a ranking query.
type rankedRow struct {
	ID    string  `db:"id"`
	Rank  float64 `db:"rank"`
	Rowid int64   `db:"frow"`
}

// rankQuery selects the caller's listable matches of a collection (course
// filters applied) in one index with their id, index rowid and, when
// o.ranked (public index only), rank.
func (en engine) rankQuery(s source, match string, p Params, o matchOpts) (*dbx.SelectQuery, error) {
	sub, params := matches(s, match, o)
	selects := []string{"[[" + s.collection + ".id]] AS [[id]]", "[[m.frow]] AS [[frow]]"}
	if o.ranked && !o.hidden {
		selects = append(selects, "[[m.rank]] AS [[rank]]")
	}
	q, err := en.listable(s.collection, sub, params, selects...)
	if err != nil {
		return nil, err
	}
	if s.collection == "courses" {
		courseFilter(q, p)
	}
	return q, nil
}

// hitsOf turns ranking rows into hits of a collection.
func hitsOf(s source, rows []rankedRow, unranked bool) []Hit {
	hits := make([]Hit, len(rows))
	for i, r := range rows {
		hits[i] = Hit{Type: s.collection, ID: r.ID, Rank: r.Rank, rowid: r.Rowid, unranked: unranked}
	}
	return hits
}

// hiddenHits returns the caller's listable matches of the hidden index that
// o selects, scored with the public statistics (bm25.go); nothing for a
// guest.
func (en engine) hiddenHits(s source, groups [][]string, match string, p Params, o matchOpts) ([]Hit, error) {
	if len(en.indexes()) < 2 {
		return nil, nil
	}
	o.hidden, o.ranked = true, false
	q, err := en.rankQuery(s, match, p, o)
	if err != nil {
		return nil, err
	}
	var rows []rankedRow
	if err := q.All(&rows); err != nil {
		return nil, err
	}
	hits := hitsOf(s, rows, false)
	return hits, en.scoreHidden(s, groups, hits)
}

// top returns the best n hits of a collection the caller may list, best
// first, ties by record id, and whether the ranking was bounded (more than
// RankLimit matches the caller may list; see there).
func (en engine) top(s source, groups [][]string, p Params, n int) ([]Hit, bool, error) {
	match := MatchGroups(groups)
	var total int
	var err error
	if len(en.indexes()) == 1 {
		// A guest's listable matches are the public index's, which holds
		// exactly what the list rules let a guest list: counted by FTS5
		// alone, without joining the rule to every match.
		total, err = en.indexed(s, match, RankLimit+1)
	} else {
		total, err = en.visible(s, match, RankLimit+1)
	}
	if err != nil || total == 0 {
		return nil, false, err
	}
	if total > RankLimit {
		hits, err := en.topBounded(s, groups, p, n)
		return hits, true, err
	}
	hits, err := en.topExact(s, groups, p, n)
	return hits, false, err
}

// topExact ranks every match. In the public index FTS5 ranks the matches
// alone first (bm25 needs nothing but the index), and only the best k are
// joined to their records and the list rule; when too few of those may be
// listed, k grows until n are found or every match was tried. The caller's
// matches in the hidden index (at most RankLimit, as every listable match)
// are scored in Go and merged in. The order is total, so the result is
// exactly the first n of the full ranking.
func (en engine) topExact(s source, groups [][]string, p Params, n int) ([]Hit, error) {
	match := MatchGroups(groups)
	indexed, err := en.indexed(s, match, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	var hits []Hit
	for k := 2*n + 64; indexed > 0; k *= 4 {
		q, err := en.rankQuery(s, match, p, matchOpts{ranked: true, best: k})
		if errors.Is(err, errNotListable) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var rows []rankedRow
		if err := q.OrderBy("[[m.rank]] ASC", "[["+s.collection+".id]] ASC").Limit(int64(n)).All(&rows); err != nil {
			return nil, err
		}
		if len(rows) >= n || indexed <= k {
			hits = hitsOf(s, rows, false)
			break
		}
	}
	hidden, err := en.hiddenHits(s, groups, match, p, matchOpts{})
	if errors.Is(err, errNotListable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	hits = append(hits, hidden...)
	SortHits(hits)
	return hits[:min(n, len(hits))], nil
}

// newest returns the index rowids of the caller's newest listable matches
// (at most limit, newest first) in both indexes, with whether each is
// public, o narrowing the matches.
func (en engine) newest(s source, match string, p Params, o matchOpts, limit int) ([]int64, map[int64]bool, error) {
	var rowids []int64
	public := map[int64]bool{}
	for _, pub := range en.indexes() {
		o.hidden = !pub
		q, err := en.rankQuery(s, match, p, o)
		if err != nil {
			return nil, nil, err
		}
		var col []int64
		if err := q.Select("[[m.frow]]").OrderBy("[[m.frow]] DESC").Limit(int64(limit)).Column(&col); err != nil {
			return nil, nil, err
		}
		for _, r := range col {
			public[r] = pub
		}
		rowids = append(rowids, col...)
	}
	slices.SortFunc(rowids, func(a, b int64) int { return cmp.Compare(b, a) })
	return rowids[:min(limit, len(rowids))], public, nil
}

// topBounded ranks only the candidates: the RankCandidates newest listable
// matches and the RankCandidates newest listable matches with a searched
// word in the title, by bm25 then id. Past them come the other listable
// matches, newest first. The candidates do not depend on the page, so
// paging is stable.
func (en engine) topBounded(s source, groups [][]string, p Params, n int) ([]Hit, error) {
	match := MatchGroups(groups)
	// The newest candidates are every listable match from the
	// RankCandidates-th newest one on.
	newest, _, err := en.newest(s, match, p, matchOpts{}, RankCandidates)
	if errors.Is(err, errNotListable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var from int64 // every listable match is a candidate
	if len(newest) == RankCandidates {
		from = newest[len(newest)-1]
	}
	q, err := en.rankQuery(s, match, p, matchOpts{ranked: true, from: from})
	if err != nil {
		return nil, err
	}
	var rows []rankedRow
	if err := q.All(&rows); err != nil {
		return nil, err
	}
	hits := hitsOf(s, rows, false)
	hidden, err := en.hiddenHits(s, groups, match, p, matchOpts{from: from})
	if err != nil {
		return nil, err
	}
	hits = append(hits, hidden...)

	// The title candidates: found without ranking (their bm25 under the
	// narrowed query would differ), then ranked under the search's own.
	var titled []int64
	var titledPublic map[int64]bool
	if tm := titleMatch(groups); tm != "" && from > 0 {
		if titled, titledPublic, err = en.newest(s, tm, p, matchOpts{below: from}, RankCandidates); err != nil {
			return nil, err
		}
	}
	var pubTitled, hidTitled []int64
	for _, r := range titled {
		if titledPublic[r] {
			pubTitled = append(pubTitled, r)
		} else {
			hidTitled = append(hidTitled, r)
		}
	}
	if len(pubTitled) > 0 {
		q, err := en.rankQuery(s, match, p, matchOpts{ranked: true, from: pubTitled[len(pubTitled)-1], below: from, only: pubTitled})
		if err != nil {
			return nil, err
		}
		var more []rankedRow
		if err := q.All(&more); err != nil {
			return nil, err
		}
		hits = append(hits, hitsOf(s, more, false)...)
	}
	if len(hidTitled) > 0 {
		more, err := en.hiddenHits(s, groups, match, p, matchOpts{from: hidTitled[len(hidTitled)-1], below: from, only: hidTitled})
		if err != nil {
			return nil, err
		}
		hits = append(hits, more...)
	}
	seen := make(map[int64]bool, len(hits))
	uniq := hits[:0]
	for _, h := range hits {
		if !seen[h.rowid] {
			seen[h.rowid] = true
			uniq = append(uniq, h)
		}
	}
	hits = uniq
	SortHits(hits)
	if len(hits) >= n || from == 0 {
		return hits[:min(n, len(hits))], nil
	}

	// A deep page: the listable matches older than the newest candidates,
	// newest first, skipping the title candidates among them. Their order
	// needs no score: the hidden ones get theirs once on the page (run).
	var older []Hit
	for _, pub := range en.indexes() {
		q, err := en.rankQuery(s, match, p, matchOpts{hidden: !pub, ranked: pub, below: from})
		if err != nil {
			return nil, err
		}
		var rows []rankedRow
		if err := q.OrderBy("[[m.frow]] DESC").Limit(int64(n - len(hits) + len(titled))).All(&rows); err != nil {
			return nil, err
		}
		more := hitsOf(s, rows, true)
		for i := range more {
			more[i].needScore = !pub
		}
		older = append(older, more...)
	}
	SortHits(older)
	for _, h := range older {
		if len(hits) == n {
			break
		}
		if !seen[h.rowid] {
			hits = append(hits, h)
		}
	}
	return hits, nil
}

func (en engine) run(p Params, groups [][]string) (result, error) {
	match := MatchGroups(groups)
	res := result{facets: Facets{
		Type:      Counts{},
		Mode:      Counts{},
		Level:     Counts{},
		MinRating: Counts{},
	}}
	for _, s := range sources {
		res.facets.Type[s.collection] = 0
	}
	for _, m := range courseModes {
		res.facets.Mode[m] = 0
	}
	for _, l := range courseLevels {
		res.facets.Level[l] = 0
	}
	for _, r := range ratingSteps {
		res.facets.MinRating[ratingKey(r)] = 0
	}

	// The counts, the course groups and the rankings are independent
	// queries: run them side by side, as PocketBase runs a list's count and
	// page. Posts and lessons have no mode, level or rating: with a course
	// filter set none of them can match, so they are not even counted.
	var cgroups []courseGroup
	var cgroupsCapped bool
	counted := map[string]*struct {
		n      int
		capped bool
	}{}
	var g errgroup.Group
	for _, name := range []string{"posts", "lessons"} {
		if p.courseFiltered() {
			continue
		}
		s, _ := sourceOf(name)
		c := &struct {
			n      int
			capped bool
		}{}
		counted[name] = c
		g.Go(func() (err error) {
			if c.n, c.capped, err = en.count(s, match); err != nil {
				return fmt.Errorf("count %s: %w", name, err)
			}
			return nil
		})
	}
	g.Go(func() (err error) {
		if cgroups, cgroupsCapped, err = en.courseGroups(match); err != nil {
			return fmt.Errorf("count courses: %w", err)
		}
		return nil
	})
	// The page's hits do not depend on the totals: rank each collection
	// meanwhile, and drop the hits if the page turns out to be past the end.
	offset := (p.Page - 1) * p.PerPage
	need := offset + p.PerPage
	tops := make([][]Hit, len(sources))
	bounded := make([]bool, len(sources))
	for i, s := range sources {
		if !p.includes(s.collection) {
			continue
		}
		g.Go(func() (err error) {
			if tops[i], bounded[i], err = en.top(s, groups, p, need); err != nil {
				return fmt.Errorf("rank %s: %w", s.collection, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	for name, c := range counted {
		res.facets.Type[name] = c.n
		res.approximate = res.approximate || c.capped
	}
	res.approximate = res.approximate || cgroupsCapped
	wantCourses := p.includes("courses")
	for _, g := range cgroups {
		modeOK := p.Mode == "" || g.Mode == p.Mode
		levelOK := p.Level == "" || g.Level == p.Level
		ratingOK := !p.HasRating || g.Rating >= p.MinRating
		if modeOK && levelOK && ratingOK {
			res.facets.Type["courses"] += g.N
		}
		if !wantCourses {
			continue
		}
		if levelOK && ratingOK {
			if _, ok := res.facets.Mode[g.Mode]; ok {
				res.facets.Mode[g.Mode] += g.N
			}
		}
		if modeOK && ratingOK {
			if _, ok := res.facets.Level[g.Level]; ok {
				res.facets.Level[g.Level] += g.N
			}
		}
		if modeOK && levelOK {
			for _, r := range ratingSteps {
				if g.Rating >= r {
					res.facets.MinRating[ratingKey(r)] += g.N
				}
			}
		}
	}
	for _, s := range sources {
		if p.includes(s.collection) {
			res.total += res.facets.Type[s.collection]
		}
	}

	for i, s := range sources {
		// A collection with nothing the caller may list says nothing, not
		// even that its matches were too many to rank exactly.
		if res.facets.Type[s.collection] == 0 {
			tops[i], bounded[i] = nil, false
		}
	}
	res.approximateRanking = slices.Contains(bounded, true)
	if offset >= res.total {
		return res, nil
	}
	var all []Hit
	for _, hits := range tops {
		all = append(all, hits...)
	}
	SortHits(all)
	res.hits = all[min(offset, len(all)):min(need, len(all))]
	// Unranked hits of the hidden index on the page get their score now.
	for _, s := range sources {
		var idx []int
		var pending []Hit
		for i, h := range res.hits {
			if h.needScore && h.Type == s.collection {
				idx = append(idx, i)
				pending = append(pending, h)
			}
		}
		if err := en.scoreHidden(s, groups, pending); err != nil {
			return res, fmt.Errorf("score %s: %w", s.collection, err)
		}
		for j, i := range idx {
			res.hits[i] = pending[j]
		}
	}
	return res, nil
}

// SortHits orders hits best first: by rank, then by id, then by type, so the
// merged order is total and paging is stable. Unranked hits (past a bounded
// ranking's candidates) come after every ranked one, newest index entry
// first.
func SortHits(hits []Hit) {
	order := map[string]int{}
	for i, s := range sources {
		order[s.collection] = i
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		if a.unranked != b.unranked {
			if a.unranked {
				return 1
			}
			return -1
		}
		if a.unranked {
			return cmp.Compare(b.rowid, a.rowid)
		}
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.ID, b.ID), cmp.Compare(order[a.Type], order[b.Type]))
	})
}

func ratingKey(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }
