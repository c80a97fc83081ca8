// Package webhooks tells other systems about record writes with signed
// HTTP posts (INTEGRATIONS.md, "Webhooks (Standard Webhooks)").
//
// A write to a subscribed collection puts one webhookEvents row (its
// payload and the matching active webhooks) in the write's own transaction
// (outbox.go): a rolled-back write sends nothing, a committed one is sent
// even if the process dies right after the commit. The worker turns each
// event into one webhookDeliveries row per webhook after the commit, and
// every API read of deliveries does it first (materialize.go), so no reader
// sees a committed write without its deliveries; those rows are an
// internal/jobs queue: the worker posts each one (deliver.go),
// signed as the Standard Webhooks specification says, with retries and a
// dead state, keeps each attempt in webhookAttempts, and resumes unfinished
// work on the next start. routes.go lets admins send deliveries again;
// retention.go removes old ones.
package webhooks

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/jobs"
	"lectern/internal/metrics"
)

// Collection names and the environment variable of the contract.
const (
	Collection   = "webhooks"
	Deliveries   = "webhookDeliveries"
	Events       = "webhookEvents"
	Attempts     = "webhookAttempts"
	EnvAllowPriv = "LECTERN_WEBHOOKS_ALLOW_PRIVATE"
)

// Delivery statuses (the jobs package's, with "delivered" for success).
const (
	StatusPending   = jobs.StatusPending
	StatusDelivered = "delivered"
	StatusFailed    = jobs.StatusFailed
	StatusDead      = jobs.StatusDead
)

// Schedule is the contract's retry schedule: the delay before each retry
// after a failed attempt (about 27.6 hours in all, 8 attempts), with jitter.
var Schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Options tune a Service; the zero value is production's (Register).
type Options struct {
	// AllowPrivate lets deliveries reach loopback, private, link-local and
	// metadata addresses (LECTERN_WEBHOOKS_ALLOW_PRIVATE=true).
	AllowPrivate bool
	// Schedule replaces the retry schedule (tests).
	Schedule []time.Duration
	// Timeout bounds each attempt. Default 15 s.
	Timeout time.Duration
	// FailingFor is how long a webhook may fail without one success before
	// it is deactivated and the admins are mailed. Default 5 days.
	FailingFor time.Duration
	// Workers is how many deliveries run at once. Default 4 (each is mostly
	// waiting on a receiver; more would take CPU from the site's requests on
	// a small server); one webhook's deliveries run one at a time whatever
	// this is.
	Workers int
	// Poll is the longest the worker sleeps without looking for due rows
	// (default 30 s; the wake-up after each commit starts new deliveries).
	Poll time.Duration
	// Retention is how long finished deliveries are kept (retention.go);
	// the zero value is Register's defaults from the environment.
	Retention Retention
}

// Service is the webhooks of one app: the outbox hooks, the delivery
// worker and the retry routes.
type Service struct {
	app     core.App
	opts    Options
	queue   *jobs.Queue
	post    *poster
	targets targets
	tried   sync.Map // delivery id → attempt, from the handler to Recorded

	fan       coalescer    // one fan-out at a time, shared by the worker and readers
	fanOutTxs atomic.Int64 // fan-out transactions that moved events (tests)
}

// Register binds webhooks to app with the production options (the
// environment's LECTERN_WEBHOOKS_ALLOW_PRIVATE); the worker starts with
// `serve` and stops on terminate.
func Register(app core.App) *Service {
	allow, _ := strconv.ParseBool(os.Getenv(EnvAllowPriv))
	keep, err := RetentionFromEnv()
	if err != nil {
		app.Logger().Error("webhooks: retention: using the defaults", "error", err.Error())
	}
	s := RegisterWith(app, Options{AllowPrivate: allow, Retention: keep})
	metrics.GaugeFunc(metrics.WebhookDeliveriesPending, "Webhook deliveries waiting to be sent (pending rows of webhookDeliveries).",
		func() float64 { return float64(s.Waiting()) })
	return s
}

// Waiting counts the deliveries not yet delivered nor dead: pending ones and
// failed ones waiting for their retry (0 if the count fails), the
// deliveries of every write committed before the call included (it
// materializes them first).
func (s *Service) Waiting() int {
	if err := s.Materialize(context.Background()); err != nil {
		s.app.Logger().Error("webhooks: materialize deliveries", "error", err.Error())
	}
	var n int
	_ = s.app.DB().Select("COUNT(*)").From(Deliveries).
		Where(dbx.In("status", StatusPending, StatusFailed)).Row(&n)
	return n
}

// RegisterWith is Register with explicit options.
func RegisterWith(app core.App, opts Options) *Service {
	if opts.Schedule == nil {
		opts.Schedule = Schedule
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.FailingFor <= 0 {
		opts.FailingFor = 5 * 24 * time.Hour
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	opts.Retention = opts.Retention.withDefaults()
	s := &Service{app: app, opts: opts, post: newPoster(opts.AllowPrivate, opts.Timeout)}
	s.queue = jobs.New(app, jobs.Config{
		Collection: Deliveries,
		Done:       StatusDelivered,
		Handle:     s.deliver,
		Schedule:   opts.Schedule,
		Workers:    opts.Workers,
		KeyField:   "webhook",
		Poll:       opts.Poll,
		Feed:       s.feed,
		Recorded:   s.recordAttempt,
	})
	s.queue.Register()
	s.bindOutbox()
	s.bindRetention()
	s.bindWebhookRules()
	s.bindRoutes()
	s.bindMaterialize()
	return s
}

// Start starts the delivery worker, which also fans events out into
// deliveries (serve does it; tests without a server call it).
func (s *Service) Start() { s.queue.Start() }

// Queue is the delivery queue (its Stop ends the worker).
func (s *Service) Queue() *jobs.Queue { return s.queue }
