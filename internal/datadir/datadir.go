// Package datadir guards a PocketBase data directory for `lectern serve`: one
// server per directory, and a start-up that fails loudly (with the path and
// the fix) when the server could not write its databases.
//
// PocketBase itself lets a second `serve` start on a data dir that another one
// serves: both then write the same SQLite files, and each keeps in memory what
// the other no longer sees (the response cache, the realtime subscriptions,
// the search merger's state). A Kubernetes rolling update does exactly that.
// Lock takes an exclusive flock(2) on <dir>/lectern.lock for the lifetime of
// the process: the kernel drops it however the process ends (kill -9
// included), so a stale lock never blocks a restart, and the file names the
// holder so the refusal can say who it is. CLI commands (seed, reindex,
// check-counters --repair…) do not take the lock: they are meant to run next
// to the server, whose response cache learns of their writes through SQLite's
// data_version (internal/cache).
package datadir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"
)

// LockName is the lock file's name inside the data dir.
const LockName = "lectern.lock"

// Lock is a held data-dir lock.
type Lock struct {
	f    *os.File
	path string
}

// ErrLocked is wrapped by the error of Acquire when another process holds
// the lock.
var ErrLocked = errors.New("data directory in use")

// Acquire takes the lock of dir without waiting. When another process holds
// it, the error wraps ErrLocked and names that process, as it wrote itself
// into the file.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockName)
	// O_CLOEXEC (Go's default): an exec'ing restart (PocketBase's restore)
	// drops the lock and the new image takes it again.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the lock file %s: %w (%s)", path, err, fixOwnership(dir))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := strings.TrimSpace(string(holder))
			if who == "" {
				who = "a process that has not written its name yet"
			}
			return nil, fmt.Errorf("%w: %s is already served by another lectern (%s); "+
				"stop that one first, or give this one its own --dir (one server per data directory: "+
				"PocketBase is single-writer and each server caches what it reads)", ErrLocked, dir, who)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid %d on %s, started %s: %s\n", os.Getpid(), host,
		time.Now().UTC().Format(time.RFC3339), strings.Join(os.Args, " "))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(info), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// Release empties and unlocks the lock file (the file stays: removing a
// flock'ed file races with a process about to lock it).
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}

// Register makes `serve` (and only serve) take the data dir's lock and check
// that both databases are writable before anything else runs (migrations
// included); the lock is released when the app terminates. A database that
// turns read-only later makes writes answer 503 and /api/health unhealthy.
func Register(app core.App, root *cobra.Command) {
	app.OnBootstrap().BindFunc(func(e *core.BootstrapEvent) error {
		err := e.Next()
		if err != nil && syscall.Access(e.App.DataDir(), 2 /* W_OK */) != nil {
			// SQLite's own words ("unable to open database file") name no path
			return fmt.Errorf("%w: the data directory %s is not writable; %s", err, e.App.DataDir(), fixOwnership(e.App.DataDir()))
		}
		return err
	})

	bindReadOnlyGuard(app)

	var held *Lock
	prev := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(cmd, args); err != nil {
				return err
			}
		}
		if cmd.Name() != "serve" {
			return nil
		}
		l, err := Acquire(app.DataDir())
		if err != nil {
			return err
		}
		held = l
		return CheckWritable(app)
	}
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		err := e.Next() // after the server and the databases closed
		if !e.IsRestart {
			held.Release()
		}
		return err
	})
}

// CheckWritable opens a write transaction on data.db and auxiliary.db and
// rolls it back. SQLite opens a file it may not write read-only without a
// word, and PocketBase then answers every write with a 400 that blames the
// client: better to refuse to start, naming the file and the fix.
func CheckWritable(app core.App) error {
	dbs := []struct {
		name string
		db   dbx.Builder
	}{{"data.db", app.NonconcurrentDB()}, {"auxiliary.db", app.AuxNonconcurrentDB()}}
	for _, d := range dbs {
		db, ok := d.db.(*dbx.DB)
		if !ok {
			continue
		}
		if err := probeWrite(db); err != nil {
			path := filepath.Join(app.DataDir(), d.name)
			return fmt.Errorf("%s is not writable by this process: %w; %s", path, err, fixOwnership(app.DataDir()))
		}
	}
	return nil
}

// probeWrite takes SQLite's write lock and writes the page the schema cookie
// lives on without changing anything: a read-only file fails with "attempt to
// write a readonly database".
func probeWrite(db *dbx.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := db.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	var v int64
	err = conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	if err == nil {
		_, err = conn.ExecContext(ctx, "PRAGMA user_version = "+strconv.FormatInt(v, 10))
	}
	if _, rbErr := conn.ExecContext(ctx, "ROLLBACK"); err == nil {
		err = rbErr
	}
	return err
}

// fixOwnership tells the operator how to hand the data dir to the user this
// process runs as.
func fixOwnership(dir string) string {
	who := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	return fmt.Sprintf("the data directory and every file in it must be writable by the user lectern runs as (%s, uid %d): "+
		"fix it with `chown -R %s %s` (a backup restored as root leaves root-owned files)", who, os.Getuid(), who, dir)
}
