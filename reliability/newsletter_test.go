package reliability

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"lectern/internal/testkit"
)

// TestNewsletterKill proves "once per subscriber per issue" across kill -9,
// twice in one issue: `lectern newsletter send` is killed mid-issue while a
// server runs beside it; the server's worker (internal/jobs) picks the issue
// up from its rows; then the server itself is killed mid-send and restarted,
// and its worker resumes the issue on start. Read back from a real SMTP
// server (mailpit): every subscriber got the issue, at most one per kill got
// it twice — a copy in flight at that kill — and then with the same
// Message-ID, and the ledger says sent for all.
func TestNewsletterKill(t *testing.T) {
	skipShort(t)
	const subscribers = 80
	mp := testkit.StartMailpit(t)
	s := newServer(t, serverOptions{})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	w.api.must(t, 200, "PATCH", "/api/settings", w.su, map[string]any{
		"meta": map[string]any{"appURL": "http://lectern.test", "senderName": "Lectern", "senderAddress": "news@lectern.test"},
		"smtp": map[string]any{"enabled": true, "host": mp.SMTPHost, "port": mp.SMTPPort},
	})
	author := w.addUsers(t, "author", "newsletter-author")[0]
	w.create(t, "posts", author.token, map[string]any{"title": "Crash-proof newsletters", "body": "<p>Once each.</p>", "status": "published"})
	for i := range subscribers {
		w.create(t, "subscribers", w.su, map[string]any{"email": fmt.Sprintf("reader%02d@example.test", i), "status": "active"})
	}
	// the server's worker sends at 10 mails a second (the dashboard's rate)
	var settings struct{ Items []struct{ ID string } }
	w.api.must(t, 200, "GET", "/api/collections/newsletterSettings/records", w.su, nil).json(&settings)
	w.api.must(t, 200, "PATCH", "/api/collections/newsletterSettings/records/"+settings.Items[0].ID, w.su, map[string]any{"ratePerMinute": 600})

	// kill 1: the CLI, at 10 mails a second, mid-issue
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "newsletter", "send", "--rate", "600", "--dir", s.dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mp.WaitFor(t, 15, "", 60*time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	atKill := len(mp.Messages(t))
	if atKill >= subscribers {
		t.Fatalf("the send finished before the kill (%d mails): nothing was proven\n%s", atKill, out.String())
	}

	// kill 2: the server, once its worker has taken the issue over and sent
	// 20 more; restarted, it resumes the issue on start
	mp.WaitFor(t, atKill+20, "", 120*time.Second)
	s.kill()
	atServerKill := len(mp.Messages(t))
	if atServerKill >= subscribers {
		t.Fatalf("the server finished before its kill (%d mails): nothing was proven", atServerKill)
	}
	s.start()

	// the ledger drains within the lease of the copy in flight
	deadline := time.Now().Add(150 * time.Second)
	var issue struct {
		Items []struct{ Status string }
	}
	for {
		r := w.api.must(t, 200, "GET", "/api/collections/newsletterIssues/records", w.su, nil)
		if err := r.json(&issue); err != nil {
			t.Fatal(err)
		}
		if len(issue.Items) == 1 && issue.Items[0].Status == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("issue not sent 150 s after the kill: %s\nserver:\n%s", r, tail(s.out.String(), 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}

	perTo := map[string][]string{}
	for _, m := range mp.Messages(t) {
		perTo[m.To[0].Address] = append(perTo[m.To[0].Address], m.MessageID)
	}
	var repeated []string
	for i := range subscribers {
		email := fmt.Sprintf("reader%02d@example.test", i)
		ids := perTo[email]
		switch {
		case len(ids) == 0:
			t.Errorf("%s was skipped", email)
		case len(ids) == 2 && ids[0] == ids[1]:
			repeated = append(repeated, email)
		case len(ids) > 1:
			t.Errorf("%s got %d copies with Message-IDs %v", email, len(ids), ids)
		}
	}
	if len(repeated) > 2 {
		t.Errorf("%d subscribers got a second copy (%v): only one in flight at each of the 2 kills may", len(repeated), repeated)
	}
	var ledger struct {
		TotalItems int
		Items      []struct{ Status string }
	}
	w.api.must(t, 200, "GET", "/api/collections/newsletterDeliveries/records?perPage=200&filter="+
		strings.ReplaceAll("status!='sent'", "'", "%27"), w.su, nil).json(&ledger)
	if ledger.TotalItems != 0 {
		t.Errorf("%d ledger rows not sent", ledger.TotalItems)
	}
	t.Logf("kill -9 of the CLI after %d of %d mails, of the server after %d; afterwards every subscriber had the issue once, repeated with the same Message-ID: %v",
		atKill, subscribers, atServerKill, repeated)
}
