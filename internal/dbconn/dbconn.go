// Package dbconn opens Lectern's SQLite databases: PocketBase's default
// connection, with data.db synced on every commit.
package dbconn

import (
	"path/filepath"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Connect is the pocketbase.Config.DBConnect of the lectern binary:
// synchronous=FULL for data.db. In WAL mode PocketBase's NORMAL survives a
// process crash but may lose the last commits on power loss; FULL syncs the
// WAL on every commit, at 1.3–2.2× the write time (RELIABILITY.md). The
// request-log database (auxiliary.db) keeps PocketBase's default.
func Connect(dbPath string) (*dbx.DB, error) { return WithSync("FULL")(dbPath) }

// WithSync is Connect with another synchronous level for data.db ("FULL",
// "NORMAL"…): the benchmarks compare against PocketBase's NORMAL with it.
func WithSync(level string) func(dbPath string) (*dbx.DB, error) {
	return func(dbPath string) (*dbx.DB, error) {
		if filepath.Base(dbPath) != "data.db" {
			return core.DefaultDBConnect(dbPath)
		}
		// PocketBase's pragmas (core.DefaultDBConnect) but synchronous(level);
		// busy_timeout stays first so the connection blocks before WAL is set.
		pragmas := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(200000000)" +
			"&_pragma=synchronous(" + level + ")&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32000)&_defensive=1"
		return dbx.Open("sqlite", dbPath+pragmas)
	}
}
