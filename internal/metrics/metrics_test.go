package metrics_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/metrics"
)

// A mux shaped like PocketBase's: method patterns with wildcards and a
// catch-all.
func testMux() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }
	mux.HandleFunc("GET /api/collections/{collection}/records", ok)
	mux.HandleFunc("GET /api/collections/{collection}/records/{id}", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.PathValue("id"), "missing") {
			http.NotFound(w, r)
			return
		}
		ok(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	return mux
}

func series(t *testing.T) map[string]bool {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	out := map[string]bool{}
	for _, mf := range families {
		if mf.GetName() != "lectern_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(labels, ",")] = true
		}
	}
	return out
}

// Thousands of distinct ids, paths, query strings and invented methods add
// no series: the labels are route patterns, known methods and statuses.
func TestRouteCardinalityIsBounded(t *testing.T) {
	h := metrics.Handler(testMux())
	send := func(method, target string) {
		req := httptest.NewRequest(method, target, nil)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	send("GET", "/api/collections/posts/records")
	send("GET", "/api/collections/posts/records/abc")
	send("GET", "/api/collections/posts/records/missing")
	send("GET", "/nowhere")
	send("BREW", "/api/collections/posts/records")
	before := series(t)

	for i := range 2000 {
		send("GET", fmt.Sprintf("/api/collections/c%d/records?page=%d", i, i))
		send("GET", fmt.Sprintf("/api/collections/posts/records/id%05d", i))
		send("GET", fmt.Sprintf("/api/collections/posts/records/missing%d", i))
		send("GET", fmt.Sprintf("/random/%d/path", i))
		send(fmt.Sprintf("M%d", i), "/api/collections/posts/records")
	}
	after := series(t)
	assert.Equal(t, before, after, "no new series from ids, paths or methods")
	for s := range after {
		assert.NotRegexp(t, `id\d|c\d|random|M\d`, s, "a raw value leaked into a label")
	}
	assert.True(t, after[`method=GET,route=/api/collections/{collection}/records/{id},status=200`], "%v", after)
	assert.True(t, after[`method=GET,route=/api/collections/{collection}/records/{id},status=404`], "%v", after)
	assert.True(t, after[`method=OTHER,route=/,status=404`], "%v", after)
	assert.True(t, after[`method=GET,route=/,status=404`], "%v", after)

	assert.GreaterOrEqual(t, count(t, `method=GET,route=/api/collections/{collection}/records/{id},status=200`), 2001.0)
}

func count(t *testing.T, labels string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range families {
		if mf.GetName() != "lectern_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			if strings.Join(ls, ",") == labels {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// The funcs other packages register are read at scrape time, and a second
// registration under the same name replaces the first (the placeholder 0 of
// a feature that has not landed yet, an app rebuilt in tests).
func TestFuncsAndPlaceholders(t *testing.T) {
	text := func() string {
		families, err := metrics.Registry.Gather()
		require.NoError(t, err)
		var b strings.Builder
		for _, mf := range families {
			b.WriteString(mf.String())
		}
		return b.String()
	}
	out := text()
	for _, name := range []string{metrics.WebhookDeliveriesPending, metrics.MailSentTotal, "go_goroutines", "process_resident_memory_bytes"} {
		assert.Contains(t, out, name)
	}
	metrics.GaugeFunc(metrics.WebhookDeliveriesPending, "", func() float64 { return 7 })
	assert.Equal(t, 7.0, gauge(t, metrics.WebhookDeliveriesPending))
	metrics.GaugeFunc(metrics.WebhookDeliveriesPending, "", func() float64 { return 0 })
	metrics.Counter(metrics.MailSentTotal, "").Add(2)
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range families {
		if mf.GetName() == metrics.MailSentTotal {
			assert.Equal(t, 2.0, mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
}

func gauge(t *testing.T, name string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range families {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// lectern_mail_sent_total counts every message the app's mailer hands to
// the SMTP server (here PocketBase's test mailer), and nothing that failed.
func TestMailSentCountsTheAppsMailer(t *testing.T) {
	app, err := tests.NewTestApp()
	require.NoError(t, err)
	defer app.Cleanup()
	metrics.Register(app)

	value := func() float64 {
		families, err := metrics.Registry.Gather()
		require.NoError(t, err)
		for _, mf := range families {
			if mf.GetName() == metrics.MailSentTotal {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		t.Fatal("no " + metrics.MailSentTotal)
		return 0
	}
	before := value()
	msg := &mailer.Message{From: mail.Address{Address: "site@lectern.test"}, To: []mail.Address{{Address: "reader@lectern.test"}},
		Subject: "Hello", HTML: "<p>Hi</p>"}
	require.NoError(t, app.NewMailClient().Send(msg))
	require.NoError(t, app.NewMailClient().Send(msg))
	assert.Equal(t, before+2, value())
	assert.Equal(t, 2, app.TestMailer.TotalSend())

	// a send that fails is not counted
	app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error { return errors.New("smtp down") })
	assert.Error(t, app.NewMailClient().Send(msg))
	assert.Equal(t, before+2, value())
}
