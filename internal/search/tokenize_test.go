package search

import (
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	cases := []struct {
		in   string
		want []string // stems
	}{
		{"", nil},
		{"Hello, World!", []string{"hello", "world"}},
		{"Node.JS — server-side JavaScript", []string{"node", "js", "server", "side", "javascript"}},
		{"Café naïve Ünïcödé", []string{"cafe", "naiv", "unicod"}},
		{"running\x00runs\xffran", []string{"run", "run", "ran"}},
		{`"NEAR(a b)" OR title:x* ^y`, []string{"near", "a", "b", "or", "titl", "x", "y"}},
		{"日本語 テキスト", []string{"日本語", "テキスト"}},
	}
	for _, c := range cases {
		var got []string
		for _, tok := range Tokens(c.in) {
			got = append(got, tok.Stem)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Tokens(%q) stems = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokensOffsets(t *testing.T) {
	s := "Ünïcödé, café!"
	for _, tok := range Tokens(s) {
		if Normalize(s[tok.Start:tok.End]) != tok.Norm {
			t.Errorf("token %+v does not cover its text %q", tok, s[tok.Start:tok.End])
		}
	}
}

// TestTokensMatchSQLite compares the Go tokenizer with SQLite's on text with
// punctuation, diacritics, digits and other scripts.
func TestTokensMatchSQLite(t *testing.T) {
	texts := []string{
		"Kubernetes pods, deployments & services: a hands-on guide (2024).",
		"Crème brûlée à la carte — naïve façade, Ångström, Øresund, straße",
		"Go 1.22's range-over-func; x86_64 and ARMv8 builds",
		"<p>Not HTML here</p> &amp; entities stay text",
		"日本語のテキスト and Ελληνικά κείμενα and русский текст",
		"emoji 🚀 rockets 🚀🚀 launch",
		`quotes "inside" and 'single' and back\slash`,
		"tabs\tand\nnewlines\r\nare spaces",
		"decomposed e\u0301te\u0301 and cafe\u0301",
		"ligatures ﬁne Æsir œuvre ß ÿ İstanbul",
	}
	got := sqliteTokens(t, memFTS(t), texts)
	for i, s := range texts {
		var mine []string
		for _, tok := range Tokens(s) {
			mine = append(mine, tok.Stem)
		}
		if !slices.Equal(mine, got[i]) {
			t.Errorf("Tokens(%q)\n got %q\nsqlite %q", s, mine, got[i])
		}
	}
}
