package search

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/pocketbase/pocketbase/core"
)

// bm25 in Go, for the hidden index's entries.
//
// SQLite's bm25() takes its statistics from the table it runs on, and the
// hidden index's own (drafts' counts and lengths) must move nothing. So an
// entry of the hidden index is scored here with the public index's
// statistics, by the formula of SQLite's fts5Bm25Function (fts5_aux.c),
// operation for operation:
//
//	score = Σ over the query's phrases i of
//	        IDF(i) · f(i)·(k1+1) / (f(i) + k1·(1 − b + b·D/avgdl)),   rank = −score
//
// with k1 = 1.2, b = 0.75; f(i) the column weights summed over the
// phrase's occurrences in the row; D the row's tokens in all columns;
// avgdl the table's tokens per row; IDF(i) = ln((N − n(i) + 0.5)/(n(i) + 0.5)),
// at least 1e-6, N the table's rows and n(i) the rows holding phrase i. The
// row's tokens come from Tokens (the Go side of the index's tokenizer) over
// the text the index was written from (source.docOf); the statistics from
// the public index: N and the token total from its averages record, n(i)
// from a MATCH count. TestGoBM25MatchesSQLite holds the two together.

const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// pubStats are the public index's bm25 statistics, read once per search.
type pubStats struct {
	once  sync.Once
	err   error
	nRow  int64
	avgdl float64
	mu    sync.Mutex
	nHit  map[string]int64 // by phrase (a quoted FTS5 string)
}

func (ps *pubStats) load(app core.App) error {
	ps.once.Do(func() {
		ps.nHit = map[string]int64{}
		var block []byte
		err := app.DB().NewQuery(`SELECT [[block]] FROM {{` + ftsTable + `_data}} WHERE [[id]] = 1`).Row(&block)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			ps.err = fmt.Errorf("read the public index's totals: %w", err)
			return
		}
		// The averages record: a varint row count, then one varint token
		// total per column (fts5_index.c, sqlite3Fts5IndexGetAverages).
		n, i := readVarint(block)
		ps.nRow = int64(n)
		var tokens int64
		for i < len(block) {
			v, k := readVarint(block[i:])
			if k == 0 {
				break
			}
			tokens += int64(v)
			i += k
		}
		if ps.nRow > 0 {
			ps.avgdl = float64(tokens) / float64(ps.nRow)
		}
		if !(ps.avgdl > 0) {
			// An empty public index: no SQLite score to agree with, any
			// finite length will do.
			ps.avgdl = 1
		}
	})
	return ps.err
}

// hits returns how many public rows hold the phrase, as bm25's IDF counts
// them (xQueryPhrase over the whole table).
func (ps *pubStats) hits(app core.App, phrase string) (int64, error) {
	ps.mu.Lock()
	n, ok := ps.nHit[phrase]
	ps.mu.Unlock()
	if ok {
		return n, nil
	}
	err := app.DB().NewQuery(`SELECT COUNT(*) FROM {{` + ftsTable + `}} WHERE {{` + ftsTable + `}} MATCH {:q}`).
		Bind(map[string]any{"q": phrase}).Row(&n)
	if err != nil {
		return 0, fmt.Errorf("count public rows with %s: %w", phrase, err)
	}
	ps.mu.Lock()
	ps.nHit[phrase] = n
	ps.mu.Unlock()
	return n, nil
}

// readVarint decodes an SQLite varint (big-endian, 7 bits a byte, the ninth
// byte whole), returning the value and its length (0 when b is cut short).
func readVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 9 && i < len(b); i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// phrase is one phrase of a MATCH expression built by MatchGroups: its
// quoted text and its tokens' stems.
type phrase struct {
	quoted string
	stems  []string
}

// phrasesOf lists the phrases of MatchGroups(groups), in the order FTS5
// numbers them.
func phrasesOf(groups [][]string) []phrase {
	var out []phrase
	for _, g := range groups {
		for _, t := range g {
			if t == "" {
				continue
			}
			p := phrase{quoted: quoteFTS(t)}
			for _, tok := range Tokens(t) {
				p.stems = append(p.stems, tok.Stem)
			}
			out = append(out, p)
		}
	}
	return out
}

// scorer scores rows of the hidden index for one MATCH expression.
type scorer struct {
	phrases []phrase
	idf     []float64
	avgdl   float64
}

func newScorer(app core.App, ps *pubStats, groups [][]string) (*scorer, error) {
	if err := ps.load(app); err != nil {
		return nil, err
	}
	sc := &scorer{phrases: phrasesOf(groups), avgdl: ps.avgdl}
	sc.idf = make([]float64, len(sc.phrases))
	for i, p := range sc.phrases {
		nHit, err := ps.hits(app, p.quoted)
		if err != nil {
			return nil, err
		}
		idf := math.Log((float64(ps.nRow-nHit) + 0.5) / (float64(nHit) + 0.5))
		if idf <= 0 {
			idf = 1e-6
		}
		sc.idf[i] = idf
	}
	return sc, nil
}

// rank returns bm25's rank (lower is better) of a row holding d.
func (sc *scorer) rank(d doc) float64 {
	weights := [3]float64{weightTitle, weightSummary, weightBody}
	freq := make([]float64, len(sc.phrases))
	D := 0
	for c, text := range [3]string{d.title, d.summary, d.body} {
		toks := Tokens(text)
		D += len(toks)
		for i, p := range sc.phrases {
			if len(p.stems) == 0 {
				continue
			}
		next:
			for j := 0; j+len(p.stems) <= len(toks); j++ {
				for k, st := range p.stems {
					if toks[j+k].Stem != st {
						continue next
					}
				}
				freq[i] += weights[c]
			}
		}
	}
	k1, b := bm25K1, bm25B
	dl := float64(D)
	score := 0.0
	for i := range sc.phrases {
		score = score + sc.idf[i]*((freq[i]*(k1+1.0))/(freq[i]+k1*(1-b+b*dl/sc.avgdl)))
	}
	return -1.0 * score
}

// scoreHidden sets the rank of hits of the hidden index (one collection's)
// from their records' text.
func (en engine) scoreHidden(s source, groups [][]string, hits []Hit) error {
	if len(hits) == 0 {
		return nil
	}
	sc, err := newScorer(en.app, en.stats, groups)
	if err != nil {
		return err
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	recs, err := en.app.FindRecordsByIds(s.collection, ids)
	if err != nil {
		return fmt.Errorf("load %s to score: %w", s.collection, err)
	}
	byID := make(map[string]*core.Record, len(recs))
	for _, r := range recs {
		byID[r.Id] = r
	}
	for i := range hits {
		if r, ok := byID[hits[i].ID]; ok {
			hits[i].Rank = sc.rank(s.docOf(r.GetString))
		}
		hits[i].needScore = false
	}
	return nil
}
