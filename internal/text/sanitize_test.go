package text

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// xssPayloads is a selection from the OWASP XSS Filter Evasion Cheat Sheet
// plus a few mutation-XSS classics. Every output must be inert; mustNot lists
// substrings that additionally must be gone (e.g. script bodies).
var xssPayloads = []struct {
	name    string
	in      string
	mustNot []string
}{
	{"basic script", `<script>alert('XSS')</script>`, []string{"alert", "<script"}},
	{"script src", `<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>`, []string{"xss.js"}},
	{"mixed case script", `<ScRiPt>alert(1)</sCrIpT>`, []string{"alert"}},
	{"nested script", `<scr<script>ipt>alert(1)</scr</script>ipt>`, []string{"<script", "<scr"}},
	{"script with slash attr", `<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>`, []string{"xss.js"}},
	{"extraneous open bracket", `<<SCRIPT>alert("XSS");//\<</SCRIPT>`, []string{"alert"}},
	{"unclosed script", `<SCRIPT SRC=http://xss.rocks/xss.js?< B >`, []string{"xss.js"}},
	{"end title", `</TITLE><SCRIPT>alert("XSS");</SCRIPT>`, []string{"alert"}},
	{"conditional comment", `<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->`, []string{"alert"}},
	{"img javascript", `<IMG SRC="javascript:alert('XSS');">`, []string{"javascript"}},
	{"img javascript unquoted", `<IMG SRC=javascript:alert('XSS')>`, []string{"javascript"}},
	{"img javascript case", `<IMG SRC=JaVaScRiPt:alert('XSS')>`, []string{"alert"}},
	{"img html entities", `<IMG SRC=javascript:alert(&quot;XSS&quot;)>`, []string{"alert"}},
	{"img grave accent", "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>", []string{"javascript:"}},
	{"img onerror", `<img src=x onerror=alert(1)>`, []string{"onerror"}},
	{"img onerror slash", `<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>`, []string{"onerror"}},
	{"img onmouseover", `<IMG SRC=# onmouseover="alert('xxs')">`, []string{"onmouseover"}},
	// The attribute value becomes a harmless relative src; only the
	// handler matters, and assertInert checks for it.
	{"img empty src onmouseover", `<IMG SRC= onmouseover="alert('xxs')">`, nil},
	{"malformed img quotes", `<IMG """><SCRIPT>alert("XSS")</SCRIPT>">`, []string{"<script"}},
	{"decimal entities", `<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>`, nil},
	{"decimal entities no semicolon", `<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>`, nil},
	{"hex entities no semicolon", `<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>`, nil},
	{"embedded tab", "<IMG SRC=\"jav\tascript:alert('XSS');\">", nil},
	{"encoded tab", `<IMG SRC="jav&#x09;ascript:alert('XSS');">`, nil},
	{"encoded newline", `<IMG SRC="jav&#x0A;ascript:alert('XSS');">`, nil},
	{"encoded carriage return", `<IMG SRC="jav&#x0D;ascript:alert('XSS');">`, nil},
	{"spaces and meta chars", `<IMG SRC=" &#14;  javascript:alert('XSS');">`, nil},
	{"null in scheme", "<a href=\"java\x00script:alert(1)\">x</a>", []string{"script:"}},
	{"a javascript", `<a href="javascript:alert(1)">x</a>`, []string{"javascript"}},
	{"a javascript leading space", `<a href="  javascript:alert(1)">x</a>`, []string{"javascript"}},
	{"a javascript entity", `<a href="&#106;avascript:alert(1)">x</a>`, []string{"avascript"}},
	{"a jav tab ascript", `<a href="jav&#x09;ascript:alert(1)">x</a>`, []string{"ascript"}},
	{"a vbscript", `<a href="vbscript:msgbox(1)">x</a>`, []string{"vbscript"}},
	{"a data html", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`, []string{"data:"}},
	{"a data image", `<a href="data:image/png;base64,iVBORw0KGgo=">x</a>`, []string{"data:"}},
	{"a onmouseover", `<a onmouseover="alert(document.cookie)">xxs link</a>`, []string{"onmouseover"}},
	{"a onclick with href", `<a href="http://x.com" onclick="alert(1)">x</a>`, []string{"onclick"}},
	{"body onload", `<BODY ONLOAD=alert('XSS')>`, []string{"alert"}},
	{"body onload junk", "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>", []string{"alert"}},
	{"body background", `<BODY BACKGROUND="javascript:alert('XSS')">`, []string{"javascript"}},
	{"svg onload", `<svg/onload=alert('XSS')>`, []string{"onload"}},
	{"svg xlink", `<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>`, []string{"javascript"}},
	{"svg script", `<svg><script>alert(1)</script></svg>`, []string{"alert"}},
	{"math mglyph style", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`, []string{"onerror"}},
	{"math href", `<math href="javascript:alert(1)">CLICKME</math>`, []string{"javascript"}},
	{"iframe", `<iframe src="https://evil.example/"></iframe>`, []string{"iframe"}},
	{"iframe javascript", `<IFRAME SRC="javascript:alert('XSS');"></IFRAME>`, []string{"javascript"}},
	{"iframe unclosed", `<iframe src=http://xss.rocks/scriptlet.html <`, []string{"scriptlet"}},
	{"frameset", `<FRAMESET><FRAME SRC="javascript:alert('XSS');"></FRAMESET>`, []string{"javascript"}},
	{"style tag", `<STYLE>li {list-style-image: url("javascript:alert('XSS')");}</STYLE><UL><LI>XSS</br>`, []string{"javascript", "list-style"}},
	{"style import", `<STYLE>@import'http://xss.rocks/xss.css';</STYLE>`, []string{"@import"}},
	{"style attribute expression", `<DIV STYLE="width: expression(alert('XSS'));">`, []string{"expression"}},
	{"style attribute url", `<DIV STYLE="background-image: url(javascript:alert('XSS'))">`, []string{"javascript"}},
	{"style attribute comment", `<IMG STYLE="xss:expr/*XSS*/ession(alert('XSS'))">`, []string{"ession"}},
	{"p style", `<p style="color:red">x</p>`, []string{"style"}},
	{"object", `<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>`, []string{"object"}},
	{"embed svg", `<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv" type="image/svg+xml" AllowScriptAccess="always"></EMBED>`, []string{"embed", "svg"}},
	{"img data svg", `<img src="data:image/svg+xml;base64,PHN2Zz48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9zdmc+">`, []string{"svg"}},
	{"img data html", `<img src="data:text/html,<script>alert(1)</script>">`, []string{"data:"}},
	{"form javascript", `<form action="javascript:alert(1)"><input type=submit value=go></form>`, []string{"javascript", "input"}},
	{"input image", `<INPUT TYPE="IMAGE" SRC="javascript:alert('XSS');">`, []string{"javascript"}},
	{"button formaction", `<button formaction="javascript:alert(1)">x</button>`, []string{"javascript"}},
	{"link stylesheet", `<LINK REL="stylesheet" HREF="javascript:alert('XSS');">`, []string{"javascript"}},
	{"meta refresh", `<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">`, []string{"refresh"}},
	{"meta refresh data", `<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">`, []string{"refresh"}},
	{"base href", `<base href="javascript:alert('XSS');//">`, []string{"javascript"}},
	{"table background", `<TABLE BACKGROUND="javascript:alert('XSS')"><TD BACKGROUND="javascript:alert('XSS')">`, []string{"javascript"}},
	{"bgsound", `<BGSOUND SRC="javascript:alert('XSS');">`, []string{"javascript"}},
	{"img dynsrc lowsrc", `<IMG DYNSRC="javascript:alert('XSS')"><IMG LOWSRC="javascript:alert('XSS')">`, []string{"javascript"}},
	{"xml island", `<XML ID="xss"><I><B><IMG SRC="javas<!-- -->cript:alert('XSS')"></B></I></XML>`, []string{"cript:"}},
	{"noscript mxss", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, []string{"onerror"}},
	{"unknown element handler", `<x onclick=alert(1)>click`, []string{"onclick"}},
	{"eval src", `<img src=x:alert(alt) onerror=eval(src) alt=0>`, []string{"onerror", "x:alert"}},
	{"details ontoggle", `<details open ontoggle=alert(1)>`, []string{"ontoggle"}},
	{"template", `<template><script>alert(1)</script></template>`, []string{"alert"}},
	{"srcdoc", `<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>`, []string{"srcdoc"}},
}

