package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Account mail: PocketBase's verification, password-reset and email-change
// mails keep PocketBase's flows and tokens but link to the site's pages
// (/verify, /reset-password, /confirm-email-change) instead of the dashboard,
// and come from "Lectern". Users get the opt-out for reply notifications.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		users.Fields.Add(&core.BoolField{Name: "replyEmailsOff", Help: "When true, replies to this user's comments are not mailed to them."})
		users.VerificationTemplate = accountTemplate("Verify your {APP_NAME} email",
			"Thanks for joining {APP_NAME}. Confirm that this address is yours:",
			"{APP_URL}/verify?token={TOKEN}", "Verify my email",
			"If you didn't sign up, ignore this mail: nothing happens without the click.")
		users.ResetPasswordTemplate = accountTemplate("Reset your {APP_NAME} password",
			"Someone (hopefully you) asked to reset your {APP_NAME} password. Choose a new one here:",
			"{APP_URL}/reset-password?token={TOKEN}", "Choose a new password",
			"If you didn't ask, ignore this mail: your password stays as it is.")
		users.ConfirmEmailChangeTemplate = accountTemplate("Confirm your new {APP_NAME} email",
			"Confirm that {APP_NAME} should use this address for your account from now on:",
			"{APP_URL}/confirm-email-change?token={TOKEN}", "Confirm the new address",
			"If you didn't ask for this change, ignore this mail: your account keeps its address.")
		if err := app.Save(users); err != nil {
			return err
		}

		s := app.Settings()
		if s.Meta.SenderName == "" || s.Meta.SenderName == "Support" {
			s.Meta.SenderName = "Lectern"
		}
		return app.Save(s)
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		users.Fields.RemoveByName("replyEmailsOff")
		def := core.NewAuthCollection("x")
		users.VerificationTemplate = def.VerificationTemplate
		users.ResetPasswordTemplate = def.ResetPasswordTemplate
		users.ConfirmEmailChangeTemplate = def.ConfirmEmailChangeTemplate
		return app.Save(users)
	})
}

func accountTemplate(subject, intro, link, button, outro string) core.EmailTemplate {
	return core.EmailTemplate{
		Subject: subject,
		Body: `<p>Hello,</p>
<p>` + intro + `</p>
<p><a class="btn" href="` + link + `" target="_blank" rel="noopener">` + button + `</a></p>
<p>Or paste this link into your browser:<br>` + link + `</p>
<p><i>` + outro + `</i></p>
<p>The {APP_NAME} team<br><a href="{APP_URL}/">{APP_URL}</a></p>`,
	}
}
