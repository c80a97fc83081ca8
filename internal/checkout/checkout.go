// Package checkout sells paid courses with Stripe Checkout: it opens a
// Checkout Session for a signed-in buyer (POST /api/courses/{id}/checkout),
// fulfils the order exactly once from Stripe's signed events
// (POST /api/stripe/webhook) or from the success page
// (GET /api/checkout/{sessionId}), whichever comes first, and takes access
// away again on a full refund or while a payment is disputed.
//
// Every state change happens in one transaction with the stripeEvents row
// that records the event, so a replayed, duplicated or reordered delivery
// changes nothing twice. The Stripe API and signatures are stripe-go's.
package checkout

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/stripe/stripe-go/v85"
)

// Paths of the routes this package serves (internal/apidocs documents them).
const (
	PathCheckout = "/api/courses/{id}/checkout"
	PathWebhook  = "/api/stripe/webhook"
	PathSession  = "/api/checkout/{sessionId}"
)

// Config is how Lectern reaches Stripe. A zero SecretKey switches checkout
// off (the endpoints answer 503); free courses work either way.
type Config struct {
	// SecretKey is the Stripe secret key (sk_live_..., sk_test_...). Never logged or returned.
	SecretKey string
	// WebhookSecret is the signing secret of the webhook endpoint (whsec_...).
	WebhookSecret string
	// APIURL is Stripe's API base URL; empty means Stripe's own. Tests point it at stripe-mock.
	APIURL string
	// HTTPClient calls Stripe; nil means one with a 30 s timeout.
	HTTPClient *http.Client
}

// ConfigFromEnv reads LECTERN_STRIPE_SECRET_KEY, LECTERN_STRIPE_WEBHOOK_SECRET
// and LECTERN_STRIPE_API_URL.
func ConfigFromEnv() Config {
	return Config{
		SecretKey:     strings.TrimSpace(os.Getenv("LECTERN_STRIPE_SECRET_KEY")),
		WebhookSecret: strings.TrimSpace(os.Getenv("LECTERN_STRIPE_WEBHOOK_SECRET")),
		APIURL:        strings.TrimRight(strings.TrimSpace(os.Getenv("LECTERN_STRIPE_API_URL")), "/"),
	}
}

// Register serves the checkout endpoints on app with the configuration from
// the environment.
func Register(app core.App) { RegisterConfig(app, ConfigFromEnv()) }

// RegisterConfig serves the checkout endpoints on app with cfg.
func RegisterConfig(app core.App, cfg Config) *Service {
	s := NewService(cfg)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.POST(PathCheckout, s.handleCheckout).Bind(apis.RequireAuth("users"))
		se.Router.POST(PathWebhook, s.handleWebhook)
		se.Router.GET(PathSession, s.handleSession).Bind(apis.RequireAuth())
		return se.Next()
	})
	return s
}

// Service holds the Stripe client; its methods are the endpoints.
type Service struct {
	cfg    Config
	stripe *stripe.Client // nil when not configured
}

// NewService builds the Stripe client for cfg.
func NewService(cfg Config) *Service {
	s := &Service{cfg: cfg}
	if cfg.SecretKey == "" {
		return s
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	bc := &stripe.BackendConfig{
		HTTPClient: hc,
		// errors come back to us and are logged without the key; the
		// library's own logger would print request details to stderr
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIURL != "" {
		bc.URL = stripe.String(cfg.APIURL)
	}
	s.stripe = stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))
	return s
}

// errNotConfigured is the 503 every endpoint answers without a Stripe key
// (the webhook: without its signing secret).
func errNotConfigured() *router.ApiError {
	return router.NewApiError(http.StatusServiceUnavailable, "Payments are not configured on this server.", nil)
}

var errNoOrder = errors.New("no such order")
