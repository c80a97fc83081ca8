// Command lectern is the whole backend of a tech-learning site: a blog and a
// course catalogue on PocketBase used as a Go framework.
package main

import (
	"embed"
	"io/fs"
	"log"
	"net/http"
	"os"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/plugins/migratecmd"
	"github.com/pocketbase/pocketbase/tools/hook"

	"lectern/hooks"
	"lectern/internal/apidocs"
	"lectern/internal/authrules"
	"lectern/internal/cache"
	"lectern/internal/checkout"
	"lectern/internal/datadir"
	"lectern/internal/dbconn"
	"lectern/internal/envflags"
	"lectern/internal/feeds"
	"lectern/internal/graceful"
	"lectern/internal/graphql"
	"lectern/internal/healthcheck"
	"lectern/internal/mail"
	"lectern/internal/ops"
	"lectern/internal/realtime"
	"lectern/internal/search"
	"lectern/internal/seed"
	"lectern/internal/site"
	"lectern/internal/startup"
	"lectern/internal/storage"
	"lectern/internal/webhooks"
	_ "lectern/migrations"
)

//go:embed all:pb_public
var publicFiles embed.FS

func main() {
	// before PocketBase opens the data dir: see internal/healthcheck
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck.Run(os.Args[2:], os.Stderr))
	}

	app := pocketbase.NewWithConfig(pocketbase.Config{DBConnect: dbconn.Connect})

	// Go migrations are compiled in; "migrate create" writes new Go files and
	// the dashboard never writes migrations behind the operator's back.
	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{
		TemplateLang: migratecmd.TemplateLangGo,
		Automigrate:  false,
		Dir:          "migrations",
	})

	datadir.Register(app, app.RootCmd)
	envflags.Register(app.RootCmd, os.Getenv)
	startup.Register(app, app.RootCmd)
	hooks.Register(app)
	search.Register(app)
	feeds.Register(app)
	apidocs.Register(app)
	responseCache := cache.Register(app)
	if responseCache != nil {
		// the check answers of signed-in pages are kept until the next write,
		// this process's or another's (README "Pages pinned to one record")
		authrules.UseExternalGeneration(app, responseCache.Generation)
	}
	realtime.Register(app)
	registerMetrics(app, responseCache)
	graceful.Register(app)
	graphql.Register(app)
	mail.Register(app)
	ops.Register(app, app.RootCmd)
	webhooks.Register(app)
	storage.Register(app)
	checkout.Register(app)

	app.RootCmd.AddCommand(
		seed.NewCommand(app),
		search.NewReindexCommand(app),
		apidocs.NewTypesCommand(app),
		hooks.NewCheckCountersCommand(app),
		healthcheck.NewCommand(),
		mail.NewCommand(app),
	)

	public, err := fs.Sub(publicFiles, "pb_public")
	if err != nil {
		log.Fatal(err)
	}
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(e *core.ServeEvent) error {
			if !e.Router.HasRoute(http.MethodGet, "/{path...}") {
				e.Router.GET("/{path...}", site.Handler(public, siteCSP))
			}
			return e.Next()
		},
		Priority: 999, // after every other route so the site never shadows the API
	})

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}

// siteCSP is the Content-Security-Policy of the demo site: its own scripts,
// styles and API only, so even if sanitized post HTML ever let markup through,
// no injected or third-party script could run. Images may come from anywhere
// (posts embed them by URL, and pasted ones as data: URLs).
const siteCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
