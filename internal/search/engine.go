package search

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	pbsearch "github.com/pocketbase/pocketbase/tools/search"
	"golang.org/x/sync/errgroup"
)

// errNotListable: the caller may not list this collection at all (a
// superuser-only list rule); it simply contributes nothing.
var errNotListable = errors.New("collection not listable")

// Hit is one ranked match: the record's collection, id and bm25 rank (lower
// is better, as SQLite returns it).
type Hit struct {
	Type string
	ID   string
	Rank float64
}

// Facets are the counts next to a result list. Each facet applies every
// filter but its own, so it shows what choosing one of its values would
// give. mode, level and minRating count courses only.
type Facets struct {
	Type      map[string]int `json:"type"`
	Mode      map[string]int `json:"mode"`
	Level     map[string]int `json:"level"`
	MinRating map[string]int `json:"minRating"`
}

// CountCap bounds how many matches of one collection are counted. A word
// found in most posts would otherwise make every search walk all of them
// just to print a total; past the cap the total (and the type facet) is a
// lower bound and the answer says "approximate". A variable for tests.
var CountCap = 10_000

// result is one executed search: totals, facets and the hits of a page.
type result struct {
	total       int
	approximate bool
	facets      Facets
	hits        []Hit
}

// engine runs a search for one caller: every query is the collection's own
// records joined to the FTS matches, with the collection's LIST rule applied
// by PocketBase's rule resolver, exactly as the list API applies it.
type engine struct {
	app  core.App
	info *core.RequestInfo
}

// matches returns the FTS matches of one collection as a subquery aliased
// m, with the record id as m.rid and, when ranked, the bm25 rank as m.rank,
// cut to the best k (by rank, then record id). The collection's rowid range
// lets FTS5 skip the other collections' entries.
func matches(s source, ranked bool, k int) (string, dbx.Params) {
	lo, hi := s.rowids()
	params := dbx.Params{"ftsLo": lo, "ftsHi": hi}
	cols := `[[d.record]] AS [[rid]]`
	tail := ``
	if ranked {
		cols += `, bm25({{` + ftsTable + `}}, ` + strconv.FormatFloat(weightTitle, 'f', -1, 64) + `, ` +
			strconv.FormatFloat(weightSummary, 'f', -1, 64) + `, ` +
			strconv.FormatFloat(weightBody, 'f', -1, 64) + `) AS [[rank]]`
		tail = ` ORDER BY [[rank]], [[d.record]] LIMIT {:ftsK}`
		params["ftsK"] = k
	}
	return `(SELECT ` + cols + ` FROM {{` + ftsTable + `}} INNER JOIN {{` + docsTable + `}} [[d]] ON [[d.id]] = {{` + ftsTable + `}}.[[rowid]]` +
		` WHERE {{` + ftsTable + `}} MATCH {:ftsMatch} AND {{` + ftsTable + `}}.[[rowid]] >= {:ftsLo} AND {{` + ftsTable + `}}.[[rowid]] < {:ftsHi}` +
		tail + `) [[m]]`, params
}

