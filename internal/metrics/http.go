package metrics

import (
	"crypto/subtle"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Path is where the metrics are exposed.
const Path = "/api/metrics"

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lectern_http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status.",
	}, []string{"method", "route", "status"})
	durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lectern_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request (realtime streams excluded), by method and route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route"})
)

func init() {
	Registry.MustRegister(requests, durations)
}

// Unmatched is the route of a request no route pattern matched.
const Unmatched = "(unmatched)"

// methods are the label values of the method label; anything else is OTHER,
// so a client inventing methods cannot grow the series.
var methods = map[string]string{}

func init() {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		methods[m] = m
	}
}

// series are the resolved children of one (method, route, status): the
// label lookup done once instead of on every request.
type series struct {
	count prometheus.Counter
	dur   prometheus.Observer
}

type seriesKey struct {
	method, route string
	status        int
}

var resolved sync.Map // seriesKey → *series

func lookup(method, route string, status int) *series {
	k := seriesKey{method, route, status}
	if s, ok := resolved.Load(k); ok {
		return s.(*series)
	}
	s := &series{
		count: requests.WithLabelValues(method, route, strconv.Itoa(status)),
		dur:   durations.WithLabelValues(method, route),
	}
	v, _ := resolved.LoadOrStore(k, s)
	return v.(*series)
}

// Route is the route label of a request after it was served: the pattern the
// router matched (http.Request.Pattern, which Go's mux sets on the request
// and the response cache sets on the hits it answers before the router),
// without its method. Never a raw path: an unmatched request is Unmatched.
func Route(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		return Unmatched
	}
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[i+1:]
	}
	// a host in the pattern ("example.com/…") would be a client-chosen value
	if i := strings.IndexByte(p, '/'); i > 0 {
		p = p[i:]
	}
	return p
}

// Handler wraps the server's outermost handler: it counts and times every
// request, the response cache's hits answered in front of the router
// included.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := writers.Get().(*statusWriter)
		sw.ResponseWriter, sw.status, sw.stream = w, 0, false
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			stream := sw.stream
			sw.ResponseWriter = nil
			writers.Put(sw)
			method, ok := methods[r.Method]
			if !ok {
				method = "OTHER"
			}
			s := lookup(method, Route(r), status)
			s.count.Inc()
			if !stream {
				s.dur.Observe(time.Since(start).Seconds())
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

var writers = sync.Pool{New: func() any { return new(statusWriter) }}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	stream bool // an event stream: its duration is the client's stay
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		w.stream = strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps sendfile for file downloads.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.ResponseWriter, r)
}

// Flush lets realtime streams flush through the wrapper.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ---

// Register adds GET /api/metrics to app and, on serve, wraps the server's
// handler outermost (around the response cache's) so every request is
// counted. It also registers the gauges that read the app: realtime clients
// and SQLite file sizes. Nothing happens when LECTERN_METRICS is off.
func Register(app core.App) {
	if Disabled() {
		return
	}
	GaugeFunc("lectern_realtime_clients", "Connected realtime (SSE) clients.", func() float64 {
		return float64(app.SubscriptionsBroker().TotalClients())
	})
	for _, name := range []string{"data", "auxiliary"} {
		GaugeFunc("lectern_sqlite_wal_bytes", "Size of the SQLite write-ahead log (grows until a checkpoint).",
			fileSize(func() string { return filepath.Join(app.DataDir(), name+".db-wal") }), "db", name)
		GaugeFunc("lectern_sqlite_db_bytes", "Size of the SQLite database file.",
			fileSize(func() string { return filepath.Join(app.DataDir(), name+".db") }), "db", name)
	}

	// every message Lectern or PocketBase sends (account mail, newsletter,
	// contact, receipts, webhook alerts) goes through the app's mailer
	mailSent := Counter(MailSentTotal, "")
	app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		mailSent.Inc()
		return nil
	})

	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(se *core.ServeEvent) error {
			se.Router.GET(Path, serveMetrics)
			if err := se.Next(); err != nil {
				return err
			}
			// after the later OnServe handlers (the cache's wraps the
			// router in its own post-Next step): outermost
			if se.Server != nil && se.Server.Handler != nil {
				se.Server.Handler = Handler(se.Server.Handler)
			}
			return nil
		},
		Priority: -1000,
	})
}

func fileSize(path func() string) func() float64 {
	return func() float64 {
		fi, err := os.Stat(path())
		if err != nil {
			return 0
		}
		return float64(fi.Size())
	}
}

// textFormat is Prometheus' text exposition 0.0.4, what the contract names.
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

func serveMetrics(e *core.RequestEvent) error {
	if err := authorize(e); err != nil {
		return err
	}
	families, err := Registry.Gather()
	if err != nil && len(families) == 0 {
		return e.InternalServerError("", err)
	}
	h := e.Response.Header()
	h.Set("Content-Type", string(textFormat))
	h.Set("Cache-Control", "no-store")
	enc := expfmt.NewEncoder(e.Response, textFormat)
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return nil // the client went away mid-body
		}
	}
	return nil
}

// authorize lets a superuser or the bearer of LECTERN_METRICS_TOKEN through:
// no credentials is a 401, wrong ones a 403.
func authorize(e *core.RequestEvent) error {
	if e.HasSuperuserAuth() {
		return nil
	}
	header := e.Request.Header.Get("Authorization")
	if token := os.Getenv(EnvToken); token != "" {
		got, ok := strings.CutPrefix(header, "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1 {
			return nil
		}
	}
	if header == "" {
		return e.UnauthorizedError("Metrics need a superuser or the metrics token (Authorization: Bearer <LECTERN_METRICS_TOKEN>).", nil)
	}
	return e.ForbiddenError("These credentials may not read the metrics.", nil)
}
