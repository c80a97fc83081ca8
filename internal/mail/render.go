package mail

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Every mail has an HTML part and a plain-text part written for reading (not
// the HTML's tags stripped): clients that show text, screen readers and spam
// filters all prefer a real alternative.

var htmlLayout = htmltemplate.Must(htmltemplate.New("layout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f5f5f4;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1c1917">
<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff">
<p style="font-size:20px;font-weight:700;margin:0 0 16px"><a href="{{.Site}}/" style="color:#1c1917;text-decoration:none">{{.AppName}}</a></p>
{{.Body}}
<hr style="border:none;border-top:1px solid #e7e5e4;margin:24px 0">
<p style="font-size:12px;color:#78716c">{{.Footer}}</p>
</div></body></html>`))

type layout struct {
	Subject, Site, AppName string
	Body, Footer           htmltemplate.HTML
}

func renderHTML(t *htmltemplate.Template, data any, l layout) (string, error) {
	var body, out bytes.Buffer
	if err := t.Execute(&body, data); err != nil {
		return "", err
	}
	l.Body = htmltemplate.HTML(body.String())
	if err := htmlLayout.Execute(&out, l); err != nil {
		return "", err
	}
	return out.String(), nil
}

func renderText(t *texttemplate.Template, data any) (string, error) {
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()) + "\n", nil
}

// footerHTML is the layout's footer: a note and, for the newsletter, the
// visible unsubscribe link.
func footerHTML(note, unsubscribeURL string) htmltemplate.HTML {
	var b bytes.Buffer
	_ = footerTmpl.Execute(&b, map[string]string{"Note": note, "URL": unsubscribeURL})
	return htmltemplate.HTML(b.String())
}

var footerTmpl = htmltemplate.Must(htmltemplate.New("footer").Parse(
	`{{.Note}}{{if .URL}} <a href="{{.URL}}" style="color:#78716c">Unsubscribe</a>{{end}}`))
