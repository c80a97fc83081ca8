package mail

import (
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	texttemplate "text/template"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// ConfirmPage is the site page a confirmation link opens; it confirms with a
// POST to /api/newsletter/confirm when the reader clicks (mail scanners open
// links, and a GET must never subscribe anybody).
const ConfirmPage = "/newsletter/confirm"

// UnsubscribePage is the site page of the mails' visible unsubscribe link.
const UnsubscribePage = "/newsletter/unsubscribe"

var confirmHTML = htmltemplate.Must(htmltemplate.New("confirm").Parse(`
<p>Hello,</p>
<p>Someone (hopefully you) asked to receive the {{.AppName}} newsletter at this address.
Confirm it and you'll get an issue whenever new posts are published.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:10px 18px;background:#1c1917;color:#ffffff;border-radius:6px;text-decoration:none">Confirm my subscription</a></p>
<p>Or paste this link into your browser:<br><a href="{{.Link}}">{{.Link}}</a></p>
<p><i>If you didn't ask, ignore this mail: you won't be subscribed. The link works for {{.Hours}} hours.</i></p>`))

var confirmText = texttemplate.Must(texttemplate.New("confirm").Parse(`
Hello,

Someone (hopefully you) asked to receive the {{.AppName}} newsletter at this
address. Confirm it and you'll get an issue whenever new posts are published:

{{.Link}}

If you didn't ask, ignore this mail: you won't be subscribed. The link works
for {{.Hours}} hours.

-- 
{{.AppName}} · {{.Site}}/
`))

func sendConfirmation(app core.App, to, token string) error {
	site := siteURL(app)
	appName := app.Settings().Meta.AppName
	data := map[string]any{
		"AppName": appName,
		"Site":    site,
		"Link":    site + ConfirmPage + "?token=" + url.QueryEscape(token),
		"Hours":   int(ConfirmTTL.Hours()),
	}
	subject := "Confirm your " + appName + " newsletter subscription"
	html, err := renderHTML(confirmHTML, data, layout{Subject: subject, Site: site, AppName: appName,
		Footer: footerHTML("You received this because your address was entered on "+site+"/newsletter.", "")})
	if err != nil {
		return err
	}
	text, err := renderText(confirmText, data)
	if err != nil {
		return err
	}
	return app.NewMailClient().Send(&mailer.Message{
		From:    sender(app),
		To:      []mail.Address{{Address: to}},
		Subject: subject,
		HTML:    html,
		Text:    text,
	})
}
