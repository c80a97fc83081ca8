package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Token is one word of a text as the index sees it: Start and End are byte
// offsets into the original text, Norm is the word lowercased with its
// diacritics removed and Stem is Norm through the Porter stemmer.
type Token struct {
	Start, End int
	Norm       string
	Stem       string
}

// isTokenRune mirrors the unicode61 tokenizer's default token characters
// (categories L*, N* and Co). Combining marks (Mn) are kept inside a word so
// that a decomposed "é" does not split it; they are dropped by normalizing.
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r) || unicode.Is(unicode.Mn, r)
}

// Tokens splits s into words the way the index's tokenizer ("porter
// unicode61 remove_diacritics 2") does: runs of letters, digits and private
// use characters, folded to lower case without diacritics, then stemmed.
// Invalid UTF-8 bytes separate words. It is the Go side of the tokenizer
// SQLite runs, used for snippets and typo correction; the index itself is
// always tokenized by SQLite.
func Tokens(s string) []Token {
	var out []Token
	start := -1
	for i := 0; i <= len(s); {
		r, size := rune(-1), 1
		if i < len(s) {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				r = -1
			}
		}
		if r >= 0 && isTokenRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			if n := Normalize(s[start:i]); n != "" {
				out = append(out, Token{Start: start, End: i, Norm: n, Stem: Stem(n)})
			}
			start = -1
		}
		if i == len(s) {
			break
		}
		i += size
	}
	return out
}

// Normalize lowercases a word and removes the diacritics of Latin letters
// ("Café" → "cafe"), as unicode61's remove_diacritics does: other scripts
// keep their marks ("ά", "й").
func Normalize(w string) string {
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(w)
	}
	var b strings.Builder
	b.Grow(len(w))
	for _, r := range w {
		switch {
		case r >= 0x300 && r <= 0x36f:
			// a combining diacritical mark on its own (decomposed text)
		case r >= 0xc0 && unicode.Is(unicode.Latin, r):
			for _, d := range norm.NFD.String(string(r)) {
				if !unicode.Is(unicode.Mn, d) {
					b.WriteRune(unicode.ToLower(d))
				}
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
