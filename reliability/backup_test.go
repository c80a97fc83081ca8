package reliability

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/archive"

	"lectern/internal/testkit"
)

// TestBackupRestore takes a backup through the API (POST /api/backups, as a
// superuser) while writers run, restores it through the API (POST
// /api/backups/{key}/restore: the process re-execs itself) and also cold, by
// unzipping the archive into a fresh data dir and starting the binary on it.
// After each restore: every row acknowledged before the backup started is
// there (unless a delete was acknowledged later), every row acknowledged
// after the backup finished is gone, the uploaded cover is served byte for
// byte, PRAGMA integrity_check = ok, foreign_key_check empty, counters exact.
func TestBackupRestore(t *testing.T) {
	skipShort(t)
	s := newServer(t, serverOptions{})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	wl := setupWorkload(t, w, 6, 20, 3, 11)

	// an uploaded file, before the backup
	cover := testPNG(t)
	post := createWithFile(t, w.api, "posts", wl.author.token, map[string]string{
		"title": "Post with a cover", "body": "<p>Look.</p>", "status": "published",
	}, "cover", "cover.png", cover)
	coverURL := fmt.Sprintf("/api/files/posts/%s/%s", post["id"], post["cover"])
	w.api.must(t, 200, "GET", coverURL, "", nil)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		wl.run(ctx, 3, 100000)
	}()
	time.Sleep(time.Second)
	before := wl.led.snapshot()
	began := time.Now()
	const key = "reliability_backup.zip"
	r, err := w.api.do("POST", "/api/backups", w.su, map[string]any{"name": key})
	backupTook := time.Since(began)
	if err != nil || r.Status != 204 {
		cancel()
		<-done
		t.Fatalf("create backup: %v %s", err, r)
	}
	finished := wl.led.snapshot()
	time.Sleep(500 * time.Millisecond)
	cancel()
	<-done
	after := wl.led.snapshot()
	t.Logf("backup under load took %s; acked before it started: %d writes, when it finished: %d, at the end: %d",
		backupTook.Round(time.Millisecond), before.acks, finished.acks, after.acks)

	// rows acknowledged after the backup finished must be gone after a restore
	lateIDs := map[string][]string{}
	for c, ids := range after.created {
		was := map[string]bool{}
		for _, id := range finished.created[c] {
			was[id] = true
		}
		for _, id := range ids {
			if !was[id] {
				lateIDs[c] = append(lateIDs[c], id)
			}
		}
	}
	marker := w.create(t, "topics", w.su, map[string]any{"name": "Created after the backup"})["id"].(string)

	// --- restore through the API: the process restarts itself
	began = time.Now()
	w.api.must(t, 204, "POST", "/api/backups/"+key+"/restore", w.su, nil)
	if err := waitRestored(w.api, w.su, marker, 2*time.Minute); err != nil {
		t.Fatalf("restore: %v\n%s", err, tail(s.out.String(), 3000))
	}
	restoreTook := time.Since(began)
	w.api.close()
	apiRes := checkRestored(t, "api restore", s, w.api, coverURL, cover, before, after, lateIDs)
	s.stop()
	apiRes.offline(t, s.dir)

	// --- cold restore: unzip the archive into a fresh dir and serve it
	cold := filepath.Join(t.TempDir(), "pb_data")
	if err := archive.Extract(filepath.Join(s.dir, "backups", key), cold); err != nil {
		t.Fatal(err)
	}
	cs := &server{t: t, bin: s.bin, dir: cold, port: testkit.FreePort(t), out: &outputLog{}}
	cs.url = fmt.Sprintf("http://127.0.0.1:%d", cs.port)
	t.Cleanup(cs.stop)
	coldTook := cs.start()
	ca := newAPI(cs.url)
	defer ca.close()
	coldRes := checkRestored(t, "cold restore", cs, ca, coverURL, cover, before, after, lateIDs)
	cs.stop()
	coldRes.offline(t, cold)

	report(t, "backup", "| restore | rows acked before backup | lost | post-backup rows still there | cover | integrity | fk | counter drift | time to healthy |",
		apiRes.row(fmt.Sprintf("API (backup %s under load)", backupTook.Round(time.Millisecond)), restoreTook)+"\n"+coldRes.row("cold (unzip + start)", coldTook))
}

