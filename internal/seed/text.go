package seed

import (
	"fmt"
	"html"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// writer generates prose about one topic from the word lists.
type writer struct {
	r     *rand.Rand
	topic *topicSpec
}

// fill expands a template's placeholders; concepts are picked per call so one
// paragraph talks about a couple of related things.
func (w writer) fill(tpl string, vars map[string]string) string {
	if !strings.Contains(tpl, "{") {
		return tpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			break
		}
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			b.WriteString(tpl)
			break
		}
		b.WriteString(tpl[:i])
		key := tpl[i+1 : i+j]
		switch v, ok := vars[key]; {
		case ok:
			b.WriteString(v)
		case key == "n":
			b.WriteString(strconv.Itoa(2 + w.r.IntN(60)))
		default:
			b.WriteString(tpl[i : i+j+1])
		}
		tpl = tpl[i+j+1:]
	}
	return b.String()
}

// vars picks the concepts a piece of text is about.
func (w writer) vars() map[string]string {
	cs := w.topic.concepts
	c := cs[w.r.IntN(len(cs))]
	c2 := cs[w.r.IntN(len(cs))]
	for c2 == c && len(cs) > 1 {
		c2 = cs[w.r.IntN(len(cs))]
	}
	return map[string]string{"c": c, "c2": c2, "t": w.topic.name}
}

func (w writer) pick(list []string) string { return list[w.r.IntN(len(list))] }

// sentences returns n sentences, each from a different template when possible.
func (w writer) sentences(n int, vars map[string]string) string {
	parts := make([]string, 0, n)
	for _, i := range w.r.Perm(len(sentenceTemplates))[:min(n, len(sentenceTemplates))] {
		parts = append(parts, upperFirst(w.fill(sentenceTemplates[i], vars)))
	}
	return strings.Join(parts, " ")
}

// postBody is a realistic article: intro, sections with headings, lists,
// code blocks and quotes, and a conclusion. Roughly 500–1200 words.
func (w writer) postBody(vars map[string]string) string {
	var b strings.Builder
	p := func(s string) { b.WriteString("<p>" + html.EscapeString(s) + "</p>\n") }

	p(w.sentences(4+w.r.IntN(3), vars)) // long enough to fill the derived excerpt
	sections := 3 + w.r.IntN(3)
	for _, i := range w.r.Perm(len(headingTemplates))[:sections] {
		sv := vars
		if w.r.IntN(3) == 0 {
			sv = w.vars()
		}
		b.WriteString("<h2>" + html.EscapeString(upperFirst(w.fill(headingTemplates[i], sv))) + "</h2>\n")
		for range 1 + w.r.IntN(3) {
			p(w.sentences(3+w.r.IntN(4), sv))
		}
		switch k := w.r.IntN(10); {
		case k < 4 && w.topic.lang != "":
			p("A small example makes the idea concrete:")
			code := w.pick(w.topic.snippets)
			fmt.Fprintf(&b, "<pre><code class=\"language-%s\">%s</code></pre>\n", w.topic.lang, html.EscapeString(code))
		case k < 7:
			b.WriteString("<ul>\n")
			for _, t := range w.r.Perm(len(tipTemplates))[:3+w.r.IntN(3)] {
				b.WriteString("<li>" + html.EscapeString(w.fill(tipTemplates[t], sv)) + "</li>\n")
			}
			b.WriteString("</ul>\n")
		case k < 8:
			b.WriteString("<blockquote><p>" + html.EscapeString(upperFirst(w.fill(w.pick(quoteTemplates), sv))) + "</p></blockquote>\n")
		}
	}
	b.WriteString("<h2>Wrapping up</h2>\n")
	p(w.sentences(2+w.r.IntN(3), vars))
	if w.r.IntN(4) == 0 {
		fmt.Fprintf(&b, "<p>Questions or war stories? Leave a comment, or read <a href=\"https://lectern.dev/topics/%s\">more about %s</a>.</p>\n",
			slugish(w.topic.name), html.EscapeString(w.topic.name))
	}
	return b.String()
}

// courseDescription is the HTML of a course page.
func (w writer) courseDescription(vars map[string]string, days int, mode string) string {
	var b strings.Builder
	b.WriteString("<p>" + html.EscapeString(w.sentences(3, vars)) + "</p>\n")
	b.WriteString("<h2>What you will learn</h2>\n<ul>\n")
	for _, i := range w.r.Perm(len(courseLearnTemplates))[:4] {
		b.WriteString("<li>" + html.EscapeString(w.fill(courseLearnTemplates[i], w.vars())) + "</li>\n")
	}
	b.WriteString("</ul>\n<h2>Format</h2>\n")
	format := map[string]string{
		"online": "entirely online, with recorded lessons and weekly live Q&A sessions",
		"onsite": "taught on site in small groups",
		"hybrid": "hybrid: recorded lessons online and hands-on workshops on site",
	}[mode]
	fmt.Fprintf(&b, "<p>%d days, %s.</p>\n", days, html.EscapeString(format))
	b.WriteString("<h2>Who this course is for</h2>\n<p>" + html.EscapeString(w.sentences(2, vars)) + "</p>\n")
	return b.String()
}

// lessonBody is a short lesson page, sometimes with code.
func (w writer) lessonBody(vars map[string]string) string {
	var b strings.Builder
	b.WriteString("<p>" + html.EscapeString(w.sentences(3+w.r.IntN(3), vars)) + "</p>\n")
	if w.topic.lang != "" && w.r.IntN(2) == 0 {
		fmt.Fprintf(&b, "<pre><code class=\"language-%s\">%s</code></pre>\n", w.topic.lang, html.EscapeString(w.pick(w.topic.snippets)))
	}
	b.WriteString("<p>" + html.EscapeString(w.sentences(2, vars)) + "</p>\n")
	return b.String()
}

// comment is a plain-text comment; replies may address the parent's author.
func (w writer) comment(reply bool, parentAuthor string) string {
	vars := w.vars()
	vars["name"] = parentAuthor
	var parts []string
	if reply {
		parts = append(parts, w.fill(w.pick(replyTemplates), vars))
	} else {
		for _, i := range w.r.Perm(len(commentTemplates))[:1+w.r.IntN(2)] {
			parts = append(parts, w.fill(commentTemplates[i], vars))
		}
	}
	if w.r.IntN(4) == 0 {
		parts = append(parts, upperFirst(w.fill(w.pick(sentenceTemplates), vars)))
	}
	return strings.Join(parts, " ")
}

// upperFirst capitalises the first letter, leaving the rest alone ("gRPC" stays).
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// slugish lowercases s and keeps only [a-z0-9], for emails and URLs built by
// the seeder itself (record slugs are always derived by the hooks).
func slugish(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
