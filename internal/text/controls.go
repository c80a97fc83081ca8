package text

import "strings"

// StripControls removes the characters that change how other text looks or
// behaves rather than showing as text themselves: C0 and C1 control codes
// (NUL, BEL, ESC sequences that reach terminals through logs, DEL…) except
// tab, line feed and carriage return, and the Unicode bidi embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069), with which a
// display name such as "Hi \u202Egnp.exe" renders as "Hi exe.png" and can
// pass for someone else's. The implicit marks LRM/RLM/ALM (U+200E, U+200F,
// U+061C) stay: right-to-left writers need them and they cannot reorder
// neighbouring text on their own.
//
// It returns s itself when there is nothing to strip, so the common case
// allocates nothing.
func StripControls(s string) string {
	if strings.IndexFunc(s, isStripped) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isStripped(r) {
			return -1
		}
		return r
	}, s)
}

func isStripped(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20 || (r >= 0x7f && r <= 0x9f):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
