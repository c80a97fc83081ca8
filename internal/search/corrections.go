package search

import (
	"cmp"
	"math"
	"slices"
	"sync"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Corrections are ranked by how far the word as typed is from a word the
// public entries really use, then by how many public entries hold it: the
// index only knows stems, and "runing" (stem "rune") is one edit from both
// "run" and "rule", so by stems the more frequent "rule" won and "runing"
// suggested "rules". Spelled out, "running" is one edit away and "rules"
// three. The spellings of a stem are read from a few of the newest public
// entries that hold it — public only, like every statistic a correction uses,
// so records the caller cannot see never change which word is suggested.

// spellingSample is how many of a term's newest public entries are read for
// its spellings.
const spellingSample = 8

// ranked is a candidate with the distance of its nearest spelling.
type ranked struct {
	candidate
	spelled int
}

// rankCorrections orders the candidates of w by the edit distance from the
// word as typed to their nearest spelling (spellings returns a stem's
// spellings; none known: the stem's own distance), then by public
// frequency, then by term, and keeps the nearest: those at the smallest
// distance, at most maxCandidates.
func rankCorrections(w Word, cands []candidate, spellings func(term string) []string) []string {
	if len(cands) == 0 {
		return nil
	}
	out := make([]ranked, len(cands))
	for i, c := range cands {
		d := c.dist // no spelling known: the stem's distance
		if sp := spellings(c.term); len(sp) > 0 {
			d = math.MaxInt
			for _, s := range sp {
				d = min(d, OSA(w.Norm, s))
			}
		}
		out[i] = ranked{c, d}
	}
	slices.SortFunc(out, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.spelled, b.spelled), cmp.Compare(b.docs, a.docs), cmp.Compare(a.term, b.term))
	})
	var terms []string
	for _, r := range out {
		if r.spelled > out[0].spelled || len(terms) == maxCandidates {
			break
		}
		terms = append(terms, r.term)
	}
	return terms
}

// spellings returns the words of the public entries that stem to term, read
// from its spellingSample newest public entries and cached for the
// vocabulary's generation.
func (v *vocab) spellings(app core.App, term string) ([]string, error) {
	v.spellMu.Lock()
	if s, ok := v.spelled[term]; ok {
		v.spellMu.Unlock()
		return s, nil
	}
	v.spellMu.Unlock()

	var rows []struct {
		Collection string `db:"collection"`
		Record     string `db:"record"`
	}
	err := app.DB().NewQuery(`SELECT [[d.collection]] AS [[collection]], [[d.record]] AS [[record]] FROM {{` + ftsTable + `}}` +
		` INNER JOIN {{` + docsTable + `}} [[d]] ON [[d.id]] = {{` + ftsTable + `}}.[[rowid]]` +
		` WHERE {{` + ftsTable + `}} MATCH {:m} ORDER BY {{` + ftsTable + `}}.[[rowid]] DESC LIMIT {:n}`).
		Bind(dbx.Params{"m": MatchGroups([][]string{{term}}), "n": spellingSample}).All(&rows)
	if err != nil {
		return nil, err
	}
	byType := map[string][]string{}
	for _, r := range rows {
		byType[r.Collection] = append(byType[r.Collection], r.Record)
	}
	seen := map[string]bool{}
	var out []string
	for typ, ids := range byType {
		recs, err := app.FindRecordsByIds(typ, ids)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			// What a guest reads: a hidden field's words are never offered.
			for _, f := range textFields(r, false) {
				for _, t := range Tokens(f) {
					if t.Stem == term && !seen[t.Norm] {
						seen[t.Norm] = true
						out = append(out, t.Norm)
					}
				}
			}
		}
	}
	slices.Sort(out)
	v.spellMu.Lock()
	if v.spelled == nil {
		v.spelled = map[string][]string{}
	}
	v.spelled[term] = out
	v.spellMu.Unlock()
	return out, nil
}

// spellingCache is embedded in vocab: the spellings looked up at its
// generation.
type spellingCache struct {
	spellMu sync.Mutex
	spelled map[string][]string
}
