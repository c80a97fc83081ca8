package webhooks

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
)

// NewSecret is a fresh signing secret: "whsec_" and the base64 of 32 random
// bytes, as Standard Webhooks secrets are written.
func NewSecret() string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand never fails on the platforms Go supports
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

var eventPattern = regexp.MustCompile(`^([A-Za-z0-9_]+)\.(create|update|delete)$`)

// bindWebhookRules checks and completes webhooks records on every save
// (model hooks: API, dashboard and code alike): an empty secret is
// generated (clearing it rotates it), and url, events and secret are
// validated into field errors.
func (s *Service) bindWebhookRules() {
	s.app.OnRecordCreateRequest(Collection).BindFunc(func(e *core.RecordRequestEvent) error {
		// "active" defaults to true: a webhook created without it is meant to work
		if info, err := e.RequestInfo(); err == nil {
			if _, sent := info.Body["active"]; !sent {
				e.Record.Set("active", true)
			}
		}
		return e.Next()
	})
	complete := func(e *core.RecordEvent) error {
		if strings.TrimSpace(e.Record.GetString("secret")) == "" {
			e.Record.Set("secret", NewSecret())
		}
		return e.Next()
	}
	s.app.OnRecordCreate(Collection).BindFunc(complete)
	s.app.OnRecordUpdate(Collection).BindFunc(complete)
	s.app.OnRecordValidate(Collection).BindFunc(func(e *core.RecordEvent) error {
		errs := validation.Errors{}
		if err := checkURL(e.Record.GetString("url"), s.opts.AllowPrivate); err != nil {
			errs["url"] = err
		}
		if err := checkEvents(e.App, e.Record.GetString("events")); err != nil {
			errs["events"] = err
		}
		if err := checkSecret(e.Record.GetString("secret")); err != nil {
			errs["secret"] = err
		}
		if len(errs) > 0 {
			return errs
		}
		return e.Next()
	})
}

// checkURL refuses what can never be delivered: other schemes, credentials
// in the URL, and (unless private targets are allowed) a literal private
// address or localhost. Names are checked again, resolved, at each delivery.
func checkURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return validation.NewError("validation_webhook_url", "Must be an http or https URL.")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return validation.NewError("validation_webhook_url_scheme", "Must be an http or https URL.")
	}
	if u.User != nil {
		return validation.NewError("validation_webhook_url_userinfo", "Must not contain credentials; the signature authenticates the sender.")
	}
	if allowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return validation.NewError("validation_webhook_url_private", "Must not be a loopback, private or link-local address.")
	}
	if ip := net.ParseIP(host); ip != nil {
		if addr, ok := netip.AddrFromSlice(ip); ok && RefusedAddr(addr) != "" {
			return validation.NewError("validation_webhook_url_private", "Must not be a loopback, private or link-local address.")
		}
	}
	return nil
}

// checkEvents wants a non-empty JSON array of "*" or
// "<collection>.<create|update|delete>" naming a subscribable collection.
func checkEvents(app core.App, raw string) error {
	var events []string
	if err := json.Unmarshal([]byte(raw), &events); err != nil || len(events) == 0 {
		return validation.NewError("validation_webhook_events",
			`Must be a non-empty array like ["posts.create", "comments.update"] or ["*"].`)
	}
	for _, ev := range events {
		if ev == "*" {
			continue
		}
		m := eventPattern.FindStringSubmatch(ev)
		if m == nil {
			return validation.NewError("validation_webhook_event",
				`Each event must be "*" or "<collection>.<create|update|delete>".`)
		}
		c, err := app.FindCachedCollectionByNameOrId(m[1])
		if err != nil || c.Name != m[1] || !Subscribable(c) {
			return validation.NewError("validation_webhook_event_collection",
				"Unknown or unsubscribable collection in the events.")
		}
	}
	return nil
}

func checkSecret(secret string) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") || len(key) < 24 || len(key) > 64 {
		return validation.NewError("validation_webhook_secret",
			"Must be whsec_ followed by the base64 of 24 to 64 bytes; leave it empty to have one generated.")
	}
	return nil
}
