// Package graceful is what `lectern serve` does on SIGTERM (and Ctrl-C):
// stop accepting, let in-flight requests finish for up to DrainTimeout, close
// the realtime (SSE) connections so their clients reconnect elsewhere, then
// let the rest of the app stop and exit 0.
//
// PocketBase's own shutdown (apis.Serve's OnTerminate handler) first cancels
// every request's base context, which ends the SSE streams but also cancels
// the in-flight requests, and gives the rest one second. Register runs before
// it: http.Server.Shutdown closes the listeners at once and waits for the
// active connections to go idle, while the realtime clients are unregistered
// from the broker (closing a client's channel ends its stream cleanly, so the
// SDK sees a closed connection and reconnects); by the time PocketBase's
// handler runs, nothing is left in flight.
//
// Background workers (webhook deliveries, mail) bind their own OnTerminate
// handlers at the default priority: they run after the HTTP server has
// drained, so no request enqueues work behind their back, and their rows stay
// in SQLite for the next start.
package graceful

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// DrainTimeout bounds how long in-flight requests may take to finish.
const DrainTimeout = 10 * time.Second

// priority runs the drain before PocketBase's "pbGracefulShutdown" (-9999).
const priority = -10000

// Register binds the graceful drain to app's serve and terminate.
func Register(app core.App) {
	var (
		mu     sync.Mutex
		server *http.Server
	)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		mu.Lock()
		server = se.Server
		mu.Unlock()
		return se.Next()
	})
	app.OnTerminate().Bind(&hook.Handler[*core.TerminateEvent]{
		Id: "lecternGracefulDrain",
		Func: func(te *core.TerminateEvent) error {
			// A restart (backup restore, PocketBase's Restart) must stay in
			// PocketBase's own handler: it registers on serve's WaitGroup
			// before shutting the server down, so the process waits for the
			// execve. Shutting it down here first let serve return and the
			// process exit 0 before the re-exec (TestS3FilesAndBackups: the
			// server gone after a restore, about 1 run in 5).
			if te.IsRestart {
				return te.Next()
			}
			mu.Lock()
			srv := server
			mu.Unlock()
			if srv != nil {
				began := time.Now()
				cut := Drain(te.App, srv, DrainTimeout)
				te.App.Logger().Info("HTTP server drained", "took", time.Since(began).Round(time.Millisecond).String(), "cutShort", cut)
			}
			return te.Next()
		},
		Priority: priority,
	})
}

// Drain shuts srv down: no new connections, idle ones closed, realtime
// clients disconnected, active requests given up to timeout. It returns
// false if some were still running at the timeout.
func Drain(app core.App, srv *http.Server, timeout time.Duration) (unfinished bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	// a realtime stream never goes idle by itself: end every client's,
	// again while draining (a connect already being read when the listener
	// closed still registers one)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		broker := app.SubscriptionsBroker()
		for id := range broker.Clients() {
			broker.Unregister(id)
		}
		select {
		case err := <-done:
			return err != nil
		case <-t.C:
		}
	}
}
