package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileStrings would break a document built by string concatenation.
var hostileStrings = []string{
	`<script>alert("x")</script>`,
	`Tom & Jerry's "quoted" <b>title</b>`,
	`]]> <![CDATA[ --> <!-- `,
	"control \x00 \x01 \x0b \x1b chars",
	"invalid utf-8 \xff\xfe end",
	"&amp; &lt; &#x3C; already escaped",
	"emoji 🦫 and RTL \u202e text",
}

func hostileChannel(s string) channel {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return channel{
		Title: s, Description: s, Home: "https://x.example/?a=1&b=2", Self: "https://x.example/feed.xml", Publisher: s,
		Updated: at,
		Items: []item{{
			ID: "tag:x.example,2026-01-02:posts/1", URL: "https://x.example/posts/a?b=<c>&d=\"e\"",
			Title: s, Summary: s, ContentHTML: "<p>" + s + "</p>", Author: s,
			Published: at, Updated: at,
			Categories: []category{{Slug: s, Name: s}},
		}},
	}
}

// tokens reads every token of an XML document and returns its character data.
func tokens(t *testing.T, doc []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var text strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return text.String()
		}
		require.NoError(t, err, "not well-formed:\n%s", doc)
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
}

func TestRenderHostileStrings(t *testing.T) {
	for _, s := range hostileStrings {
		ch := hostileChannel(s)
		for name, write := range map[string]func(io.Writer, channel) error{"rss": writeRSS, "atom": writeAtom} {
			var buf bytes.Buffer
			require.NoError(t, write(&buf, ch), name)
			text := tokens(t, buf.Bytes())
			if strings.ToValidUTF8(s, "") == s && !strings.ContainsAny(s, "\x00\x01\x0b\x1b") {
				assert.Contains(t, text, s, "%s keeps %q intact", name, s)
			}
		}

		var buf bytes.Buffer
		require.NoError(t, writeJSONFeed(&buf, ch))
		var v map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &v), "%s", buf.Bytes())
		if strings.ToValidUTF8(s, "") == s {
			assert.Equal(t, s, v["title"])
		}
	}
}

func TestRSSDescriptionIsEscapedText(t *testing.T) {
	ch := hostileChannel("x")
	ch.Items[0].Summary = `a < b & <i>c</i>`
	var buf bytes.Buffer
	require.NoError(t, writeRSS(&buf, ch))
	var doc struct {
		Items []struct {
			Description string `xml:"description"`
		} `xml:"channel>item"`
	}
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))
	// a reader treating description as HTML shows the text, not markup
	assert.Equal(t, "a &lt; b &amp; &lt;i&gt;c&lt;/i&gt;", doc.Items[0].Description)
}

func TestEmptyFeedsAreValid(t *testing.T) {
	ch := channel{Title: "Lectern", Home: "https://x.example/", Self: "https://x.example/feed.xml", Updated: time.Now()}
	for _, write := range []func(io.Writer, channel) error{writeRSS, writeAtom} {
		var buf bytes.Buffer
		require.NoError(t, write(&buf, ch))
		tokens(t, buf.Bytes())
	}
	var buf bytes.Buffer
	require.NoError(t, writeJSONFeed(&buf, ch))
	assert.Contains(t, buf.String(), `"items": []`, "JSON Feed requires items, even empty")
}

func TestTagURI(t *testing.T) {
	created := time.Date(2026, 5, 6, 23, 59, 0, 0, time.FixedZone("x", -5*3600))
	assert.Equal(t, "tag:lectern.example,2026-05-07:posts/abc", tagURI("lectern.example", created, "posts", "abc"))
	assert.Equal(t, "tag:h,2000-01-01:posts/abc", tagURI("h", time.Time{}, "posts", "abc"))
}

func TestNewSite(t *testing.T) {
	cases := []struct{ appURL, name, url, host, wantName, post string }{
		{"https://lectern.example/", "Lectern", "https://lectern.example", "lectern.example", "Lectern", "https://lectern.example/posts/a-b"},
		{" https://Lectern.Example:8443/blog// ", "My blog", "https://Lectern.Example:8443/blog", "lectern.example", "My blog", "https://Lectern.Example:8443/blog/posts/a-b"},
		{"", "", "", "localhost", "Lectern", "/posts/a-b"},
	}
	for _, c := range cases {
		st := newSite(c.appURL, c.name)
		assert.Equal(t, c.url, st.url, c.appURL)
		assert.Equal(t, c.host, st.host, c.appURL)
		assert.Equal(t, c.wantName, st.name, c.appURL)
		assert.Equal(t, c.url+"/", st.home(), c.appURL)
		assert.Equal(t, c.post, st.link("posts", "a-b"), c.appURL)
	}
	assert.Equal(t, "https://x/posts/a%2Fb%3F", newSite("https://x", "").link("posts", "a/b?"), "path segments are escaped")
}