// restoreResult gathers one restore's checks.
type restoreResult struct {
	name      string
	mustHave  int
	lost      int
	late      int
	coverOK   bool
	integrity string
	fk        int
	drift     int
}

func (r *restoreResult) row(label string, took time.Duration) string {
	cover := "ok"
	if !r.coverOK {
		cover = "MISSING"
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %s | %s | %d | %d | %s |", label, r.mustHave, r.lost, r.late, cover, r.integrity, r.fk, r.drift, took.Round(time.Millisecond))
}

// checkRestored checks a restored, running server against the ledger.
func checkRestored(t *testing.T, name string, s *server, a *api, coverURL string, cover []byte,
	before, after ledgerSnapshot, late map[string][]string) *restoreResult {
	t.Helper()
	res := &restoreResult{name: name}
	// acked before the backup began, and not deleted (acknowledged) since
	gone := map[string]bool{}
	for _, ids := range after.deleted {
		for _, id := range ids {
			gone[id] = true
		}
	}
	db := openReadOnly(t, s.dir)
	defer db.Close()
	for c, ids := range before.created {
		var want []string
		for _, id := range ids {
			if !gone[id] {
				want = append(want, id)
			}
		}
		res.mustHave += len(want)
		if m := missing(t, db, c, want); len(m) > 0 {
			res.lost += len(m)
			t.Errorf("%s: %d %s acknowledged before the backup are missing: %v", name, len(m), c, m)
		}
	}
	for c, ids := range before.deleted {
		if p := present(t, db, c, ids); len(p) > 0 {
			res.lost += len(p)
			t.Errorf("%s: %s deleted before the backup are back: %v", name, c, p)
		}
	}
	for c, ids := range late {
		p := present(t, db, c, ids)
		res.late += len(p)
		if len(p) > 0 {
			t.Errorf("%s: %d %s acknowledged after the backup finished survived the restore: %v", name, len(p), c, p)
		}
	}
	r, err := a.do("GET", coverURL, "", nil)
	res.coverOK = err == nil && r.Status == 200 && bytes.Equal(r.Body, cover)
	if !res.coverOK {
		t.Errorf("%s: cover %s not served intact: %v %d (%d bytes)", name, coverURL, err, r.Status, len(r.Body))
	}
	return res
}

// offline runs the checks that need the server stopped.
func (r *restoreResult) offline(t *testing.T, dir string) {
	t.Helper()
	db := openReadOnly(t, dir)
	h := checkDB(t, db)
	db.Close()
	r.integrity, r.fk = h.Integrity, h.FKRows
	if !h.ok() {
		t.Errorf("%s: integrity %q, foreign key violations %d %v", r.name, h.Integrity, h.FKRows, h.FKSample)
	}
	d := counterDrift(t, dir)
	r.drift = len(d)
	for _, x := range d {
		t.Errorf("%s: counter drift %s", r.name, x)
	}
}

// waitRestored waits until the restarted server answers and the marker
// written after the backup is gone (the data really is the backup's).
func waitRestored(a *api, su, marker string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if healthy(hc, a.base) {
			r, err := a.do("GET", "/api/collections/topics/records/"+marker, su, nil)
			if err == nil && r.Status == 404 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not restored after %s", timeout)
}

// testPNG is a small valid PNG.
func testPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// createWithFile creates a record with one uploaded file (multipart).
func createWithFile(t testing.TB, a *api, collection, token string, fields map[string]string, fileField, fileName string, data []byte) map[string]any {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile(fileField, fileName)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", a.base+"/api/collections/"+collection+"/records", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", token)
	res, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	r := reply{Status: res.StatusCode, Body: buf.Bytes()}
	if r.Status != 200 {
		t.Fatalf("upload %s: %s", collection, r)
	}
	var rec map[string]any
	r.json(&rec)
	return rec
}
