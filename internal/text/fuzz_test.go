package text

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// The seeds below run as ordinary tests with `go test`; more seeds (and any
// crasher the fuzzer ever found) live in testdata/fuzz/<FuzzName>/.

func FuzzSanitizeHTML(f *testing.F) {
	for _, tc := range xssPayloads {
		f.Add(tc.in)
	}
	f.Add(`<p>Hello <a href="https://example.com" target="_blank">link</a></p>`)
	f.Add(`<pre><code class="language-go">x := 1 &lt; 2</code></pre>`)
	f.Add(`<img src="data:image/png;base64,iVBORw0KGgo=" alt="x">`)
	f.Add("<table><tr><td colspan=2>a</td></tr></table>")
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeHTML(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output %q for %q", out, in)
		}
		if !assertInert(t, out) {
			t.Fatalf("input %q", in)
		}
		if again := SanitizeHTML(out); again != out {
			t.Fatalf("not idempotent for %q:\n first: %q\nsecond: %q", in, out, again)
		}
	})
}

func FuzzSlugify(f *testing.F) {
	for _, s := range []string{"Hello, World!", "Ünïcödé", "__a__b__", "日本語", "😀", "Tom & Jerry", strings.Repeat("ab ", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Slugify(in)
		if out != "" && !slugPattern.MatchString(out) {
			t.Fatalf("Slugify(%q) = %q does not match the slug pattern", in, out)
		}
		if len(out) > maxSlugLen {
			t.Fatalf("Slugify(%q) = %q is longer than %d", in, out, maxSlugLen)
		}
		if out != "" && !ValidSlug(out) {
			t.Fatalf("ValidSlug rejects Slugify(%q) = %q", in, out)
		}
		assert.Equal(t, out, Slugify(out), "idempotent")
		if out != "" {
			s := WithSuffix(out, 2+len(in)%200)
			if !ValidSlug(s) || len(s) > maxSlugLen {
				t.Fatalf("WithSuffix(%q) = %q is not a valid slug", out, s)
			}
		}
	})
}

func FuzzPlainText(f *testing.F) {
	for _, s := range []string{"a < b", "Tom &amp; Jerry", "<b>x</b>", "<<b>script>alert(1)<</b>/script>", "&amp;lt;script&amp;gt;", "a\x00b\r\nc", "&amp;amp;amp;amp;amp;lt;b&amp;amp;amp;amp;amp;gt;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := PlainText(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output %q for %q", out, in)
		}
		if strings.ContainsRune(out, 0) {
			t.Fatalf("NUL in output %q for %q", out, in)
		}
		if out != strings.TrimSpace(out) {
			t.Fatalf("output %q for %q is not trimmed", out, in)
		}
		if !assertOnlyText(t, out) {
			t.Fatalf("input %q", in)
		}
		if again := PlainText(out); again != out {
			t.Fatalf("not idempotent for %q:\n first: %q\nsecond: %q", in, out, again)
		}
	})
}

func FuzzExcerpt(f *testing.F) {
	f.Add("<p>Hello <b>world</b></p>", 300)
	f.Add(strings.Repeat("word ", 100), 300)
	f.Add("supercalifragilistic", 5)
	f.Add("ééé ééé", 4)
	f.Add("", 300)
	f.Fuzz(func(t *testing.T, body string, limit int) {
		// Keep the limit in a range that exercises cutting; negative and
		// zero limits are part of the contract too.
		limit %= 1000
		out := Excerpt(body, limit)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 excerpt %q", out)
		}
		if n := utf8.RuneCountInString(out); n > max(limit, 0) {
			t.Fatalf("excerpt %q has %d runes, max %d", out, n, limit)
		}
		full := HTMLText(body)
		if limit > 0 && utf8.RuneCountInString(full) <= limit && out != full {
			t.Fatalf("text fits but excerpt %q != %q", out, full)
		}
		if full == "" && out != "" {
			t.Fatalf("empty text but excerpt %q", out)
		}
	})
}
