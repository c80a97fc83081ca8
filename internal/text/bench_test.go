package text

import (
	"strings"
	"testing"
)

// benchBody is a realistic ~5 KB post body as the editor produces it.
var benchBody = func() string {
	var b strings.Builder
	b.WriteString(`<h2>Getting started with Go modules</h2>`)
	for b.Len() < 5000 {
		b.WriteString(`<p>Go modules are the unit of <strong>versioning</strong> and distribution. ` +
			`Read the <a href="https://go.dev/doc/modules/managing-dependencies" target="_blank">official guide</a> ` +
			`or the <a href="/courses/go-basics#modules">course chapter</a> first &amp; then continue.</p>` +
			`<ul><li>Create a module with <code>go mod init</code></li><li>Add a dependency</li></ul>` +
			`<pre><code class="language-go">package main

import "fmt"

func main() { fmt.Println("hello &lt;world&gt;") }</code></pre>` +
			`<blockquote>Simplicity is complicated.</blockquote>` +
			`<figure><img src="/api/files/posts/abc123/diagram.png" alt="Module graph" width="640"><figcaption>The module graph</figcaption></figure>`)
	}
	return b.String()
}()

func BenchmarkSanitizeHTML(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		SanitizeHTML(benchBody)
	}
}

func BenchmarkSlugify(b *testing.B) {
	for b.Loop() {
		Slugify("Crème brûlée à Paris: a 10-step guide to the perfect dessert (2025 edition)")
	}
}

func BenchmarkExcerpt(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		Excerpt(benchBody, 300)
	}
}

func BenchmarkPlainText(b *testing.B) {
	const comment = "Great lesson! I <3 the part about <b>interfaces</b> &amp; generics.\n\n" +
		"One question: is a < b always safe with NaN? <script>alert(1)</script>\nThanks, Tom & Jerry"
	for b.Loop() {
		PlainText(comment)
	}
}
