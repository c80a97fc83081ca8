// Package cli holds what Lectern's own commands (seed, reindex, types) share.
package cli

import (
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
