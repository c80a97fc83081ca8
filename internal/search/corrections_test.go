package search

import (
	"slices"
	"testing"
)

func word(s string) Word { n := Normalize(s); return Word{Text: s, Norm: n, Stem: Stem(n)} }

// corpus is a vocabulary with the spellings its entries use, as the public
// index would give them.
type corpus struct {
	docs      map[string]int      // stem → public entries holding it
	spellings map[string][]string // stem → the words that stem to it
}

func (c corpus) vocab() *vocab { return testVocab(c.docs) }

func (c corpus) correct(w string) []string {
	return rankCorrections(word(w), c.vocab().candidates(word(w)), func(term string) []string { return c.spellings[term] })
}

func TestCorrectionsRankBySpelledDistanceThenFrequency(t *testing.T) {
	c := corpus{
		docs: map[string]int{"run": 3, "rule": 40, "cluster": 6, "clutter": 9, "stream": 5, "streak": 30, "kubernet": 10},
		spellings: map[string][]string{
			"run":      {"run", "running", "runs"},
			"rule":     {"rule", "rules"},
			"cluster":  {"cluster", "clusters"},
			"clutter":  {"clutter"},
			"stream":   {"stream", "streams"},
			"streak":   {"streak", "streaks"},
			"kubernet": {"kubernetes"},
		},
	}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		// the case: by stems rune→rule and rune→run are both 1 edit and
		// rule is far more frequent; spelled out running is 1 edit, rules 3
		{"runing", []string{"run"}},
		{"kuberntes", []string{"kubernet"}},
		{"clustres", []string{"cluster"}},
		// equally near spellings: the more frequent first, both kept
		{"streaz", []string{"streak", "stream"}},
	} {
		if got := c.correct(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("corrections of %q = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCorrectionsWithoutKnownSpellingsFallBackToStems(t *testing.T) {
	// no spelling read (an entry's field hidden, say): the stems' own
	// distances and frequency decide, as before
	c := corpus{docs: map[string]int{"run": 3, "rule": 40}}
	if got := c.correct("runing"); !slices.Equal(got, []string{"rule", "run"}) {
		t.Errorf("got %q", got)
	}
	// a frequent word whose spelling is far loses to a rare one spelled near
	c.spellings = map[string][]string{"rule": {"rules"}, "run": {"running"}}
	if got := c.correct("runing"); !slices.Equal(got, []string{"run"}) {
		t.Errorf("got %q", got)
	}
}

// FuzzRankCorrections checks the ranking's invariants for any typed word
// over a fixed vocabulary: every suggestion is a candidate, none is the
// word's own stem, all share the smallest spelled distance, and among them
// the more frequent come first.
func FuzzRankCorrections(f *testing.F) {
	for _, s := range []string{"runing", "rules", "kuberntes", "streaz", "clustre", "", "ruñing", "RUNNING", "r", "runningg"} {
		f.Add(s)
	}
	c := corpus{
		docs: map[string]int{"run": 3, "rule": 40, "rune": 1, "ruin": 7, "cluster": 6, "clutter": 9, "stream": 5, "streak": 30},
		spellings: map[string][]string{
			"run": {"run", "running", "runs"}, "rule": {"rule", "rules", "ruling"}, "rune": {"runes"},
			"ruin": {"ruined", "ruins"}, "cluster": {"clusters"}, "stream": {"streaming"}, "streak": {"streaks"},
		},
	}
	v := c.vocab()
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 40 {
			return
		}
		w := word(s)
		cands := v.candidates(w)
		got := rankCorrections(w, cands, func(term string) []string { return c.spellings[term] })
		if len(got) > maxCandidates {
			t.Fatalf("%q: %d suggestions", s, len(got))
		}
		dist := func(term string) int {
			for _, cand := range cands {
				if cand.term == term {
					if len(c.spellings[term]) == 0 {
						return cand.dist
					}
					d := 1 << 30
					for _, sp := range c.spellings[term] {
						d = min(d, OSA(w.Norm, sp))
					}
					return d
				}
			}
			t.Fatalf("%q: suggestion %q is not a candidate", s, term)
			return -1
		}
		for i, term := range got {
			if term == w.Stem {
				t.Fatalf("%q: suggests its own stem", s)
			}
			if dist(term) != dist(got[0]) {
				t.Fatalf("%q: %q at %d after %q at %d", s, term, dist(term), got[0], dist(got[0]))
			}
			if i > 0 && c.docs[got[i-1]] < c.docs[term] {
				t.Fatalf("%q: %q (%d entries) before the more frequent %q (%d)", s, got[i-1], c.docs[got[i-1]], term, c.docs[term])
			}
		}
		for _, cand := range cands {
			if d := dist(cand.term); len(got) > 0 && d < dist(got[0]) {
				t.Fatalf("%q: %q at %d is nearer than the suggestion %q", s, cand.term, d, got[0])
			}
		}
	})
}
