// Package metrics is Lectern's Prometheus instrumentation: request counts and
// latencies by route pattern, the response cache, realtime clients, search
// merges, SQLite's WAL, the Go runtime and the process, exposed at
// GET /api/metrics for a superuser or a scraper holding LECTERN_METRICS_TOKEN.
//
// It uses prometheus/client_golang: the reference implementation of the
// exposition format, with real `le` histogram buckets (histogram_quantile in
// Grafana works as is), typed counter/gauge funcs and the official Go and
// process collectors. VictoriaMetrics/metrics is ~3 MB smaller in the binary
// but its default histograms are `vmrange` buckets that Prometheus cannot
// aggregate; on a ~40 MB binary run by one server the size matters less than
// a scrape every Prometheus/Grafana setup reads without adapters.
//
// Other packages register what they own through the small API below
// (Counter, GaugeFunc, CounterFunc): the webhook outbox its pending
// deliveries, the mailer its sent messages. Both of those names exist from
// the start (0 until the features report), so dashboards and alerts can be
// written once.
package metrics

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Env names the variables that configure metrics.
const (
	// EnvToken is the bearer token a scraper sends (Authorization: Bearer
	// <token>); without it only superusers may read /api/metrics.
	EnvToken = "LECTERN_METRICS_TOKEN"
	// EnvDisable turns request instrumentation and /api/metrics off when
	// "off", "0", "false" or "no" (the benchmark measures Lectern both ways).
	EnvDisable = "LECTERN_METRICS"
)

// Names of the metrics other packages feed.
const (
	WebhookDeliveriesPending = "lectern_webhook_deliveries_pending"
	MailSentTotal            = "lectern_mail_sent_total"
)

// Registry holds every Lectern metric; /api/metrics exposes it.
var Registry = prometheus.NewRegistry()

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	GaugeFunc(WebhookDeliveriesPending, "Webhook deliveries waiting to be sent (pending rows of webhookDeliveries).", func() float64 { return 0 })
	Counter(MailSentTotal, "Mail messages handed to the SMTP server.")
}

// Disabled reports whether LECTERN_METRICS turns metrics off.
func Disabled() bool {
	switch strings.ToLower(os.Getenv(EnvDisable)) {
	case "off", "0", "false", "no":
		return true
	}
	return false
}

var (
	mu       sync.Mutex
	counters = map[string]prometheus.Counter{}
	funcs    = map[string]*atomic.Pointer[func() float64]{}
)

// Counter returns the counter called name (help describes it), registering
// it on first use; later calls with the same name return the same counter.
func Counter(name, help string) prometheus.Counter {
	mu.Lock()
	defer mu.Unlock()
	if c, ok := counters[name]; ok {
		return c
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	Registry.MustRegister(c)
	counters[name] = c
	return c
}

// GaugeFunc makes the gauge called name report f() at every scrape. Calling
// it again with the same name and labels replaces f (an app rebuilt in tests,
// a feature replacing the placeholder 0). labels are constant label pairs
// ("result", "hit").
func GaugeFunc(name, help string, f func() float64, labels ...string) {
	registerFunc(name, help, f, labels, false)
}

// CounterFunc is GaugeFunc for a value that only grows (a counter kept
// elsewhere, read at scrape time).
func CounterFunc(name, help string, f func() float64, labels ...string) {
	registerFunc(name, help, f, labels, true)
}

func registerFunc(name, help string, f func() float64, labels []string, counter bool) {
	key := name + "{" + strings.Join(labels, ",") + "}"
	mu.Lock()
	defer mu.Unlock()
	if p, ok := funcs[key]; ok {
		p.Store(&f)
		return
	}
	p := new(atomic.Pointer[func() float64])
	p.Store(&f)
	funcs[key] = p
	read := func() float64 { return (*p.Load())() }
	constLabels := prometheus.Labels{}
	for i := 0; i+1 < len(labels); i += 2 {
		constLabels[labels[i]] = labels[i+1]
	}
	if counter {
		Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: constLabels}, read))
	} else {
		Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: constLabels}, read))
	}
}
