package text

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestPlainText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "Great course!", "Great course!"},
		{"less than survives", "a < b", "a < b"},
		{"heart survives", "I <3 Go", "I <3 Go"},
		{"entity decoded", "Tom &amp; Jerry", "Tom & Jerry"},
		{"bare ampersand", "Q&A session", "Q&A session"},
		{"tags removed", "<b>bold</b> and <i>italic</i>", "bold and italic"},
		{"script content removed", "hi<script>alert(1)</script> there", "hi there"},
		{"style content removed", "<style>body{display:none}</style>visible", "visible"},
		{"newlines kept", "line one\nline two\n\nline four", "line one\nline two\n\nline four"},
		{"crlf normalized", "a\r\nb", "a\nb"},
		{"br and paragraphs", "<p>one</p><p>two<br>three</p>", "one\ntwo\nthree"},
		{"trimmed", "  \n hi \t\n", "hi"},
		{"NUL removed", "a\x00b", "ab"},
		{"NUL cannot build a tag", "<scr\x00ipt>alert(1)</script>x", "x"},
		{"invalid utf8 replaced", "a\xffb", "a\uFFFDb"},
		{"encoded tag stripped", "&lt;script&gt;alert(1)&lt;/script&gt;ok", "ok"},
		{"double encoded tag stripped", "&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;", "bold"},
		// Removing <b> reassembles a script element, whose content then goes too.
		{"reassembled tag stripped", "<<b>script>alert(1)<</b>/script>x", "x"},
		{"comment removed", "a<!-- hidden -->b", "ab"},
		{"entity NUL", "a&#0;b", "a\uFFFDb"},
		// Still changing after maxPlainPasses: neutralized instead of decoded.
		{"deeply encoded is defanged", "&amp;amp;amp;amp;amp;lt;b&amp;amp;amp;amp;amp;gt;x", "& amp;lt;b& amp;gt;x"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PlainText(tc.in)
			assert.Equal(t, tc.want, got)
			assert.True(t, utf8.ValidString(got))
			assert.NotContains(t, got, "\x00")
			assert.Equal(t, got, PlainText(got), "idempotent")
			assertOnlyText(t, got)
		})
	}
}

func TestHTMLText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"plain", "hello", "hello"},
		{"paragraphs do not glue", "<p>one</p><p>two</p>", "one two"},
		{"br", "one<br>two<br/>three", "one two three"},
		{"list items", "<ul><li>a</li><li>b</li></ul>", "a b"},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr></table>", "a b"},
		{"inline does not split words", "un<b>believ</b>able", "unbelievable"},
		{"entities decoded", "Tom &amp; Jerry &lt;3 &nbsp;x", "Tom & Jerry <3 x"},
		{"whitespace collapsed", "  a \n\n\t b  ", "a b"},
		{"script skipped", "a<script>var x = '<p>no</p>';</script>b", "ab"},
		{"style skipped", "<style>p{}</style><p>x</p>", "x"},
		{"template skipped", "<template><p>hidden</p></template><p>shown</p>", "shown"},
		{"nested template", "<template><template>x</template>y</template>z", "z"},
		{"stray end tag does not unhide", "<template></script>hidden</template>shown", "shown"},
		{"self closing script", "<script/>hidden</script>shown", "shown"},
		{"comment skipped", "a<!-- b -->c", "ac"},
		{"heading and paragraph", "<h2>Intro</h2><p>Text here.</p>", "Intro Text here."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, HTMLText(tc.in))
		})
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("word ", 100) // 500 runes
	tests := []struct {
		name string
		body string
		max  int
		want string
	}{
		{"empty body", "", 300, ""},
		{"only markup", "<p><br></p>", 300, ""},
		{"short body unchanged", "<p>Hello <b>world</b></p>", 300, "Hello world"},
		{"exactly max", "abcde", 5, "abcde"},
		{"cut at word", "hello wonderful world", 12, "hello…"},
		{"cut exactly before a space", "hello world again", 12, "hello world…"},
		{"trailing comma trimmed", "one, two, three", 10, "one, two…"},
		{"single long word cut", "supercalifragilistic", 10, "supercali…"},
		{"runes not bytes", "ééééé ééééé", 8, "ééééé…"},
		{"max one", "hello world", 1, "h"},
		{"max zero", "hello", 0, ""},
		{"script not in excerpt", "<script>secret()</script>visible text", 300, "visible text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Excerpt(tc.body, tc.max)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, utf8.RuneCountInString(got), max(tc.max, 0))
		})
	}

	t.Run("long body at 300", func(t *testing.T) {
		got := Excerpt("<p>"+long+"</p>", 300)
		assert.LessOrEqual(t, utf8.RuneCountInString(got), 300)
		assert.True(t, strings.HasSuffix(got, "word…"), "cut at a word and ellipsis appended: %q", got)
		assert.Equal(t, strings.Repeat("word ", 59)+"word…", got)
	})
}

func TestWordCountAndReadingMinutes(t *testing.T) {
	words := func(n int) string { return strings.TrimSpace(strings.Repeat("w ", n)) }
	tests := []struct {
		name    string
		body    string
		words   int
		minutes int
	}{
		{"empty", "", 0, 1},
		{"markup only", "<p></p>", 0, 1},
		{"one word", "<p>hi</p>", 1, 1},
		{"200 words", "<p>" + words(200) + "</p>", 200, 1},
		{"201 words", "<p>" + words(201) + "</p>", 201, 2},
		{"400 words", words(400), 400, 2},
		{"401 words", words(401), 401, 3},
		{"paragraphs separate words", "<p>a</p><p>b</p>", 2, 1},
		{"script words do not count", "<p>" + words(200) + "</p><script>" + words(500) + "</script>", 200, 1},
		{"style words do not count", "<style>" + words(300) + "</style>x", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.words, WordCount(tc.body))
			assert.Equal(t, tc.minutes, ReadingMinutes(tc.body))
		})
	}
}
