package text

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// forbiddenElements must never appear in sanitized output, whatever the input.
var forbiddenElements = map[string]bool{
	"script": true, "style": true, "iframe": true, "object": true, "embed": true,
	"svg": true, "math": true, "form": true, "input": true, "button": true,
	"textarea": true, "select": true, "base": true, "link": true, "meta": true,
	"frame": true, "frameset": true, "applet": true, "noscript": true,
	"template": true, "xmp": true, "plaintext": true, "title": true,
}

// urlAttributes lists every attribute a browser may dereference as a URL.
// The sanitizer only allows href and src, but the check is broad on purpose
// so that a policy change cannot silently open another vector.
var urlAttributes = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true,
	"data": true, "poster": true, "background": true, "srcset": true,
	"cite": true, "lowsrc": true, "dynsrc": true, "longdesc": true,
	"xlink:href": true, "ping": true, "manifest": true, "codebase": true,
}

var allowedDataImage = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp)[;,]`)

// normalizeURLForCheck approximates how a browser reads a URL attribute's
// scheme: surrounding and embedded ASCII whitespace and control characters
// are ignored, and schemes are case-insensitive.
func normalizeURLForCheck(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v)
}

// assertInert parses out the way a browser would (as body content) and fails
// the test if anything executable or style-bearing survived: forbidden
// elements, foreign (SVG/MathML) content, on* handlers, style attributes, or
// URLs with a javascript:, vbscript: or non-image data: scheme.
func assertInert(t testing.TB, out string) bool {
	t.Helper()
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(out), body)
	require.NoError(t, err)

	ok := true
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			name := strings.ToLower(n.Data)
			if forbiddenElements[name] || n.Namespace != "" {
				ok = assert.Failf(t, "forbidden element", "<%s> (namespace %q) in output %q", n.Data, n.Namespace, out)
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				if a.Namespace != "" {
					key = strings.ToLower(a.Namespace) + ":" + key
				}
				if strings.HasPrefix(key, "on") {
					ok = assert.Failf(t, "event handler", "%s=%q on <%s> in output %q", a.Key, a.Val, n.Data, out)
				}
				if key == "style" {
					ok = assert.Failf(t, "style attribute", "style=%q on <%s> in output %q", a.Val, n.Data, out)
				}
				if urlAttributes[key] {
					v := normalizeURLForCheck(a.Val)
					bad := strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") ||
						(strings.HasPrefix(v, "data:") && !allowedDataImage.MatchString(v))
					if bad {
						ok = assert.Failf(t, "dangerous URL", "%s=%q on <%s> in output %q", a.Key, a.Val, n.Data, out)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return ok
}

// assertOnlyText fails unless an HTML tokenizer reads s as plain character
// data that decodes to s itself: no tags, comments or entities.
func assertOnlyText(t testing.TB, s string) bool {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(s))
	var got strings.Builder
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.TextToken {
			return assert.Failf(t, "markup in plain text", "token %v %q in %q", tt, z.Raw(), s)
		}
		got.Write(z.Text())
	}
	return assert.Equal(t, s, got.String(), "plain text must not contain entities or carriage returns")
}
