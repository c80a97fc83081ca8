package search

import (
	"errors"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    string
		match string
		err   error
	}{
		{"one word", "go", `"go"`, nil},
		{"words are ANDed and lowercased", "Kubernetes Pods", `"kubernetes" AND "pods"`, nil},
		{"diacritics removed", "Café", `"cafe"`, nil},
		{"quotes are separators", `"exact phrase"`, `"exact" AND "phrase"`, nil},
		{"NEAR is a word", `NEAR(a b, 3)`, `"near" AND "a" AND "b" AND "3"`, nil},
		{"operators are words", `a AND b OR NOT c`, `"a" AND "and" AND "b" AND "or" AND "not" AND "c"`, nil},
		{"column filter is words", `title:secret body:x`, `"title" AND "secret" AND "body" AND "x"`, nil},
		{"prefix and boost are separators", `kube* ^go +x -y`, `"kube" AND "go" AND "x" AND "y"`, nil},
		{"only punctuation", `*** "" () :^`, "", ErrQueryEmpty},
		{"empty", "", "", ErrQueryEmpty},
		{"NUL byte", "go\x00lang", "", ErrQueryControl},
		{"invalid UTF-8", "go\xff", "", ErrQueryEncoding},
		{"too long", strings.Repeat("a", MaxQueryBytes+1), "", ErrQueryTooLong},
		{"too many words", strings.Repeat("w ", MaxQueryWords+1), "", ErrQueryTooMany},
		{"max words", strings.TrimSpace(strings.Repeat("w ", MaxQueryWords)), strings.TrimSuffix(strings.Repeat(`"w" AND `, MaxQueryWords), " AND "), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := ParseQuery(c.in)
			if !errors.Is(err, c.err) {
				t.Fatalf("error = %v, want %v", err, c.err)
			}
			if err == nil && q.Match() != c.match {
				t.Errorf("Match() = %s, want %s", q.Match(), c.match)
			}
		})
	}
}

func TestMatchGroups(t *testing.T) {
	for _, c := range []struct {
		in   [][]string
		want string
	}{
		{nil, ""},
		{[][]string{{"a"}}, `"a"`},
		{[][]string{{"a", "b"}, {"c"}}, `("a" OR "b") AND "c"`},
		{[][]string{{"a"}, {"b", "c"}, {"d"}}, `"a" AND ("b" OR "c") AND "d"`},
		{[][]string{{}, {""}, {`x"y`}}, `"x""y"`},
	} {
		if got := MatchGroups(c.in); got != c.want {
			t.Errorf("MatchGroups(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// hostileQueries is FTS5 syntax and other input a search box may receive.
var hostileQueries = []string{
	`"`, `""`, `"""`, `'`, `*`, `^`, `:`, `(`, `)`, `()`, `-`, `+`, `NEAR(`, `NEAR(a b`,
	`NEAR(a b, 99999999999)`, `a NEAR/3 b`, `a AND`, `OR b`, `NOT`, `AND OR NOT`,
	`{title body}: x`, `title:x`, `-title:x`, `rank:1`, `rowid:1`, `_search_fts:x`,
	`x*`, `*x`, `^x`, `x^`, `"a" + "b"`, `a + b`, `(a OR b) AND NOT c`, `\"`, `\x`,
	`'; DROP TABLE posts; --`, `%`, `_`, `\`, `{:ftsMatch}`, `[[id]]`, `{{posts}}`,
	`🚀`, `日本語`, `é`, "e\u0301", `a"b`, `a''b`, `CAST(1 AS TEXT)`, `x OR 1=1`,
}

// TestMatchIsAlwaysValidFTS runs every accepted hostile query through SQLite:
// the sanitized expression must never be a syntax error.
func TestMatchIsAlwaysValidFTS(t *testing.T) {
	db := memFTS(t)
	if _, err := db.Exec(`INSERT INTO f(body) VALUES ('near title body rank a b x')`); err != nil {
		t.Fatal(err)
	}
	for _, s := range hostileQueries {
		q, err := ParseQuery(s)
		if err != nil {
			continue
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM f WHERE f MATCH ?`, q.Match()).Scan(&n); err != nil {
			t.Errorf("query %q → %s: %v", s, q.Match(), err)
		}
		// with every word widened to a group, as typo correction does
		groups := make([][]string, len(q.Words))
		for i, w := range q.Words {
			groups[i] = []string{w.Norm, w.Stem, "x"}
		}
		if err := db.QueryRow(`SELECT count(*) FROM f WHERE f MATCH ?`, MatchGroups(groups)).Scan(&n); err != nil {
			t.Errorf("query %q → %s: %v", s, MatchGroups(groups), err)
		}
	}
}
