// Package cli holds what Lectern's own commands (seed, reindex, types) share.
package cli

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// QuietSQL turns off dev mode's SQL echo until the returned func runs. A
// binary started from a temp dir counts as `go run` and is in dev mode; a
// command that writes thousands of rows (or prints to stdout) must not echo
// every statement. Use it as `defer cli.QuietSQL(app)()`.
func QuietSQL(app core.App) func() {
	if !app.IsDev() {
		return func() {}
	}
	var restore []func()
	for _, b := range []dbx.Builder{app.ConcurrentDB(), app.NonconcurrentDB()} {
		db, ok := b.(*dbx.DB)
		if !ok {
			continue
		}
		q, x := db.QueryLogFunc, db.ExecLogFunc
		db.QueryLogFunc, db.ExecLogFunc = nil, nil
		restore = append(restore, func() { db.QueryLogFunc, db.ExecLogFunc = q, x })
	}
	return func() {
		for _, f := range restore {
			f()
		}
	}
}

// Prepare readies app for a command as `serve` would: bootstrapped, with
// dev mode's SQL echo off (see QuietSQL) and every migration applied. Use it
// as `restore, err := cli.Prepare(app); if err != nil {…}; defer restore()`.
func Prepare(app core.App) (restore func(), err error) {
	if !app.IsBootstrapped() {
		if err := app.Bootstrap(); err != nil {
			return func() {}, fmt.Errorf("bootstrap: %w", err)
		}
	}
	restore = QuietSQL(app)
	if err := app.RunAllMigrations(); err != nil {
		restore()
		return func() {}, fmt.Errorf("run migrations: %w", err)
	}
	return restore, nil
}
