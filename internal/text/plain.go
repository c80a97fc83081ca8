package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// wordsPerMinute is the reading speed behind ReadingMinutes; 200 is the
// usual figure for reading on screen.
const wordsPerMinute = 200

// maxPlainPasses bounds PlainText's strip-and-decode loop. Each extra pass
// peels one more layer of entity encoding ("&amp;lt;b&amp;gt;"), and real
// input is stable after two; anything still changing after this many passes
// is treated as hostile and defanged instead.
const maxPlainPasses = 4

// hiddenElements are elements whose content is never shown as text: script
// and style code, inert template content, and the raw-text containers
// (iframe, noscript, noembed, noframes) that the tokenizer hands over
// unparsed and that a browser does not render as text either.
var hiddenElements = map[string]bool{
	"script": true, "style": true, "template": true,
	"noscript": true, "iframe": true, "noembed": true, "noframes": true,
}

// blockElements break the flow of text, so the words on either side of them
// must not be glued together ("<p>one</p><p>two</p>" is "one two").
var blockElements = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true,
	"br": true, "caption": true, "dd": true, "details": true, "dialog": true,
	"div": true, "dl": true, "dt": true, "fieldset": true, "figcaption": true,
	"figure": true, "footer": true, "form": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "header": true,
	"hgroup": true, "hr": true, "li": true, "main": true, "nav": true,
	"ol": true, "option": true, "p": true, "pre": true, "section": true,
	"summary": true, "table": true, "tbody": true, "td": true, "tfoot": true,
	"th": true, "thead": true, "tr": true, "ul": true,
}

// textEmitter receives the visible pieces of an HTML fragment from walkText.
type textEmitter interface {
	// text is called with entity-decoded character data.
	text(s string)
	// boundary is called where a block element starts or ends; br reports
	// whether it is a <br>, the one element that is a line break by itself.
	boundary(br bool)
}

// walkText tokenizes s and reports its visible text and block boundaries to
// e, skipping tags, comments, doctypes and the content of hiddenElements.
// It uses the tokenizer rather than the tree-building parser: it is cheaper,
// and for text extraction the implied structure does not matter.
func walkText(s string, e textEmitter) {
	z := html.NewTokenizer(strings.NewReader(s))
	// hidden counts open hidden elements per name, so a stray end tag of a
	// different hidden element cannot end the skipping early.
	var hidden map[string]int
	hiddenDepth := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			// io.EOF: reading from a string cannot fail otherwise.
			return
		case html.TextToken:
			if hiddenDepth == 0 {
				e.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			// Self-closing is treated like a start tag: browsers ignore the
			// "/" on non-void elements, and the tokenizer switches to raw
			// text after "<script/>" too.
			name, _ := z.TagName()
			n := string(name)
			if hiddenElements[n] {
				if hidden == nil {
					hidden = make(map[string]int)
				}
				hidden[n]++
				hiddenDepth++
			} else if hiddenDepth == 0 && blockElements[n] {
				e.boundary(n == "br")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			n := string(name)
			if hidden[n] > 0 {
				hidden[n]--
				hiddenDepth--
			} else if hiddenDepth == 0 && blockElements[n] {
				// "</br>" is a line break too in browsers.
				e.boundary(n == "br")
			}
		}
	}
}

// collapsingEmitter builds HTMLText's output: whitespace runs and block
// boundaries become a single space, with none at either end.
type collapsingEmitter struct {
	b            strings.Builder
	pendingSpace bool
}

func (c *collapsingEmitter) text(s string) {
	for _, r := range s {
		if unicode.IsSpace(r) {
			c.pendingSpace = true
			continue
		}
		if c.pendingSpace && c.b.Len() > 0 {
			c.b.WriteByte(' ')
		}
		c.pendingSpace = false
		c.b.WriteRune(r)
	}
}

func (c *collapsingEmitter) boundary(bool) { c.pendingSpace = true }

// HTMLText returns the visible text of an HTML fragment as a single line:
// tags are dropped, the content of script, style, template (and the other
// hidden raw-text elements) is skipped, block elements and <br> separate
// words, entities are decoded, and whitespace runs collapse to one space.
// It is the basis for excerpts and word counts, which must not count markup.
func HTMLText(s string) string {
	var c collapsingEmitter
	c.b.Grow(len(s) / 2)
	walkText(strings.ToValidUTF8(s, "\uFFFD"), &c)
	return c.b.String()
}