// listable returns SELECT <selects> FROM <collection> joined to sub, the
// rows restricted to what the caller may list: the collection's LIST rule
// built by PocketBase's filter parser and record field resolver (with the
// joins it needs), as the list API applies it. Superusers skip the rule.
func (en engine) listable(name, sub string, params dbx.Params, selects ...string) (*dbx.SelectQuery, error) {
	col, err := en.app.FindCachedCollectionByNameOrId(name)
	if err != nil {
		return nil, err
	}
	superuser := en.info != nil && en.info.HasSuperuserAuth()
	if col.ListRule == nil && !superuser {
		return nil, errNotListable
	}
	q := en.app.DB().Select(selects...).From(name).
		InnerJoin(sub, dbx.NewExp("[[m.rid]] = [["+name+".id]]")).
		AndBind(params)
	if !superuser && *col.ListRule != "" {
		resolver := core.NewRecordFieldResolver(en.app, col, en.info, true)
		expr, err := pbsearch.FilterData(*col.ListRule).BuildExpr(resolver)
		if err != nil {
			return nil, fmt.Errorf("build %s list rule: %w", name, err)
		}
		q.AndWhere(expr)
		if err := resolver.UpdateQuery(q); err != nil {
			return nil, fmt.Errorf("apply %s list rule: %w", name, err)
		}
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
	sub, params := matches(s, false, 0)
	params["ftsMatch"] = match
	q, err := en.listable(s.collection, sub, params, "[["+s.collection+".id]]")
	if errors.Is(err, errNotListable) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	inner := q.Limit(int64(CountCap) + 1).Build()
	err = en.app.DB().NewQuery("SELECT COUNT(*) FROM (" + inner.SQL() + ")").Bind(inner.Params()).Row(&n)
	if n > CountCap {
		return CountCap, true, err
	}
	return n, false, err
}

type courseGroup struct {
	Mode   string  `db:"mode"`
	Level  string  `db:"level"`
	Rating float64 `db:"rating"`
	N      int     `db:"n"`
}

// courseGroups counts the matching courses by (mode, level, ratingAvg):
// a few hundred groups at most, from which every course facet and the
// filtered course total are summed.
func (en engine) courseGroups(match string) ([]courseGroup, error) {
	s, _ := sourceOf("courses")
	sub, params := matches(s, false, 0)
	params["ftsMatch"] = match
	q, err := en.listable("courses", sub, params, "[[courses.id]]", "[[courses.mode]] AS [[mode]]",
		"[[courses.level]] AS [[level]]", "COALESCE([[courses.ratingAvg]], 0) AS [[rating]]")
	if errors.Is(err, errNotListable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	inner := q.Build()
	var groups []courseGroup
	err = en.app.DB().NewQuery("SELECT [[mode]], [[level]], [[rating]], COUNT(*) AS [[n]] FROM (" + inner.SQL() +
		") GROUP BY [[mode]], [[level]], [[rating]]").Bind(inner.Params()).All(&groups)
	return groups, err
}

// top returns the best n hits of a collection the caller may list, best
// first, ties by record id. FTS5 ranks the matches alone first (bm25 needs
// nothing but the index), and only the best k are joined to their records
// and the list rule; when too few of those may be listed, k grows until n
// are found or every match was tried. The order is total, so the result is
// exactly the first n of the full ranking.
func (en engine) top(s source, match string, p Params, n int) ([]Hit, error) {
	total := -1 // matches in the index, counted only if needed
	for k := 2*n + 64; ; k *= 4 {
		sub, params := matches(s, true, k)
		params["ftsMatch"] = match
		q, err := en.listable(s.collection, sub, params, "[["+s.collection+".id]] AS [[id]]", "[[m.rank]] AS [[rank]]")
		if errors.Is(err, errNotListable) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if s.collection == "courses" {
			courseFilter(q, p)
		}
		var rows []struct {
			ID   string  `db:"id"`
			Rank float64 `db:"rank"`
		}
		if err := q.OrderBy("[[m.rank]] ASC", "[["+s.collection+".id]] ASC").Limit(int64(n)).All(&rows); err != nil {
			return nil, err
		}
		if len(rows) < n && total < 0 {
			// Did the cut leave matches out? Counting them needs no ranking.
			sub, params := matches(s, false, 0)
			params["ftsMatch"] = match
			err := en.app.DB().NewQuery("SELECT COUNT(*) FROM " + strings.TrimSuffix(sub, " [[m]]")).
				Bind(params).Row(&total)
			if err != nil {
				return nil, err
			}
		}
		if len(rows) >= n || total <= k {
			hits := make([]Hit, len(rows))
			for i, r := range rows {
				hits[i] = Hit{Type: s.collection, ID: r.ID, Rank: r.Rank}
			}
			return hits, nil
		}
	}
}

func (en engine) run(p Params, match string) (result, error) {
	res := result{facets: Facets{
		Type:      map[string]int{},
		Mode:      map[string]int{},
		Level:     map[string]int{},
		MinRating: map[string]int{},
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

	// The counts and the course groups are independent queries: run them
	// side by side, as PocketBase runs a list's count and page. Posts and
	// lessons have no mode, level or rating: with a course filter set none of
	// them can match, so they are not even counted.
	var groups []courseGroup
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
		if groups, err = en.courseGroups(match); err != nil {
			return fmt.Errorf("count courses: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return res, err
	}
	for name, c := range counted {
		res.facets.Type[name] = c.n
		res.approximate = res.approximate || c.capped
	}
	wantCourses := p.includes("courses")
	for _, g := range groups {
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

	offset := (p.Page - 1) * p.PerPage
	if offset >= res.total {
		return res, nil
	}
	need := offset + p.PerPage
	tops := make([][]Hit, len(sources))
	var tg errgroup.Group
	for i, s := range sources {
		if !p.includes(s.collection) || res.facets.Type[s.collection] == 0 {
			continue
		}
		tg.Go(func() (err error) {
			if tops[i], err = en.top(s, match, p, need); err != nil {
				return fmt.Errorf("rank %s: %w", s.collection, err)
			}
			return nil
		})
	}
	if err := tg.Wait(); err != nil {
		return res, err
	}
	var all []Hit
	for _, hits := range tops {
		all = append(all, hits...)
	}
	SortHits(all)
	res.hits = all[min(offset, len(all)):min(need, len(all))]
	return res, nil
}

// SortHits orders hits best first: by rank, then by id, then by type, so the
// merged order is total and paging is stable.
func SortHits(hits []Hit) {
	order := map[string]int{}
	for i, s := range sources {
		order[s.collection] = i
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.ID, b.ID), cmp.Compare(order[a.Type], order[b.Type]))
	})
}

func ratingKey(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }
