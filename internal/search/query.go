package search

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the q parameter. A search box needs a few words; anything longer
// is either a mistake or an attempt to make the server work hard.
const (
	MaxQueryBytes = 200
	MaxQueryWords = 12
)

// Query errors, each a client mistake answered with a 400 on q.
var (
	ErrQueryEmpty    = errors.New("search for at least one word")
	ErrQueryTooLong  = errors.New("the search is too long")
	ErrQueryTooMany  = errors.New("the search has too many words")
	ErrQueryEncoding = errors.New("the search is not valid UTF-8 text")
	ErrQueryControl  = errors.New("the search contains control characters")
)

// Word is one word of a search, as typed and as the index compares it.
type Word struct {
	Text string // the word as typed
	Norm string // lowercased, diacritics removed
	Stem string
}

// Query is a parsed search: its words, ANDed. FTS5 syntax in the input
// (quotes, NEAR(, *, ^, column filters, AND/OR/NOT, parentheses) has no
// meaning: punctuation separates words and operators are plain words.
type Query struct {
	Words []Word
}

// ParseQuery splits a search box's text into words. It refuses text that is
// not valid UTF-8, holds control characters, is longer than MaxQueryBytes or
// has more than MaxQueryWords words, and text with no word at all.
func ParseQuery(s string) (Query, error) {
	if !utf8.ValidString(s) {
		return Query{}, ErrQueryEncoding
	}
	if len(s) > MaxQueryBytes {
		return Query{}, ErrQueryTooLong
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return Query{}, ErrQueryControl
		}
	}
	var q Query
	for _, t := range Tokens(s) {
		q.Words = append(q.Words, Word{Text: s[t.Start:t.End], Norm: t.Norm, Stem: t.Stem})
	}
	if len(q.Words) == 0 {
		return Query{}, ErrQueryEmpty
	}
	if len(q.Words) > MaxQueryWords {
		return Query{}, ErrQueryTooMany
	}
	return q, nil
}

// Match returns the FTS5 MATCH expression of the query: every word quoted as
// a string, so FTS5 reads it as a term and never as syntax.
func (q Query) Match() string {
	groups := make([][]string, len(q.Words))
	for i, w := range q.Words {
		groups[i] = []string{w.Norm}
	}
	return MatchGroups(groups)
}

// MatchGroups returns an FTS5 MATCH expression requiring, for each group,
// any of its terms: `("a" OR "b") AND "c"` (FTS5 has no implicit AND after
// a parenthesized group, so AND is always spelled out). Terms are quoted FTS5 strings
// (a double quote inside is doubled), so no input can become an operator.
// Empty groups and empty terms are skipped.
func MatchGroups(groups [][]string) string {
	var b strings.Builder
	for _, g := range groups {
		var terms []string
		for _, t := range g {
			if t != "" {
				terms = append(terms, quoteFTS(t))
			}
		}
		if len(terms) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" AND ")
		}
		if len(terms) == 1 {
			b.WriteString(terms[0])
			continue
		}
		b.WriteByte('(')
		b.WriteString(strings.Join(terms, " OR "))
		b.WriteByte(')')
	}
	return b.String()
}

func quoteFTS(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
