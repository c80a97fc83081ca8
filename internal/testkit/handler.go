package testkit

import (
	"net/http"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Handler builds app's HTTP handler as `serve` does — PocketBase's router,
// then every OnServe hook (Lectern's routes and middlewares) — without
// listening, for in-process requests.
func Handler(app core.App) (http.Handler, error) {
	r, err := apis.NewRouter(app)
	if err != nil {
		return nil, err
	}
	var mux http.Handler
	err = app.OnServe().Trigger(&core.ServeEvent{App: app, Router: r}, func(e *core.ServeEvent) error {
		mux, err = e.Router.BuildMux()
		return err
	})
	return mux, err
}