// lineEmitter builds one PlainText pass: text is copied verbatim (newlines
// included), <br> becomes a newline and block boundaries make sure a line
// has ended, so "<p>a</p><p>b</p>" reads "a\nb" rather than "ab".
type lineEmitter struct {
	b strings.Builder
}

func (l *lineEmitter) text(s string) { l.b.WriteString(s) }

func (l *lineEmitter) boundary(br bool) {
	if br {
		l.b.WriteByte('\n')
		return
	}
	if n := l.b.Len(); n > 0 && l.b.String()[n-1] != '\n' {
		l.b.WriteByte('\n')
	}
}

// plainPass strips tags and decodes entities once.
func plainPass(s string) string {
	var l lineEmitter
	l.b.Grow(len(s))
	walkText(s, &l)
	// Decoding "&#0;" yields U+FFFD, never NUL, but a stray NUL must not be
	// able to split a tag name for a later consumer either.
	return strings.ReplaceAll(l.b.String(), "\x00", "")
}

// PlainText cleans a comment or review body, which is stored and shown as
// plain text: tags are removed (script and style with their content),
// entities are decoded, and this is repeated until nothing changes, so that
// encoded markup like "&lt;script&gt;" cannot turn into a tag later. Text
// such as "a < b" or "Tom &amp; Jerry" (which becomes "Tom & Jerry")
// survives. The result is valid UTF-8 without NUL bytes, trimmed at both
// ends, with its internal newlines kept.
//
// The output contains nothing an HTML tokenizer would read as a tag or an
// entity, and PlainText(PlainText(s)) == PlainText(s).
func PlainText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	stable := false
	for range maxPlainPasses {
		next := plainPass(s)
		if next == s {
			stable = true
			break
		}
		s = next
	}
	if !stable && plainPass(s) != s {
		// Deeply nested encodings: rather than keep decoding, neutralize
		// what is left so the output is final.
		s = defang(s)
	}
	return strings.TrimSpace(s)
}

// defang makes s inert as HTML text without removing any visible character:
// a space goes after every '<' that would open a tag, comment or end tag and
// after every '&' that could start an entity, and carriage returns become
// newlines as the tokenizer would turn them. The result is therefore a fixed
// point of plainPass.
func defang(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		b.WriteByte(c)
		if i+1 >= len(s) {
			break
		}
		next := s[i+1]
		switch c {
		case '<':
			if next == '/' || next == '!' || next == '?' ||
				(next|0x20 >= 'a' && next|0x20 <= 'z') {
				b.WriteByte(' ')
			}
		case '&':
			if !isASCIISpace(next) {
				b.WriteByte(' ')
			}
		}
	}
	return b.String()
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// Excerpt returns a teaser of at most max runes taken from the visible text
// of body (see HTMLText). When the text is longer it is cut at a word
// boundary and "…" is appended, room for which is reserved so the result
// never exceeds max. A single word longer than the limit is cut mid-word
// rather than yielding nothing. An empty body gives "".
func Excerpt(body string, max int) string {
	if max <= 0 {
		return ""
	}
	t := HTMLText(body)
	if utf8.RuneCountInString(t) <= max {
		return t
	}
	runes := []rune(t)
	if max == 1 {
		// No room for both a character and the ellipsis.
		return string(runes[:1])
	}
	limit := max - 1 // leave room for "…"
	cut := limit
	// HTMLText collapsed whitespace to single spaces, so ' ' is the only
	// word boundary to look for. runes[limit] == ' ' means the first limit
	// runes end exactly at a word.
	if runes[limit] != ' ' {
		for i := limit - 1; i > 0; i-- {
			if runes[i] == ' ' {
				cut = i
				break
			}
		}
	}
	// Dangling separators before the ellipsis look broken ("one, two,…").
	head := strings.TrimRight(string(runes[:cut]), " ,;:")
	if head == "" {
		head = string(runes[:limit])
	}
	return head + "…"
}

// WordCount counts the whitespace-separated words of body's visible text, so
// markup, scripts and styles are not counted.
func WordCount(body string) int {
	return len(strings.Fields(HTMLText(body)))
}

// ReadingMinutes estimates reading time at 200 words per minute, rounded up,
// and never reports less than one minute so that listings do not show
// "0 min read".
func ReadingMinutes(body string) int {
	n := WordCount(body)
	return max(1, (n+wordsPerMinute-1)/wordsPerMinute)
}
