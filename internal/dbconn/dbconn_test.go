package dbconn

import (
	"path/filepath"
	"testing"
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
