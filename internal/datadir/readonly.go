package datadir

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
)

// A database that turns read-only while the server runs (a disk remounted
// read-only, a file swapped under it by a restore as root) gets past the
// start-up check. PocketBase then answers every write with a 400 ("Failed to
// create record."), which blames the client. bindReadOnlyGuard turns those
// answers into a 503 that says the server is at fault, and makes
// /api/health answer 503 until a write probe succeeds again, so a load
// balancer or an orchestrator sees it.

// ReadOnlyMessage is the 503's message.
const ReadOnlyMessage = "The server cannot write its database right now; this is not a problem with your request."

func bindReadOnlyGuard(app core.App) {
	var readOnly atomic.Bool
	guard := func(e *core.RecordRequestEvent) error {
		err := e.Next()
		if err != nil && isReadOnly(err) {
			if !readOnly.Swap(true) {
				e.App.Logger().Error("data.db is read-only: writes answer 503 and /api/health is unhealthy until it is writable",
					"error", err.Error(), "fix", fixOwnership(e.App.DataDir()))
			}
			return router.NewApiError(http.StatusServiceUnavailable, ReadOnlyMessage, nil)
		}
		return err
	}
	app.OnRecordCreateRequest().BindFunc(guard)
	app.OnRecordUpdateRequest().BindFunc(guard)
	app.OnRecordDeleteRequest().BindFunc(guard)

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id: "lecternReadOnlyHealth",
			Func: func(e *core.RequestEvent) error {
				if !readOnly.Load() || e.Request.URL.Path != "/api/health" {
					return e.Next()
				}
				if err := CheckWritable(e.App); err != nil {
					return router.NewApiError(http.StatusServiceUnavailable, "The database is not writable.", nil)
				}
				readOnly.Store(false)
				e.App.Logger().Info("data.db is writable again")
				return e.Next()
			},
		})
		return se.Next()
	})
}

// isReadOnly reports whether err (or the error a PocketBase API error wraps)
// is SQLite's SQLITE_READONLY ("attempt to write a readonly database").
func isReadOnly(err error) bool {
	msgs := []string{err.Error()}
	var ae *router.ApiError
	if errors.As(err, &ae) {
		if raw, ok := ae.RawData().(error); ok {
			msgs = append(msgs, raw.Error())
		}
	}
	for _, m := range msgs {
		if strings.Contains(m, "readonly database") {
			return true
		}
	}
	return false
}
