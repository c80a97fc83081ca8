package text

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

var (
	// hrefPattern is checked on the raw (entity-decoded) href before
	// bluemonday parses it. bluemonday's scheme allow-list is global to the
	// policy, so "data" - needed for pasted images - would otherwise be
	// accepted on links too. Go regexps have no negative look-ahead, so the
	// pattern spells out what is allowed instead: an http/https/mailto scheme,
	// or a relative reference (no ':' before the first '/', '?' or '#').
	hrefPattern = regexp.MustCompile(`(?i)^\s*(?:(?:https?|mailto):|[^:/?#]*(?:[/?#]|$))`)

	// srcPattern is the img src counterpart: http(s), the four raster
	// data: image types, or a relative reference. SVG is left out on purpose
	// because an SVG document can carry script.
	srcPattern = regexp.MustCompile(`(?i)^\s*(?:https?:|data:image/(?:png|jpeg|gif|webp);base64,|[^:/?#]*(?:[/?#]|$))`)

	// dataImagePrefix re-checks data: URLs after bluemonday has parsed them,
	// so the media type is verified on exactly what will be emitted.
	dataImagePrefix = regexp.MustCompile(`(?i)^image/(?:png|jpeg|gif|webp);base64,`)

	// codeClassPattern only lets through the class the editor's syntax
	// highlighter uses, never arbitrary classes that could restyle the page.
	codeClassPattern = regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,40}$`)

	// targetBlankPattern: "_blank" is the only target worth keeping; named
	// targets could be used to hijack other windows of the site.
	targetBlankPattern = regexp.MustCompile(`^_blank$`)
)

// editorPolicy is built once: constructing a bluemonday policy compiles
// maps and regexps, and a finished policy is safe for concurrent use.
var editorPolicy = newEditorPolicy()

// maxSanitizePasses bounds the fixed-point loop in SanitizeHTML. In practice
// the second pass already changes nothing; the bound only exists so that a
// pathological input cannot make us loop for long.
const maxSanitizePasses = 4

// newEditorPolicy builds the allow-list for rich-text editor fields. Anything
// not listed here is dropped. script, style, iframe, object, noscript and
// the like go with their content; other unknown elements (svg, math, form,
// div, span, ...) are unwrapped, their text kept and escaped.
func newEditorPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()

	p.AllowElements(
		"p", "br", "hr",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"strong", "b", "em", "i", "u", "s", "mark", "sub", "sup",
		"blockquote", "ul", "ol", "li",
		"pre", "code",
		"table", "thead", "tbody", "tr", "th", "td",
		"figure", "figcaption",
	)

	// Links. rel is deliberately not allowed from input: fixLinkRels sets it
	// from scratch so authors cannot opt out of nofollow.
	p.AllowAttrs("href").Matching(hrefPattern).OnElements("a")
	p.AllowAttrs("target").Matching(targetBlankPattern).OnElements("a")
	p.AllowAttrs("title").OnElements("a", "img")

	// Images, including pasted base64 images.
	p.AllowAttrs("src").Matching(srcPattern).OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("img")

	p.AllowAttrs("class").Matching(codeClassPattern).OnElements("code")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("th", "td")

	// URLs must parse, and only these schemes survive. Relative URLs are
	// needed for links and images pointing inside the site.
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("http", "https", "mailto")
	// Not bluemonday's AllowDataURIImages: that one also accepts
	// image/svg+xml.
	p.AllowURLSchemeWithCustomPolicy("data", func(u *url.URL) bool {
		return u.RawQuery == "" && u.Fragment == "" && dataImagePrefix.MatchString(u.Opaque)
	})

	return p
}

// SanitizeHTML cleans an editor field (posts.body, courses.description,
// lessons.body) with a server-side allow-list so that whatever the client
// sends, the stored HTML can be rendered without escaping.
//
// Kept: paragraphs and line breaks, headings, basic inline formatting, lists,
// blockquotes, code blocks (with class="language-xxx" on code for
// highlighting), tables, figures, links (http, https, mailto, relative) and
// images (http, https, relative and base64 png/jpeg/gif/webp data URLs).
// External links get rel="noopener nofollow"; target is kept only when it is
// "_blank". Everything else - script/style with their content, iframes,
// objects, forms, SVG/MathML, event handlers, style attributes, and
// javascript:/vbscript:/data: URLs - is removed.
//
// The result is valid UTF-8 and SanitizeHTML is idempotent, so content can be
// re-sanitized on every save without drifting.
func SanitizeHTML(s string) string {
	// Invalid UTF-8 would be copied through by the tokenizer; NUL bytes are
	// dropped because browsers ignore them inside tag names ("<scr\x00ipt>"),
	// which is exactly the kind of disagreement a sanitizer must not have.
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")

	out := sanitizeOnce(s)
	// bluemonday is a token filter, and removing a token can occasionally
	// leave output that a second pass would clean further. Iterating to a
	// fixed point is what makes SanitizeHTML idempotent.
	for range maxSanitizePasses - 1 {
		next := sanitizeOnce(out)
		if next == out {
			break
		}
		out = next
	}
	return out
}

// sanitizeOnce is a single policy pass followed by the link rel fix-up.
func sanitizeOnce(s string) string {
	return fixLinkRels(editorPolicy.Sanitize(s))
}

// fixLinkRels sets rel on every <a> of already-sanitized HTML: external
// links (with a host, i.e. absolute http(s) or protocol-relative) get
// "noopener nofollow" so we neither pass link equity to spam nor hand the
// opened page a window.opener; internal links opened with target="_blank"
// still get "noopener". bluemonday can add these tokens itself, but not in
// this combination and order, hence the extra, cheap pass.
func fixLinkRels(s string) string {
	if !strings.Contains(s, "<a") {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s) + 64)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			// The input is our own in-memory string, so the only error is EOF.
			return b.String()
		}
		raw := z.Raw()
		isAnchor := (tt == html.StartTagToken || tt == html.SelfClosingTagToken) &&
			(bytes.HasPrefix(raw, []byte("<a ")) || bytes.HasPrefix(raw, []byte("<a>")) || bytes.HasPrefix(raw, []byte("<a/")))
		if !isAnchor {
			// Everything else is copied byte for byte: it already went
			// through bluemonday and must not be re-serialized differently.
			b.Write(raw)
			continue
		}
		tok := z.Token()
		attrs := tok.Attr[:0]
		var external, blank bool
		for _, a := range tok.Attr {
			switch a.Key {
			case "rel":
				continue
			case "href":
				if u, err := url.Parse(a.Val); err == nil && u.Host != "" {
					external = true
				}
			case "target":
				blank = a.Val == "_blank"
			}
			attrs = append(attrs, a)
		}
		switch {
		case external:
			attrs = append(attrs, html.Attribute{Key: "rel", Val: "noopener nofollow"})
		case blank:
			attrs = append(attrs, html.Attribute{Key: "rel", Val: "noopener"})
		}
		tok.Attr = attrs
		b.WriteString(tok.String())
	}
}
