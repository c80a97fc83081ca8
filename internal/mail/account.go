package mail

import (
	htmltemplate "html/template"
	"net/mail"
	"strings"
	texttemplate "text/template"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// Account mail. PocketBase sends the verification, password-reset and
// email-change mails itself, from the users collection's templates, which a
// migration points at the site's pages (/verify, /reset-password,
// /confirm-email-change). This file adds the one account mail PocketBase has
// no flow for: a reply to your comment, unless your profile turned it off
// (users.replyEmailsOff).
func registerAccount(app core.App) {
	// Replies written through the API notify; the seeder's and the
	// dashboard's don't (a seeded data set would otherwise queue thousands of
	// mails). Queued right after the comment's commit; who is told is decided
	// at send time.
	app.OnRecordCreateRequest("comments").BindFunc(func(e *core.RecordRequestEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		if e.Record.GetString("parent") == "" || e.Record.GetString("status") != "visible" {
			return nil
		}
		if err := enqueue(e.App, "reply", e.Record.Id, ""); err != nil {
			e.App.Logger().Error("mail: queue reply notification", "comment", e.Record.Id, "error", err)
		}
		return nil
	})

	// PocketBase puts the Application URL into {APP_URL} as typed: with a
	// trailing slash the site links would read "https://site//verify".
	fixLinks := func(e *core.MailerRecordEvent) error {
		if raw := e.App.Settings().Meta.AppURL; strings.HasSuffix(raw, "/") {
			e.Message.HTML = strings.ReplaceAll(e.Message.HTML, raw+"/", raw)
			e.Message.Text = strings.ReplaceAll(e.Message.Text, raw+"/", raw)
		}
		return e.Next()
	}
	app.OnMailerRecordVerificationSend().BindFunc(fixLinks)
	app.OnMailerRecordPasswordResetSend().BindFunc(fixLinks)
	app.OnMailerRecordEmailChangeSend().BindFunc(fixLinks)

	// the preference is the owner's business: others see the profile without it
	app.OnRecordEnrich("users").BindFunc(func(e *core.RecordEnrichEvent) error {
		auth := (*core.Record)(nil)
		if e.RequestInfo != nil {
			auth = e.RequestInfo.Auth
		}
		if auth == nil || !(auth.IsSuperuser() || auth.Id == e.Record.Id || auth.GetString("role") == "admin") {
			e.Record.Hide("replyEmailsOff")
		}
		return e.Next()
	})
}

var replyHTML = htmltemplate.Must(htmltemplate.New("reply").Parse(`
<p>Hello {{.Name}},</p>
<p><strong>{{.Replier}}</strong> replied to your comment on <a href="{{.PostLink}}">{{.Post}}</a>:</p>
<blockquote style="white-space:pre-wrap;border-left:3px solid #e7e5e4;margin:0;padding:0 12px">{{.Body}}</blockquote>
<p><a href="{{.Link}}">Read the conversation</a></p>`))

var replyText = texttemplate.Must(texttemplate.New("reply").Parse(`
Hello {{.Name}},

{{.Replier}} replied to your comment on "{{.Post}}":

{{.Body}}

Read the conversation: {{.Link}}

-- 
Don't want these mails? Turn them off in your account: {{.Account}}
`))

// AccountPage is the site page where a user turns reply mails off.
const AccountPage = "/account"

// notifyReplyJob mails the parent comment's author about a reply: not to
// themselves, not to an unverified address, not when they turned it off.
func notifyReplyJob(app core.App, replyID string) error {
	reply, err := app.FindRecordById("comments", replyID)
	if err != nil || reply.GetString("status") != "visible" {
		return nil // deleted or hidden meanwhile
	}
	parent, err := app.FindRecordById("comments", reply.GetString("parent"))
	if err != nil {
		return nil // deleted meanwhile
	}
	to, err := app.FindRecordById("users", parent.GetString("author"))
	if err != nil || to.Id == reply.GetString("author") || !to.Verified() || to.GetBool("replyEmailsOff") {
		return nil
	}
	replier, err := app.FindRecordById("users", reply.GetString("author"))
	if err != nil {
		return nil
	}
	post, err := app.FindRecordById("posts", reply.GetString("post"))
	if err != nil {
		return nil
	}
	site := siteURL(app)
	appName := app.Settings().Meta.AppName
	postLink := site + "/posts/" + post.GetString("slug")
	data := map[string]string{
		"Name": to.GetString("name"), "Replier": replier.GetString("name"), "Post": post.GetString("title"),
		"Body": reply.GetString("body"), "PostLink": postLink, "Link": postLink + "#comment-" + reply.Id,
		"Account": site + AccountPage,
	}
	subject := replier.GetString("name") + " replied to your comment on " + post.GetString("title")
	html, err := renderHTML(replyHTML, data, layout{Subject: subject, Site: site, AppName: appName,
		Footer: footerHTML("Don't want these mails? Turn them off in your account: "+site+AccountPage, "")})
	if err != nil {
		return err
	}
	text, err := renderText(replyText, data)
	if err != nil {
		return err
	}
	return app.NewMailClient().Send(&mailer.Message{
		From:    sender(app),
		To:      []mail.Address{{Name: to.GetString("name"), Address: to.Email()}},
		Subject: subject,
		HTML:    html,
		Text:    text,
	})
}
