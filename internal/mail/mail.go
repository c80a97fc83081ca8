// Package mail is everything Lectern mails: the newsletter (double opt-in
// subscriptions, issues built from new posts, a once-per-subscriber delivery
// ledger, RFC 8058 one-click unsubscribe), the contact form, and the account
// mail around PocketBase's own flows (site links in its templates, reply
// notifications).
//
// Every mail goes through PocketBase's mailer (app.NewMailClient) with the
// SMTP settings of the dashboard (Settings → Mail); every link is built from
// the Application URL (Settings → Application). Nothing here speaks SMTP.
//
// Routes:
//
//	POST /api/newsletter/subscribe    {"email", "topics"?} → 202 whatever the address's state
//	POST /api/newsletter/confirm      {"token"} → 200 (the site's /newsletter/confirm page calls it)
//	POST /api/newsletter/unsubscribe  ?token=... (RFC 8058 one-click; or {"token"}) → 200
//	POST /api/contact                 {"name", "email", "subject"?, "message", "website"?} → 202
package mail

import (
	"net/http"
	"net/mail"
	"net/url"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Paths of the routes this package serves.
const (
	PathSubscribe   = "/api/newsletter/subscribe"
	PathConfirm     = "/api/newsletter/confirm"
	PathUnsubscribe = "/api/newsletter/unsubscribe"
	PathContact     = "/api/contact"
)

// Register binds the mail routes, hooks, the newsletter's sender and its
// schedule to app.
func Register(app core.App) {
	registerNewsletter(app)
	registerContact(app)
	registerAccount(app)
	registerSending(app)
	registerOutbox(app)
}

// siteURL is the Application URL without a trailing slash: every link in a
// mail starts with it.
func siteURL(app core.App) string {
	return strings.TrimRight(app.Settings().Meta.AppURL, "/")
}

func sender(app core.App) mail.Address {
	m := app.Settings().Meta
	return mail.Address{Name: m.SenderName, Address: m.SenderAddress}
}

// mailDomain is the domain of Message-IDs: the sender's, else the site's host.
func mailDomain(app core.App) string {
	if _, d, ok := strings.Cut(app.Settings().Meta.SenderAddress, "@"); ok && d != "" {
		return d
	}
	if u, err := url.Parse(siteURL(app)); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "lectern.localhost"
}

// configured reports whether mail can go out. PocketBase would fall back to
// a local sendmail binary; a public form that silently mails nobody is worse
// than one that says the feature is off (the contract's 503).
func configured(app core.App) bool { return app.Settings().SMTP.Enabled }

func notConfigured(feature string) error {
	return router.NewApiError(http.StatusServiceUnavailable, feature+" is not configured.", nil)
}
