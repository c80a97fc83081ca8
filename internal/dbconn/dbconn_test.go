package dbconn

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
)

// data.db gets the requested synchronous level; other databases keep
// PocketBase's default (NORMAL, 1).
func TestSynchronousLevel(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		file string
		want int
	}{
		{"data.db with Connect", "data.db", 2},
		{"auxiliary.db with Connect", "auxiliary.db", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := Connect(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got int
			if err := db.NewQuery("PRAGMA synchronous").Row(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("synchronous = %d, want %d", got, c.want)
			}
		})
	}
	db, err := WithSync("NORMAL")(filepath.Join(t.TempDir(), "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got int
	if err := db.NewQuery("PRAGMA synchronous").Row(&got); err != nil || got != 1 {
		t.Errorf("WithSync(NORMAL): synchronous = %d (%v), want 1", got, err)
	}
}

// A transaction that reads before it writes, begun while another connection
// (another process: Litestream, a CLI command) holds the write lock, waits for
// the lock and then commits, having read what the other one committed. A
// deferred BEGIN would have read first and failed on its write with
// "database is locked" (SQLITE_BUSY, then SQLITE_BUSY_SNAPSHOT for good).
func TestTransactionWaitsForAnotherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := Connect(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.NewQuery("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").Execute(); err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO t (v) VALUES ('other')"); err != nil {
		t.Fatal(err)
	}

	seen := -1
	done := make(chan error, 1)
	go func() {
		done <- db.Transactional(func(tx *dbx.Tx) error {
			if err := tx.NewQuery("SELECT count(*) FROM t").Row(&seen); err != nil {
				return err
			}
			_, err := tx.Insert("t", dbx.Params{"v": "ours"}).Execute()
			return err
		})
	}()
	select {
	case err := <-done:
		t.Fatalf("the transaction finished while the other writer held the lock: %v", err)
	case <-time.After(200 * time.Millisecond): // the other writer's work
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("transaction after the other writer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the transaction did not finish 10 s after the other writer committed")
	}
	if seen != 1 {
		t.Errorf("the transaction read %d rows, want 1: it must begin after the other writer's commit", seen)
	}
	var n int
	if err := db.NewQuery("SELECT count(*) FROM t").Row(&n); err != nil || n != 2 {
		t.Errorf("rows = %d (%v), want 2", n, err)
	}
}
