package search

import (
	"html"
	"strings"
)

// SnippetWords is how many words a snippet shows around the best match.
const SnippetWords = 32

// Highlight returns an HTML-safe excerpt of the plain text s: a window of at
// most maxWords words holding the most distinct matched stems (the start of s
// when nothing matches), every word whose stem is in stems wrapped in
// <mark>…</mark>, "…" where s was cut. Everything else is HTML-escaped, so the
// only tags in the result are <mark> and </mark>.
func Highlight(s string, stems map[string]bool, maxWords int) string {
	if maxWords <= 0 {
		maxWords = SnippetWords
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	toks := Tokens(s)
	if len(toks) == 0 {
		return html.EscapeString(truncateRunes(strings.TrimSpace(s), 200))
	}
	from, to := bestWindow(toks, stems, maxWords)

	var b strings.Builder
	start := 0
	if from > 0 {
		b.WriteString("…")
		start = toks[from].Start
	}
	end := len(s)
	if to < len(toks) {
		end = toks[to-1].End
	}
	pos := start
	for _, t := range toks[from:to] {
		if !stems[t.Stem] {
			continue
		}
		b.WriteString(html.EscapeString(s[pos:t.Start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(s[t.Start:t.End]))
		b.WriteString("</mark>")
		pos = t.End
	}
	b.WriteString(html.EscapeString(s[pos:end]))
	if to < len(toks) {
		b.WriteString("…")
	}
	return strings.TrimSpace(b.String())
}

// bestWindow picks tokens [from, to) of at most n tokens covering the most
// distinct matched stems, then the most matches, earliest first.
func bestWindow(toks []Token, stems map[string]bool, n int) (int, int) {
	if len(toks) <= n {
		return 0, len(toks)
	}
	bestFrom, bestDistinct, bestHits := 0, -1, -1
	counts := map[string]int{}
	distinct, hits := 0, 0
	for i, t := range toks {
		if stems[t.Stem] {
			if counts[t.Stem] == 0 {
				distinct++
			}
			counts[t.Stem]++
			hits++
		}
		if i >= n {
			old := toks[i-n]
			if stems[old.Stem] {
				counts[old.Stem]--
				if counts[old.Stem] == 0 {
					distinct--
				}
				hits--
			}
		}
		if i >= n-1 && (distinct > bestDistinct || (distinct == bestDistinct && hits > bestHits)) {
			bestFrom, bestDistinct, bestHits = i-n+1, distinct, hits
		}
	}
	if bestHits <= 0 {
		return 0, n
	}
	// Any window holding the first and last match of the best one shows the
	// same matches; prefer one with a little context before the first.
	first, last := -1, -1
	for i := bestFrom; i < bestFrom+n; i++ {
		if stems[toks[i].Stem] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	from := max(0, last-n+1, first-n/3)
	to := min(from+n, len(toks))
	return max(0, to-n), to
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}
