package apidocs

import "net/http"

// The metrics route (internal/metrics), repeated here rather than imported.
const PathMetrics = "/api/metrics"

func (b *openAPIBuilder) metrics() {
	p := newOp(http.MethodGet, PathMetrics, "operations_metrics", "operations", "Prometheus metrics").
		describe("**Who may call it:** superusers, or a scraper sending `Authorization: Bearer <LECTERN_METRICS_TOKEN>`.",
			"Prometheus' text exposition format 0.0.4: `lectern_http_requests_total{method,route,status}`, "+
				"`lectern_http_request_duration_seconds{method,route}` (route = the route pattern, never a raw path), "+
				"`lectern_cache_requests_total{result}`, `lectern_realtime_clients`, `lectern_webhook_deliveries_pending`, "+
				"`lectern_mail_sent_total`, SQLite file sizes, and the Go and process collectors. See the README's Operations section.")
	p.answer(200, o("description", "The metrics.", "content", o("text/plain; version=0.0.4", o("schema", o("type", "string")))))
	p.answer(401, errorResponse("No credentials."))
	p.answer(403, errorResponse("Credentials that may not read the metrics (a wrong token, a user that is not a superuser)."))
	b.add(p)
}
