package search

// The Porter stemmer exactly as SQLite's FTS5 "porter" tokenizer applies it
// (fts5_tokenize.c): the same rules, in the same order, with the same
// conditions, on the bytes of a lowercased token, and the same limits (tokens
// shorter than 3 or longer than 64 bytes are left alone). Snippets and typo
// correction compare words by stem, so Go and SQLite must agree; a test
// checks that against SQLite's own index.

const (
	stemMinLen = 3
	stemMaxLen = 64
)

// Stem returns the Porter stem of a lowercased word ("running" → "run").
func Stem(w string) string {
	if len(w) < stemMinLen || len(w) > stemMaxLen {
		return w
	}
	b := []byte(w)
	b = step1a(b)
	if nb, ok := step1b(b); ok {
		b = nb
		if nb2, ok := applyFirst(b, step1b2Rules); ok {
			b = nb2
		} else if n := len(b); n >= 2 {
			c := b[n-1]
			if !isVowel(c, false) && c != 'l' && c != 's' && c != 'z' && c == b[n-2] {
				b = b[:n-1]
			} else if measureEq1(b) && endsCVC(b) {
				b = append(b, 'e')
			}
		}
	} else {
		b = nb
	}
	if n := len(b); n > 0 && b[n-1] == 'y' && hasVowel(b[:n-1]) {
		b[n-1] = 'i'
	}
	b, _ = applyFirst(b, step2Rules)
	b, _ = applyFirst(b, step3Rules)
	b, _ = applyFirst(b, step4Rules)
	if n := len(b); n > 0 && b[n-1] == 'e' {
		if measureGt1(b[:n-1]) || (measureEq1(b[:n-1]) && !endsCVC(b[:n-1])) {
			b = b[:n-1]
		}
	}
	if n := len(b); n > 1 && b[n-1] == 'l' && b[n-2] == 'l' && measureGt1(b[:n-1]) {
		b = b[:n-1]
	}
	return string(b)
}

// isVowel: a, e, i, o, u, and y when yIsVowel (y after a consonant).
func isVowel(c byte, yIsVowel bool) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	case 'y':
		return yIsVowel
	}
	return false
}

// skipVC returns the index just past the first vowel-consonant sequence of
// s, or 0 when there is none. prevCons tells whether the byte before s was a
// consonant (it decides whether a leading y is a vowel).
func skipVC(s []byte, prevCons bool) int {
	cons := prevCons
	i := 0
	for ; i < len(s); i++ {
		cons = !isVowel(s[i], cons)
		if !cons {
			break
		}
	}
	for i++; i < len(s); i++ {
		cons = !isVowel(s[i], cons)
		if cons {
			return i + 1
		}
	}
	return 0
}

// measureGt0 is Porter's m > 0.
func measureGt0(s []byte) bool { return skipVC(s, false) != 0 }

// measureGt1 is Porter's m > 1.
func measureGt1(s []byte) bool {
	n := skipVC(s, false)
	return n != 0 && skipVC(s[n:], true) != 0
}

// measureEq1 is Porter's m = 1.
func measureEq1(s []byte) bool {
	n := skipVC(s, false)
	return n != 0 && skipVC(s[n:], true) == 0
}

// endsCVC is Porter's *o: consonant, vowel, consonant at the end, the last
// not w, x or y.
func endsCVC(s []byte) bool {
	n := len(s)
	if n == 0 {
		return false
	}
	if c := s[n-1]; c == 'w' || c == 'x' || c == 'y' {
		return false
	}
	mask, cons := 0, false
	for _, c := range s {
		cons = !isVowel(c, cons)
		mask <<= 1
		if cons {
			mask |= 1
		}
	}
	return mask&7 == 5
}

// hasVowel is Porter's *v*; here y counts as a vowel anywhere but first.
func hasVowel(s []byte) bool {
	for i, c := range s {
		if isVowel(c, i > 0) {
			return true
		}
	}
	return false
}

