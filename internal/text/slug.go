// Package text holds the small, pure string helpers the app uses for
// user-supplied content: URL slugs, the HTML allow-list sanitizer for editor
// fields, plain-text cleaning for comments and reviews, and the derived
// values (excerpt, word count, reading time) shown in listings.
//
// Everything here is a pure function of its arguments so it can be called
// from record hooks, API handlers and migrations alike, and so it can be
// fuzzed without any app setup.
package text

import (
	"strconv"
	"strings"

	"github.com/gosimple/slug"
)

// maxSlugLen is the longest slug Slugify and WithSuffix produce. It keeps
// URLs readable and leaves room under the 200-byte limit that ValidSlug
// (and the collections' slug fields) accept.
const maxSlugLen = 80

// maxValidSlugLen mirrors the slug field's max length in the collections,
// which is looser than maxSlugLen so that hand-edited slugs are not rejected
// just for being longer than what we would generate.
const maxValidSlugLen = 200

// Slugify turns a title into a URL slug: lowercase ASCII letters and digits
// separated by single '-'.
//
// Non-ASCII text is transliterated with gosimple/slug ("Ünïcödé" becomes
// "unicode", "&" becomes "and") so titles in other languages still give a
// readable slug; characters that have no transliteration (emoji, most
// symbols) are dropped. Underscores and all other punctuation become
// separators, because '_' is not allowed by ValidSlug and slug.Make keeps it.
//
// The result is at most maxSlugLen bytes; longer slugs are cut at the last
// '-' at or before that limit so words are not chopped in half, unless the
// first word alone is too long. The result always satisfies ValidSlug, or is
// "" when nothing usable is left - callers substitute a default such as
// "post" in that case.
func Slugify(s string) string {
	// slug.Make ranges over runes, so make invalid bytes explicit first
	// rather than relying on how unidecode treats U+FFFD.
	s = strings.ToValidUTF8(s, "\uFFFD")

	// slug.Make does the transliteration. Its output depends on package-level
	// knobs (Lowercase, MaxLength, ...), so it is only trusted as a first step:
	// the loop below enforces our own alphabet and separator rules whatever
	// those knobs are set to.
	t := slug.Make(s)

	var b strings.Builder
	b.Grow(len(t))
	pendingSep := false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		default:
			// Any other byte ('-', '_', leftover punctuation or non-ASCII)
			// only marks a word boundary. Emitting it lazily avoids leading,
			// trailing and doubled separators in one go.
			pendingSep = true
			continue
		}
		if pendingSep && b.Len() > 0 {
			b.WriteByte('-')
		}
		pendingSep = false
		b.WriteByte(c)
	}
	return truncateSlug(b.String(), maxSlugLen)
}

// truncateSlug shortens a well-formed slug to at most max bytes, preferring
// to cut at a '-' boundary so that the last word stays whole. The result
// never ends with '-'.
func truncateSlug(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	// s[max] == '-' means s[:max] ends exactly at a word boundary.
	if s[max] == '-' {
		return s[:max]
	}
	if i := strings.LastIndexByte(s[:max], '-'); i > 0 {
		return s[:i]
	}
	// A single word longer than max: a hard cut is the only option, and it
	// cannot end in '-' because the word contains none.
	return s[:max]
}

// ValidSlug reports whether s is an acceptable slug: one or more runs of
// lowercase ASCII letters and digits joined by single '-'
// (^[a-z0-9]+(-[a-z0-9]+)*$), at most 200 bytes long. It is used to validate
// slugs that users edit by hand, so it is deliberately independent of
// Slugify's shorter length limit.
func ValidSlug(s string) bool {
	if s == "" || len(s) > maxValidSlugLen {
		return false
	}
	// A hand-written scan instead of a regexp: this runs on every record
	// save and the grammar is trivial.
	prevDash := true // forbids a leading '-'
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevDash = false
		case c == '-':
			if prevDash {
				return false
			}
			prevDash = true
		default:
			return false
		}
	}
	return !prevDash // forbids a trailing '-'
}

// WithSuffix returns base + "-" + n, the candidate slug tried when base is
// already taken (n counts up from 2). The whole result stays within
// maxSlugLen by trimming base, and then any '-' left dangling at its end,
// before the suffix is added, so a long base still yields a valid, unique
// candidate instead of an over-long one.
//
// n below 2 is treated as 2 so that a caller bug can never produce
// "base--1" or "base-0"-style surprises; an empty base yields just the number
// so the result is still a valid slug.
func WithSuffix(base string, n int) string {
	if n < 2 {
		n = 2
	}
	suffix := strconv.Itoa(n)
	maxBase := maxSlugLen - len(suffix) - 1
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	base = strings.TrimRight(base, "-")
	if base == "" {
		return suffix
	}
	return base + "-" + suffix
}
