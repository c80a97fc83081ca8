package ops

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionNamesTheStampedBuild(t *testing.T) {
	v, c := version, commit
	t.Cleanup(func() { version, commit = v, c })
	version, commit = "v1.4.0", "0123456789ab-dirty"
	got := Version()
	assert.True(t, strings.HasPrefix(got, "v1.4.0 (commit 0123456789ab-dirty"), got)
	assert.Contains(t, got, "PocketBase v0.40.4")
}

func TestRequestLogLine(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/collections/{collection}/records/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache", "HIT")
		w.WriteHeader(404)
		w.Write([]byte("nope"))
	})
	var out bytes.Buffer
	h := RequestLog(&out, mux)
	req := httptest.NewRequest("GET", "/api/collections/posts/records/abc?token=secret", nil)
	h.ServeHTTP(httptest.NewRecorder(), req)

	var line map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &line), out.String())
	assert.Equal(t, "request", line["msg"])
	assert.Equal(t, "WARN", line["level"])
	assert.Equal(t, "/api/collections/{collection}/records/{id}", line["route"])
	assert.Equal(t, "/api/collections/posts/records/abc", line["path"])
	assert.Equal(t, 404.0, line["status"])
	assert.Equal(t, 4.0, line["bytes"])
	assert.Equal(t, "HIT", line["cache"])
	assert.NotContains(t, out.String(), "secret", "the query string (file tokens) is never logged")
}