func step1a(b []byte) []byte {
	n := len(b)
	if n < 2 || b[n-1] != 's' {
		return b
	}
	switch {
	case b[n-2] == 'e':
		if (n > 4 && b[n-4] == 's' && b[n-3] == 's') || (n > 3 && b[n-3] == 'i') {
			return b[:n-2]
		}
		return b[:n-1]
	case b[n-2] != 's':
		return b[:n-1]
	}
	return b
}

// step1b removes -eed/-ed/-ing; ok reports that -ed or -ing went, which
// triggers the clean-up rules.
func step1b(b []byte) ([]byte, bool) {
	n := len(b)
	switch {
	case n > 3 && hasSuffix(b, "eed"):
		if measureGt0(b[:n-3]) {
			return b[:n-1], false
		}
		return b, false
	case n > 2 && hasSuffix(b, "ed"):
		if hasVowel(b[:n-2]) {
			return b[:n-2], true
		}
	case n > 3 && hasSuffix(b, "ing"):
		if hasVowel(b[:n-3]) {
			return b[:n-3], true
		}
	}
	return b, false
}

type stemRule struct {
	suffix, repl string
	cond         func([]byte) bool // on the stem before the suffix; nil = always
}

// applyFirst applies the first rule whose suffix ends b (with at least one
// byte before it): if its condition holds on the stem, the suffix is
// replaced. Later rules are not tried once a suffix matched, as in SQLite.
func applyFirst(b []byte, rules []stemRule) ([]byte, bool) {
	n := len(b)
	for _, r := range rules {
		if n <= len(r.suffix) || !hasSuffix(b, r.suffix) {
			continue
		}
		stem := b[:n-len(r.suffix)]
		if r.cond != nil && !r.cond(stem) {
			return b, false
		}
		return append(stem, r.repl...), true
	}
	return b, false
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

func gt1SorT(s []byte) bool {
	n := len(s)
	return n > 0 && (s[n-1] == 's' || s[n-1] == 't') && measureGt1(s)
}

var step1b2Rules = []stemRule{{"at", "ate", nil}, {"bl", "ble", nil}, {"iz", "ize", nil}}

var step2Rules = []stemRule{
	{"ational", "ate", measureGt0}, {"tional", "tion", measureGt0},
	{"enci", "ence", measureGt0}, {"anci", "ance", measureGt0},
	{"izer", "ize", measureGt0},
	{"logi", "log", measureGt0},
	{"bli", "ble", measureGt0}, {"alli", "al", measureGt0}, {"entli", "ent", measureGt0},
	{"eli", "e", measureGt0}, {"ousli", "ous", measureGt0},
	{"ization", "ize", measureGt0}, {"ation", "ate", measureGt0}, {"ator", "ate", measureGt0},
	{"alism", "al", measureGt0}, {"iveness", "ive", measureGt0}, {"fulness", "ful", measureGt0},
	{"ousness", "ous", measureGt0},
	{"aliti", "al", measureGt0}, {"iviti", "ive", measureGt0}, {"biliti", "ble", measureGt0},
}

var step3Rules = []stemRule{
	{"ical", "ic", measureGt0},
	{"ness", "", measureGt0},
	{"icate", "ic", measureGt0}, {"iciti", "ic", measureGt0},
	{"ful", "", measureGt0},
	{"ative", "", measureGt0},
	{"alize", "al", measureGt0},
}

var step4Rules = []stemRule{
	{"al", "", measureGt1},
	{"ance", "", measureGt1}, {"ence", "", measureGt1},
	{"er", "", measureGt1},
	{"ic", "", measureGt1},
	{"able", "", measureGt1}, {"ible", "", measureGt1},
	{"ant", "", measureGt1}, {"ement", "", measureGt1}, {"ment", "", measureGt1}, {"ent", "", measureGt1},
	{"ion", "", gt1SorT}, {"ou", "", measureGt1},
	{"ism", "", measureGt1},
	{"ate", "", measureGt1}, {"iti", "", measureGt1},
	{"ous", "", measureGt1},
	{"ive", "", measureGt1},
	{"ize", "", measureGt1},
}
