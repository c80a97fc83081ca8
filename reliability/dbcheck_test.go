package reliability

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core" // also registers modernc's "sqlite" driver

	"lectern/hooks"
)

// Offline checks of a data dir, run while no server uses it (except
// openReadOnly, which is safe next to a running server: WAL readers never
// block the writer).

// openReadOnly opens pb_data/data.db read-only with modernc's SQLite.
func openReadOnly(t testing.TB, dir string) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(dir, "data.db") + "?mode=ro&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// dbHealth is what a data dir's database says about itself.
type dbHealth struct {
	Integrity string   // "ok" when PRAGMA integrity_check is clean
	FKRows    int      // rows reported by PRAGMA foreign_key_check
	FKSample  []string // a few of them
}

func (h dbHealth) ok() bool { return h.Integrity == "ok" && h.FKRows == 0 }

func checkDB(t testing.TB, db *sql.DB) dbHealth {
	t.Helper()
	var h dbHealth
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	var lines []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		lines = append(lines, s)
	}
	rows.Close()
	h.Integrity = strings.Join(lines, "; ")

	rows, err = db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		rows.Scan(ptrs...)
		h.FKRows++
		if len(h.FKSample) < 5 {
			h.FKSample = append(h.FKSample, fmt.Sprint(vals...))
		}
	}
	rows.Close()
	return h
}

// missing returns the ids absent from table.
func missing(t testing.TB, db *sql.DB, table string, ids []string) []string {
	t.Helper()
	return idQuery(t, db, `SELECT j.value FROM json_each(?) j WHERE j.value NOT IN (SELECT id FROM `+table+`)`, ids)
}

// present returns the ids present in table.
func present(t testing.TB, db *sql.DB, table string, ids []string) []string {
	t.Helper()
	return idQuery(t, db, `SELECT j.value FROM json_each(?) j WHERE j.value IN (SELECT id FROM `+table+`)`, ids)
}

func idQuery(t testing.TB, db *sql.DB, query string, ids []string) []string {
	t.Helper()
	if len(ids) == 0 {
		return nil
	}
	raw, _ := json.Marshal(ids)
	rows, err := db.Query(query, string(raw))
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func tableCount(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// counterDrift runs hooks.CheckCounters (every derived counter against a
// fresh COUNT/AVG) on an app opened over the data dir; no server may run.
func counterDrift(t testing.TB, dir string) []hooks.Drift {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatalf("open app over %s: %v", dir, err)
	}
	defer app.ResetBootstrapState()
	drifts, err := hooks.CheckCounters(app, false)
	if err != nil {
		t.Fatalf("check counters: %v", err)
	}
	return drifts
}
