package reliability

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestOperatorOptions: the Application URL from the environment, JSON request
// logs on stdout, and no sendmail noise on a superuser's sign-in from a new
// device while mail is not configured.
func TestOperatorOptions(t *testing.T) {
	skipShort(t)
	s := newServer(t, serverOptions{env: []string{"LECTERN_APP_URL=https://lectern.example/", "LECTERN_LOG_JSON=1"}})
	s.start()
	w := newWorld(t, s)

	var settings struct {
		Meta struct{ AppURL string } `json:"meta"`
	}
	if err := w.api.must(t, 200, "GET", "/api/settings", w.su, nil).json(&settings); err != nil {
		t.Fatal(err)
	}
	if settings.Meta.AppURL != "https://lectern.example" {
		t.Errorf("Application URL %q, want https://lectern.example", settings.Meta.AppURL)
	}

	// JSON request lines on stdout, cache hits included
	for range 2 {
		w.api.must(t, 200, "GET", "/api/collections/posts/records?perPage=1", "", nil)
	}
	deadline := time.Now().Add(5 * time.Second)
	var hitLine map[string]any
	for hitLine == nil && time.Now().Before(deadline) {
		for _, line := range strings.Split(s.out.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" && m["cache"] == "HIT" {
				hitLine = m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if hitLine == nil {
		t.Fatalf("no JSON request line for a cache hit on stdout:\n%s", tail(s.out.String(), 2000))
	}
	if hitLine["route"] != "/api/collections/{collection}/records" || hitLine["status"] != 200.0 {
		t.Errorf("request line %v", hitLine)
	}

	// a sign-in from a new device sends PocketBase's new-login alert: with
	// no SMTP and no sendmail, one clear warning, no error per sign-in
	r, err := w.api.doCtx(t.Context(), "POST", "/api/collections/_superusers/auth-with-password", "",
		map[string]any{"identity": superuserEmail, "password": superuserPassword}, map[string]string{"User-Agent": "another-device/1.0"})
	if err != nil || r.Status != 200 {
		t.Fatalf("superuser sign-in from a new device: %v %s", err, r)
	}
	q := url.Values{"filter": {`message ~ "sendmail" || message ~ "mail is not configured" || data.error ~ "sendmail"`}, "perPage": {"50"}}
	var logs struct {
		Items []struct {
			Message string
			Data    map[string]any
		}
	}
	found := false
	deadline = time.Now().Add(15 * time.Second)
	for !found && time.Now().Before(deadline) {
		if err := w.api.must(t, 200, "GET", "/api/logs?"+q.Encode(), w.su, nil).json(&logs); err != nil {
			t.Fatal(err)
		}
		for _, l := range logs.Items {
			if strings.Contains(l.Message, "mail is not configured") {
				found = true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, l := range logs.Items {
		if strings.Contains(l.Message+toJSON(l.Data), "failed to locate a sendmail") {
			t.Errorf("sendmail noise in the logs: %s %v", l.Message, l.Data)
		}
	}
	if !found {
		t.Errorf("no 'mail is not configured' warning in the logs: %+v", logs.Items)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
