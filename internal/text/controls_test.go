package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStripControls(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain", "Kubernetes in practice", "Kubernetes in practice"},
		{"keeps tab and newlines", "a\tb\nc\r\nd", "a\tb\nc\r\nd"},
		{"NUL and BEL", "Hi \x00there\x07", "Hi there"},
		{"ESC sequence loses its ESC", "red \x1b[31mtext", "red [31mtext"},
		{"DEL and C1", "a\x7fb\u0085c\u009bd", "abcd"},
		{"RLO spoof", "Hi \u202egnp.exe", "Hi gnp.exe"},
		{"all embeddings and overrides", "\u202aa\u202bb\u202cc\u202dd\u202ee", "abcde"},
		{"isolates", "\u2066a\u2067b\u2068c\u2069", "abc"},
		{"implicit marks stay", "abc\u200e\u200f\u061c", "abc\u200e\u200f\u061c"},
		{"RTL text stays", "שלום עולם مرحبا", "שלום עולם مرحبا"},
		{"emoji and accents stay", "café 👩‍💻", "café 👩‍💻"},
		{"only controls", "\x00\u202e\x1b", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := StripControls(c.in); got != c.want {
				t.Errorf("StripControls(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestStripControlsNoAllocWhenClean(t *testing.T) {
	s := strings.Repeat("A clean title, nothing to strip. ", 20)
	if n := testing.AllocsPerRun(100, func() { _ = StripControls(s) }); n != 0 {
		t.Errorf("clean input allocated %.0f times", n)
	}
}

func FuzzStripControls(f *testing.F) {
	for _, s := range []string{"", "Hi \u202egnp.exe", "a\x00b", "\x1b[2J", "שלום\u2067x\u2069", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := StripControls(s)
		if strings.IndexFunc(got, isStripped) >= 0 {
			t.Fatalf("StripControls(%q) = %q still has a stripped character", s, got)
		}
		if StripControls(got) != got {
			t.Fatalf("not idempotent on %q", s)
		}
		if len(got) > len(s) && utf8.ValidString(s) {
			t.Fatalf("grew valid input %q to %q", s, got)
		}
		// every kept rune is one of the input's, in order
		want := strings.Map(func(r rune) rune {
			if isStripped(r) {
				return -1
			}
			return r
		}, s)
		if got != want && utf8.ValidString(s) {
			t.Fatalf("StripControls(%q) = %q, want %q", s, got, want)
		}
	})
}
