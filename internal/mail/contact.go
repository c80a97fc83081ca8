package mail

import (
	"fmt"
	htmltemplate "html/template"
	"net/http"
	"net/mail"
	"strings"
	texttemplate "text/template"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/ozzo-validation/v4/is"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"lectern/internal/text"
)

func registerContact(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.POST(PathContact, contact)
		return se.Next()
	})
	// stored as plain text however it is written (API, dashboard)
	clean := func(e *core.RecordEvent) error {
		for _, f := range []string{"name", "subject"} {
			e.Record.Set(f, oneLine(text.StripControls(e.Record.GetString(f))))
		}
		e.Record.Set("body", text.StripControls(text.PlainText(e.Record.GetString("body"))))
		e.Record.Set("email", strings.TrimSpace(e.Record.GetString("email")))
		if e.Record.GetString("status") == "" {
			e.Record.Set("status", "new")
		}
		return e.Next()
	}
	app.OnRecordCreate("messages").BindFunc(clean)
	app.OnRecordUpdate("messages").BindFunc(clean)
	// the sender's IP is the server's record: triage changes the status only
	app.OnRecordUpdateRequest("messages").BindFunc(func(e *core.RecordRequestEvent) error {
		e.Record.Set("ip", e.Record.Original().GetString("ip"))
		return e.Next()
	})
}

// oneLine folds line breaks: a name or subject ends up in mail headers.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Join(strings.Fields(s), " "))
}

type contactBody struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Subject string `json:"subject"`
	Message string `json:"message"`
	Website string `json:"website"` // the honeypot: people leave it empty
}

func (b contactBody) validate() error {
	return validation.ValidateStruct(&b,
		validation.Field(&b.Name, validation.Required, validation.Length(1, 100)),
		validation.Field(&b.Email, validation.Required, validation.Length(3, 254), is.EmailFormat),
		validation.Field(&b.Subject, validation.Length(0, 200)),
		validation.Field(&b.Message, validation.Required, validation.Length(1, 5000)),
	)
}

// contact stores a message for the admins and mails it to every admin with
// Reply-To set to the sender. A filled honeypot gets the same 202 but the
// message is stored as spam and mailed to nobody: a bot learns nothing.
func contact(e *core.RequestEvent) error {
	if !configured(e.App) {
		return notConfigured("Contact form")
	}
	var b contactBody
	if err := e.BindBody(&b); err != nil {
		return e.BadRequestError("Invalid message data.", err)
	}
	b.Name, b.Subject, b.Email = oneLine(b.Name), oneLine(b.Subject), strings.TrimSpace(b.Email)
	b.Message = strings.TrimSpace(text.PlainText(b.Message))
	if err := b.validate(); err != nil {
		return e.BadRequestError("Invalid message data.", err)
	}
	c, err := e.App.FindCachedCollectionByNameOrId("messages")
	if err != nil {
		return err
	}
	m := core.NewRecord(c)
	m.Set("name", b.Name)
	m.Set("email", b.Email)
	m.Set("subject", b.Subject)
	m.Set("body", b.Message)
	m.Set("ip", e.RealIP())
	spam := strings.TrimSpace(b.Website) != ""
	if spam {
		m.Set("status", "spam")
	} else {
		m.Set("status", "new")
	}
	err = e.App.RunInTransaction(func(tx core.App) error {
		if err := tx.Save(m); err != nil {
			return err
		}
		if spam {
			return nil
		}
		// one mail per admin, each its own row: a retry never re-mails the others
		admins, err := tx.FindRecordsByFilter("users", "role = 'admin'", "created", 0, 0)
		if err != nil {
			return fmt.Errorf("find admins: %w", err)
		}
		for _, a := range admins {
			if err := enqueue(tx, "contact", m.Id, a.Id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store contact message: %w", err)
	}
	return e.JSON(http.StatusAccepted, map[string]any{})
}

var contactHTML = htmltemplate.Must(htmltemplate.New("contact").Parse(`
<p><strong>{{.Name}}</strong> &lt;{{.Email}}&gt; wrote through the contact form{{if .Subject}} about <strong>{{.Subject}}</strong>{{end}}:</p>
<blockquote style="white-space:pre-wrap;border-left:3px solid #e7e5e4;margin:0;padding:0 12px">{{.Body}}</blockquote>
<p>Reply to this mail to answer {{.Name}}. <a href="{{.Link}}">Triage it in the dashboard</a>.</p>`))

var contactText = texttemplate.Must(texttemplate.New("contact").Parse(`
{{.Name}} <{{.Email}}> wrote through the contact form{{if .Subject}} about "{{.Subject}}"{{end}}:

{{.Body}}

-- 
Reply to this mail to answer {{.Name}}.
Triage it in the dashboard: {{.Link}}
`))

// sendContactJob mails a stored message to one admin.
func sendContactJob(app core.App, messageID, adminID string) error {
	m, err := app.FindRecordById("messages", messageID)
	if err != nil {
		return nil // deleted meanwhile: nothing to forward
	}
	a, err := app.FindRecordById("users", adminID)
	if err != nil {
		return nil
	}
	site := siteURL(app)
	appName := app.Settings().Meta.AppName
	data := map[string]string{
		"Name": m.GetString("name"), "Email": m.GetString("email"), "Subject": m.GetString("subject"),
		"Body": m.GetString("body"),
		"Link": site + "/_/#/collections?collection=messages&record=" + m.Id,
	}
	subject := "[" + appName + " contact] "
	if s := m.GetString("subject"); s != "" {
		subject += s
	} else {
		subject += "Message from " + m.GetString("name")
	}
	html, err := renderHTML(contactHTML, data, layout{Subject: subject, Site: site, AppName: appName,
		Footer: footerHTML("Sent to the admins of "+site+" by its contact form.", "")})
	if err != nil {
		return err
	}
	body, err := renderText(contactText, data)
	if err != nil {
		return err
	}
	replyTo := (&mail.Address{Name: m.GetString("name"), Address: m.GetString("email")}).String()
	return app.NewMailClient().Send(&mailer.Message{
		From:    sender(app),
		To:      []mail.Address{{Name: a.GetString("name"), Address: a.Email()}},
		Subject: subject,
		HTML:    html,
		Text:    body,
		Headers: map[string]string{"Reply-To": replyTo},
	})
}
