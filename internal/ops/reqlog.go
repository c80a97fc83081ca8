package ops

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// JSON request logs: one line per request on stdout, for `docker logs`,
// journald or any log shipper (PocketBase keeps its own request log in
// auxiliary.db, without the cache's hits). The query string is left out: it
// may carry a file token. Lines look like
//
//	{"time":"…","level":"INFO","msg":"request","method":"GET","route":"/api/collections/{collection}/records",
//	 "path":"/api/collections/posts/records","status":200,"duration_ms":0.41,"bytes":5123,
//	 "ip":"127.0.0.1","cache":"HIT","user_agent":"…"}

// bindRequestLog wraps the server's handler (outermost, on serve) when on()
// says so.
func bindRequestLog(app core.App, on func() bool) {
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(se *core.ServeEvent) error {
			if err := se.Next(); err != nil {
				return err
			}
			if on() && se.Server != nil && se.Server.Handler != nil {
				se.Server.Handler = RequestLog(os.Stdout, se.Server.Handler)
			}
			return nil
		},
		Priority: -1001, // outside the metrics' wrapper (-1000)
	})
}

// RequestLog returns next with one JSON line per request written to w.
func RequestLog(w io.Writer, next http.Handler) http.Handler {
	log := slog.New(slog.NewJSONHandler(w, nil))
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &logWriter{ResponseWriter: rw}
		next.ServeHTTP(lw, r)
		status := lw.status
		if status == 0 {
			status = http.StatusOK
		}
		route := r.Pattern
		if i := strings.IndexByte(route, ' '); i >= 0 {
			route = route[i+1:]
		}
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int64("bytes", lw.bytes),
			slog.String("ip", ip),
		}
		if c := rw.Header().Get("X-Cache"); c != "" {
			attrs = append(attrs, slog.String("cache", c))
		}
		if ua := r.UserAgent(); ua != "" {
			attrs = append(attrs, slog.String("user_agent", ua))
		}
		log.LogAttrs(r.Context(), levelOf(status), "request", attrs...)
	})
}

func levelOf(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *logWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(w.ResponseWriter, r)
	}
	w.bytes += n
	return n, err
}

func (w *logWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
