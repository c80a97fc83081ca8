// Command lectern is the whole backend of a tech-learning site: a blog and a
// course catalogue on PocketBase used as a Go framework.
package main

import (
	"embed"
	"io/fs"
	"log"
	"net/http"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/plugins/migratecmd"
	"github.com/pocketbase/pocketbase/tools/hook"

	"lectern/hooks"
	"lectern/internal/apidocs"
	"lectern/internal/cache"
	"lectern/internal/feeds"
	"lectern/internal/search"
	"lectern/internal/seed"
	_ "lectern/migrations"
)

//go:embed all:pb_public
var publicFiles embed.FS

func main() {
	app := pocketbase.New()

	// Go migrations are compiled in; "migrate create" writes new Go files and
	// the dashboard never writes migrations behind the operator's back.
	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{
		TemplateLang: migratecmd.TemplateLangGo,
		Automigrate:  false,
		Dir:          "migrations",
	})

	hooks.Register(app)
	apidocs.Register(app)
	app.RootCmd.AddCommand(apidocs.NewTypesCommand(app))
	search.Register(app)
	app.RootCmd.AddCommand(search.NewReindexCommand(app))
	feeds.Register(app)
	cache.Register(app)
	app.RootCmd.AddCommand(seed.NewCommand(app))
	app.RootCmd.AddCommand(hooks.NewCheckCountersCommand(app))

	public, err := fs.Sub(publicFiles, "pb_public")
	if err != nil {
		log.Fatal(err)
	}
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(e *core.ServeEvent) error {
			if !e.Router.HasRoute(http.MethodGet, "/{path...}") {
				e.Router.GET("/{path...}", apis.Static(public, true))
			}
			return e.Next()
		},
		Priority: 999, // after every other route so the site never shadows the API
	})

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}
