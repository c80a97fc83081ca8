package search

import (
	"regexp"
	"strings"
	"testing"
)

func stemSet(words ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words {
		m[Stem(Normalize(w))] = true
	}
	return m
}

func TestHighlight(t *testing.T) {
	long := strings.Repeat("filler ", 50) + "the running dog" + strings.Repeat(" tail", 50)
	for _, c := range []struct {
		name  string
		text  string
		stems map[string]bool
		n     int
		want  string
	}{
		{"marks every stemmed match", "Run, runner, running runs.", stemSet("run"), 10,
			"<mark>Run</mark>, runner, <mark>running</mark> <mark>runs</mark>."},
		{"escapes HTML", `<b>go</b> & "go" <script>`, stemSet("go"), 10,
			`&lt;b&gt;<mark>go</mark>&lt;/b&gt; &amp; &#34;<mark>go</mark>&#34; &lt;script&gt;`},
		{"no match shows the start", "alpha beta gamma delta", stemSet("zeta"), 2,
			"alpha beta…"},
		{"window around a late match", long, stemSet("dog"), 6,
			"…the running <mark>dog</mark> tail tail tail…"},
		{"keeps diacritics as written", "Café culture", stemSet("cafe"), 5,
			"<mark>Café</mark> culture"},
		{"empty", "", stemSet("x"), 5, ""},
		{"no words", "<<>>", stemSet("x"), 5, "&lt;&lt;&gt;&gt;"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Highlight(c.text, c.stems, c.n); got != c.want {
				t.Errorf("Highlight = %q\n          want %q", got, c.want)
			}
		})
	}
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// assertSafeSnippet checks the snippet contract: no tag but <mark> and
// </mark>, balanced, and no raw '<', '>' or unescaped '&' otherwise.
func assertSafeSnippet(t testing.TB, in, out string) {
	t.Helper()
	open := 0
	for _, tag := range tagRE.FindAllString(out, -1) {
		switch tag {
		case "<mark>":
			open++
		case "</mark>":
			open--
		default:
			t.Fatalf("Highlight(%q) = %q: tag %q", in, out, tag)
		}
		if open < 0 || open > 1 {
			t.Fatalf("Highlight(%q) = %q: unbalanced marks", in, out)
		}
	}
	if open != 0 {
		t.Fatalf("Highlight(%q) = %q: unclosed mark", in, out)
	}
	rest := tagRE.ReplaceAllString(out, "")
	if strings.ContainsAny(rest, "<>\"'") {
		t.Fatalf("Highlight(%q) = %q: raw markup character", in, out)
	}
	for i := strings.IndexByte(rest, '&'); i >= 0; i = strings.IndexByte(rest, '&') {
		if !regexp.MustCompile(`^&(amp|lt|gt|#34|#39);`).MatchString(rest[i:]) {
			t.Fatalf("Highlight(%q) = %q: unescaped &", in, out)
		}
		rest = rest[i+1:]
	}
}

func TestHighlightIsSafe(t *testing.T) {
	for _, s := range append(hostileQueries,
		`<mark>x</mark>`, `</mark><script>alert(1)</script>`, `<img src=x onerror=alert(1)> go`,
		"go\x00<", "\xff<go>", `&lt;go&gt;`, `a&b`, `go"'go`) {
		assertSafeSnippet(t, s, Highlight(s, stemSet("go", "x", "a", "mark"), 8))
	}
}
