package search

import (
	"html"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for the pure pieces. Seed corpora live in testdata/fuzz/;
// `go test` runs them as regular tests, `go test -fuzz=FuzzX` explores.

func FuzzParseQuery(f *testing.F) {
	for _, s := range hostileQueries {
		f.Add(s)
	}
	db := memFTS(f)
	if _, err := db.Exec(`INSERT INTO f(body) VALUES ('go kubernetes running near and or not')`); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			return
		}
		if len(q.Words) == 0 || len(q.Words) > MaxQueryWords {
			t.Fatalf("ParseQuery(%q) gave %d words", s, len(q.Words))
		}
		m := q.Match()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM f WHERE f MATCH ?`, m).Scan(&n); err != nil {
			t.Fatalf("ParseQuery(%q).Match() = %s: invalid FTS5: %v", s, m, err)
		}
		groups := make([][]string, len(q.Words))
		for i, w := range q.Words {
			groups[i] = []string{w.Stem, w.Norm}
		}
		if err := db.QueryRow(`SELECT count(*) FROM f WHERE f MATCH ?`, MatchGroups(groups)).Scan(&n); err != nil {
			t.Fatalf("MatchGroups(%q) = %s: invalid FTS5: %v", groups, MatchGroups(groups), err)
		}
	})
}

func FuzzOSA(f *testing.F) {
	f.Add("kubernetes", "kubernetse")
	f.Add("ca", "abc")
	f.Add("", "x")
	f.Add("héllo", "hello")
	f.Fuzz(func(t *testing.T, a, b string) {
		ra, rb := []rune(a), []rune(b)
		if len(ra) > 24 || len(rb) > 24 {
			return
		}
		d := OSA(a, b)
		if want := osaReference(ra, rb); d != want {
			t.Fatalf("OSA(%q, %q) = %d, reference %d", a, b, d, want)
		}
		if d != OSA(b, a) {
			t.Fatalf("OSA(%q, %q) is not symmetric", a, b)
		}
		if (d == 0) != (string(ra) == string(rb)) {
			t.Fatalf("OSA(%q, %q) = %d", a, b, d)
		}
		if d > max(len(ra), len(rb)) {
			t.Fatalf("OSA(%q, %q) = %d exceeds the longer length", a, b, d)
		}
		for k := 0; k <= 3; k++ {
			if WithinOSA(ra, rb, k) != (d <= k) {
				t.Fatalf("WithinOSA(%q, %q, %d) disagrees with distance %d", a, b, k, d)
			}
		}
	})
}

func FuzzHighlight(f *testing.F) {
	f.Add("Run, runner, running runs.", "run", 10)
	f.Add(`<b>go</b> & "go" <script>`, "go", 4)
	f.Add("</mark><mark>", "mark", 1)
	f.Add("x\xffgo\x00<", "go", 3)
	f.Fuzz(func(t *testing.T, text, query string, n int) {
		stems := map[string]bool{}
		for _, tok := range Tokens(query) {
			stems[tok.Stem] = true
		}
		n = n%64 + 1
		if n <= 0 {
			n += 64
		}
		out := Highlight(text, stems, n)
		assertSafeSnippet(t, text, out)
		// What it shows is the input's own text, nothing added but the
		// marks and the ellipses.
		plain := html.UnescapeString(strings.NewReplacer("<mark>", "", "</mark>", "").Replace(out))
		valid := strings.ToValidUTF8(text, "\uFFFD")
		for _, part := range strings.Split(plain, "…") {
			if !strings.Contains(valid, part) {
				t.Fatalf("Highlight(%q) = %q: %q is not from the input", text, out, part)
			}
		}
	})
}

// FuzzTokens checks the Go tokenizer and stemmer against SQLite's on Latin
// text (other scripts depend on each side's Unicode tables).
func FuzzTokens(f *testing.F) {
	f.Add("Kubernetes pods, running & deployments.")
	f.Add("Crème brûlée — naïve façade")
	f.Add("conditional generalization hopping ies eed")
	db := memFTS(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for _, r := range s {
			if r > 0x24f || r == 0 {
				return
			}
		}
		var mine []string
		for _, tok := range Tokens(s) {
			mine = append(mine, tok.Stem)
		}
		got := sqliteTokens(t, db, []string{s})[0]
		if strings.Join(mine, " ") != strings.Join(got, " ") {
			t.Fatalf("Tokens(%q) = %q, sqlite %q", s, mine, got)
		}
	})
}
