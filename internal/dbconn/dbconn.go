// Package dbconn opens Lectern's SQLite databases: PocketBase's default
// connection, with data.db synced on every commit and every transaction
// taking the write lock when it begins.
package dbconn

import (
	"path/filepath"

	"github.com/pocketbase/dbx"
	_ "modernc.org/sqlite" // the "sqlite" driver the DSN names, as PocketBase's core
)

// txLock is how a transaction begins (the driver's _txlock): "immediate"
// takes the write lock at BEGIN. PocketBase runs its transactions on a
// one-connection pool, so inside the process they never contend; another
// process writing the same file does (Litestream's checkpoint barrier and
// its sequence bump, the CLI commands next to a running server). A deferred
// transaction that has read before it writes cannot wait for the lock —
// SQLite answers SQLITE_BUSY at once to a read transaction that wants to
// write — and once the other process has committed it can never write
// (SQLITE_BUSY_SNAPSHOT). PocketBase retries the failed statement, not the
// transaction, 12 times over 7.35 s and the write fails, every other write
// queued behind it: the 7.4 s stalls RELIABILITY.md measured under
// Litestream. BEGIN IMMEDIATE waits for the lock under busy_timeout before
// reading anything, so a transaction waits the few milliseconds the other
// process holds it. A string so the stall measurement can build the old
// behaviour with -ldflags "-X lectern/internal/dbconn.txLock=deferred".
var txLock = "immediate"

// Connect is the pocketbase.Config.DBConnect of the lectern binary:
// synchronous=FULL for data.db. In WAL mode PocketBase's NORMAL survives a
// process crash but may lose the last commits on power loss; FULL syncs the
// WAL on every commit, at 1.3–2.2× the write time (RELIABILITY.md). The
// request-log database (auxiliary.db) keeps PocketBase's NORMAL. Both take
// the write lock when a transaction begins (txLock).
func Connect(dbPath string) (*dbx.DB, error) { return WithSync("FULL")(dbPath) }

// WithSync is Connect with another synchronous level for data.db ("FULL",
// "NORMAL"…): the benchmarks compare against PocketBase's NORMAL with it.
func WithSync(level string) func(dbPath string) (*dbx.DB, error) {
	return func(dbPath string) (*dbx.DB, error) {
		sync := level
		if filepath.Base(dbPath) != "data.db" {
			sync = "NORMAL" // PocketBase's
		}
		// PocketBase's pragmas (core.DefaultDBConnect) but synchronous(level)
		// and _txlock; busy_timeout stays first so the connection blocks
		// before WAL is set.
		dsn := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(200000000)" +
			"&_pragma=synchronous(" + sync + ")&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32000)&_defensive=1" +
			"&_txlock=" + txLock
		return dbx.Open("sqlite", dbPath+dsn)
	}
}