func TestSanitizeHTMLXSS(t *testing.T) {
	for _, tc := range xssPayloads {
		t.Run(tc.name, func(t *testing.T) {
			out := SanitizeHTML(tc.in)
			assertInert(t, out)
			for _, bad := range tc.mustNot {
				assert.NotContains(t, strings.ToLower(out), strings.ToLower(bad))
			}
			assert.Equal(t, out, SanitizeHTML(out), "idempotent")
		})
	}
}

func TestSanitizeHTMLKeeps(t *testing.T) {
	const png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"headings and inline", `<h1>T</h1><h2>Title</h2><h6>x</h6><p>Hi <strong>there</strong> <b>b</b> <em>e</em> <i>i</i> <u>u</u> <s>s</s> <mark>m</mark> H<sub>2</sub>O x<sup>2</sup></p>`, ""},
		{"breaks and rules", `<p>a<br>b</p><hr><blockquote>q</blockquote>`, ""},
		{"lists", `<ul><li>a</li><li>b</li></ul><ol><li>c</li></ol>`, ""},
		{"code block", `<pre><code class="language-go">func main() { fmt.Println("&lt;hi&gt;") }</code></pre>`,
			`<pre><code class="language-go">func main() { fmt.Println(&#34;&lt;hi&gt;&#34;) }</code></pre>`},
		{"code block odd language", `<pre><code class="language-c++">int x;</code></pre>`, ""},
		{"code class not language", `<code class="evil big">x</code>`, `<code>x</code>`},
		{"table", `<table><thead><tr><th colspan="2">h</th></tr></thead><tbody><tr><td rowspan="2">a</td><td>b</td></tr></tbody></table>`, ""},
		{"table bad colspan", `<table><tbody><tr><td colspan="x">a</td></tr></tbody></table>`, `<table><tbody><tr><td>a</td></tr></tbody></table>`},
		{"image", `<img src="https://cdn.example.com/a.png" alt="A cat: sleeping?" title="Cat" width="100" height="50%">`, ""},
		{"relative image", `<img src="/api/files/posts/abc/cat.png" alt="cat">`, ""},
		{"figure", `<figure><img src="cat.png" alt="cat"><figcaption>A cat</figcaption></figure>`, ""},
		{"pasted png", `<img src="` + png + `">`, ""},
		{"pasted jpeg uppercase", `<img src="data:image/jpeg;base64,/9j/4AAQ">`, ""},
		{"image bad width", `<img src="/a.png" width="100px" onload="x()">`, `<img src="/a.png">`},
		{"relative link", `<a href="/courses/go-basics">Go</a>`, ""},
		{"fragment link", `<a href="#intro">Intro</a>`, ""},
		{"mailto link", `<a href="mailto:hi@example.com">mail</a>`, ""},
		{"external link", `<a href="https://example.com/x?y=1">x</a>`, `<a href="https://example.com/x?y=1" rel="noopener nofollow">x</a>`},
		{"external http link", `<a href="http://example.com">x</a>`, `<a href="http://example.com" rel="noopener nofollow">x</a>`},
		{"protocol relative link", `<a href="//example.com/">x</a>`, `<a href="//example.com/" rel="noopener nofollow">x</a>`},
		{"external link target blank", `<a href="https://example.com" target="_blank">x</a>`, `<a href="https://example.com" target="_blank" rel="noopener nofollow">x</a>`},
		{"external link author rel replaced", `<a rel="dofollow me" href="https://example.com">x</a>`, `<a href="https://example.com" rel="noopener nofollow">x</a>`},
		{"target other than blank dropped", `<a href="/a" target="_top">x</a>`, `<a href="/a">x</a>`},
		{"relative link target blank", `<a href="/a" target="_blank">x</a>`, `<a href="/a" target="_blank" rel="noopener">x</a>`},
		{"text entities kept escaped", `<p>a &lt; b &amp;&amp; c &gt; d</p>`, ""},
		{"unicode text", `<p>Crème brûlée — 日本語 😀</p>`, ""},
		{"unknown wrapper dropped, text kept", `<div><span>hello</span></div>`, `hello`},
		{"comment dropped", `<p>a<!-- secret -->b</p>`, `<p>ab</p>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = tc.in
			}
			out := SanitizeHTML(tc.in)
			assert.Equal(t, want, out)
			assertInert(t, out)
			assert.Equal(t, out, SanitizeHTML(out), "idempotent")
		})
	}
}

func TestSanitizeHTMLInvalidUTF8AndNUL(t *testing.T) {
	out := SanitizeHTML("<p>a\xffb\x00c</p><scr\x00ipt>alert(1)</script>")
	assert.True(t, utf8.ValidString(out))
	assert.NotContains(t, out, "\x00")
	assert.NotContains(t, out, "alert")
	assert.Equal(t, "<p>a\uFFFDbc</p>", out)
	assertInert(t, out)
}

func TestSanitizeHTMLEmpty(t *testing.T) {
	assert.Equal(t, "", SanitizeHTML(""))
	assert.Equal(t, "plain", SanitizeHTML("plain"))
}
