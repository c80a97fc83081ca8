package search

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode"

	"github.com/pocketbase/pocketbase/core"
)

// Typo tolerance: a query word of 5–7 letters may be 1 edit away from an
// indexed word, one of 8 or more letters 2 edits (OSA, a transposition is
// one edit). Shorter words are taken as typed: at 4 letters one edit reaches
// too many unrelated words.
const (
	typoMinLetters  = 5
	typoTwoEditsAt  = 8
	maxCandidates   = 5
	vocabMinTermLen = 3
)

// vocabSyncBuildLimit: a vocabulary that took longer than this to build is
// refreshed in the background while the previous one keeps answering.
const vocabSyncBuildLimit = 100 * time.Millisecond

// maxTypoEdits returns how many edits a word of n letters may be corrected by.
func maxTypoEdits(n int) int {
	switch {
	case n >= typoTwoEditsAt:
		return 2
	case n >= typoMinLetters:
		return 1
	}
	return 0
}

type vocabTerm struct {
	term  string
	runes []rune
	docs  int
}

// vocab is the index's term list at one generation, bucketed by length.
type vocab struct {
	generation int64
	byLen      map[int][]vocabTerm
	took       time.Duration
	spellingCache
}

// vocabCache builds the vocabulary lazily, on the first search that needs a
// correction, and keeps it until the index's generation moves on. Writes only
// bump the generation (one row in _search_meta, in their own transaction);
// the term list is read again from _search_vocab by the next search that
// needs it — in the background when that read is slow, so a busy site never
// pays for it on a request.
type vocabCache struct {
	mu         sync.Mutex
	cur        *vocab
	refreshing bool
	build      sync.Mutex // one build at a time
}

func (c *vocabCache) get(app core.App) (*vocab, error) {
	gen, err := readGeneration(app)
	if err != nil {
		return nil, fmt.Errorf("read index generation: %w", err)
	}
	c.mu.Lock()
	cur := c.cur
	if cur != nil && cur.generation == gen {
		c.mu.Unlock()
		return cur, nil
	}
	if cur != nil && cur.took > vocabSyncBuildLimit {
		if !c.refreshing {
			c.refreshing = true
			go func() {
				if _, err := c.load(app, gen); err != nil {
					app.Logger().Warn("search: refresh vocabulary", "error", err)
				}
				c.mu.Lock()
				c.refreshing = false
				c.mu.Unlock()
			}()
		}
		c.mu.Unlock()
		return cur, nil
	}
	c.mu.Unlock()
	return c.load(app, gen)
}

// load reads the vocabulary at generation gen (unless a concurrent build
// already did) and makes it current.
func (c *vocabCache) load(app core.App, gen int64) (*vocab, error) {
	c.build.Lock()
	defer c.build.Unlock()
	c.mu.Lock()
	if c.cur != nil && c.cur.generation >= gen {
		v := c.cur
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()

	v, err := loadVocab(app, gen)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.cur == nil || c.cur.generation < v.generation {
		c.cur = v
	}
	c.mu.Unlock()
	return v, nil
}

func loadVocab(app core.App, gen int64) (*vocab, error) {
	start := time.Now()
	rows, err := app.DB().NewQuery(`SELECT [[term]], [[doc]] FROM {{` + vocabTable + `}}`).Rows()
	if err != nil {
		return nil, fmt.Errorf("read vocabulary: %w", err)
	}
	defer rows.Close()
	v := &vocab{generation: gen, byLen: map[int][]vocabTerm{}}
	for rows.Next() {
		var t vocabTerm
		if err := rows.Scan(&t.term, &t.docs); err != nil {
			return nil, err
		}
		if !lettersOnly(t.term) {
			continue // numbers and codes are not corrected
		}
		t.runes = []rune(t.term)
		if len(t.runes) < vocabMinTermLen {
			continue
		}
		v.byLen[len(t.runes)] = append(v.byLen[len(t.runes)], t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	v.took = time.Since(start)
	return v, nil
}

func lettersOnly(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}

// candidate is an indexed term (a stem) near a query word: its edit
// distance from the word's stem or the word as typed, and how many public
// entries hold it.
type candidate struct {
	term string
	dist int
	docs int
}

// maxStemCandidates bounds the terms whose spellings are looked up for one
// word (corrections.go).
const maxStemCandidates = 8

// candidates returns the indexed terms (stems) within w's edit budget of its
// stem or of the word as typed, excluding w's own stem: nearest first, then
// most frequent, at most maxStemCandidates. Stems are what the index holds,
// and a stem is a poor measure of a typo ("runing" stems to "rune", one edit
// from both "run" and "rule"): rankCorrections ranks them again by the
// spellings the public entries use.
func (v *vocab) candidates(w Word) []candidate {
	if !lettersOnly(w.Norm) {
		return nil
	}
	k := maxTypoEdits(len([]rune(w.Norm)))
	if k == 0 {
		return nil
	}
	probes := [][]rune{[]rune(w.Stem)}
	if w.Norm != w.Stem {
		probes = append(probes, []rune(w.Norm))
	}
	best := map[string]candidate{}
	for _, p := range probes {
		for n := len(p) - k; n <= len(p)+k; n++ {
			for _, t := range v.byLen[n] {
				if t.term == w.Stem || !WithinOSA(p, t.runes, k) {
					continue
				}
				// A term whose stem differs cannot be searched for as itself.
				if Stem(t.term) != t.term {
					continue
				}
				d := osaRunes(p, t.runes, k)
				if c, ok := best[t.term]; !ok || d < c.dist {
					best[t.term] = candidate{t.term, d, t.docs}
				}
			}
		}
	}
	found := make([]candidate, 0, len(best))
	for _, c := range best {
		found = append(found, c)
	}
	slices.SortFunc(found, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(b.docs, a.docs), cmp.Compare(a.term, b.term))
	})
	return found[:min(len(found), maxStemCandidates)]
}
