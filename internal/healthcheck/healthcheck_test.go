package healthcheck_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"lectern/internal/healthcheck"
)

func TestRun(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()

	var stderr bytes.Buffer
	if code := healthcheck.Run([]string{srv.URL + "/api/health"}, &stderr); code != 0 {
		t.Fatalf("healthy server: exit %d (%s)", code, stderr.String())
	}
	status = http.StatusServiceUnavailable
	if code := healthcheck.Run([]string{srv.URL + "/api/health"}, &stderr); code != 1 {
		t.Fatalf("unhealthy server: exit %d, want 1", code)
	}
	srv.Close()
	if code := healthcheck.Run([]string{srv.URL + "/api/health"}, &stderr); code != 1 {
		t.Fatalf("no server: exit %d, want 1", code)
	}
}
