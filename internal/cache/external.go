package cache

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Writes by other processes.
//
// A CLI command next to the running server (`lectern seed`, `check-counters
// --repair`, `reindex`, `newsletter send`, any future one) commits to data.db
// through its own connection, where no hook of this process sees it. SQLite's
// PRAGMA data_version, read on one connection, changes whenever any other
// connection committed to the file since the last read on it. The watcher
// reads it every ExternalPoll from a goroutine on the server's write
// connection (PocketBase's nonconcurrent pool: one connection, kept open),
// so the server's own writes, which all commit on that connection and bump
// the cache through its hooks, do not count and only foreign commits do. A
// read takes microseconds and no file I/O beyond the WAL index in shared
// memory; cached reads never wait on it, a write at most for one such read.
// A change empties the cache.
//
// So a guest sees another process's write at most ExternalPoll (plus the
// time of one in-flight read) after its commit. The TTL stays as a backstop.

// ExternalPoll is how often the server looks for commits by other processes.
const ExternalPoll = 50 * time.Millisecond

// watchDataVersion starts the watcher over app's data.db; stop ends it.
func (c *Cache) watchDataVersion(app core.App, every time.Duration) (stop func(), err error) {
	db, ok := app.NonconcurrentDB().(*dbx.DB)
	if !ok {
		return func() {}, nil
	}
	last, err := dataVersion(db.DB())
	if err != nil {
		return nil, err
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			// (a reopened connection starts another count: one spurious bump)
			v, err := dataVersion(db.DB())
			if err != nil {
				// unknown is changed: never keep serving what may be stale
				c.Bump()
				if !failing {
					app.Logger().Warn("response cache: cannot read data_version; emptying the cache every poll", "error", err)
				}
				failing = true
				continue
			}
			failing = false
			if v != last {
				last = v
				c.external.Add(1)
				c.Bump()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-done
		})
	}, nil
}

func dataVersion(conn *sql.DB) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var v int64
	err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}
