// Command lectern is the whole backend of a tech-learning site: a blog and a
// course catalogue on PocketBase used as a Go framework.
package main

import (
	"embed"
	"io/fs"
	"log"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/plugins/migratecmd"
	"github.com/pocketbase/pocketbase/tools/hook"

	"lectern/hooks"
	"lectern/internal/apidocs"
	"lectern/internal/cache"
	"lectern/internal/feeds"
	"lectern/internal/realtime"
	"lectern/internal/search"
	"lectern/internal/seed"
	_ "lectern/migrations"
)

//go:embed all:pb_public
var publicFiles embed.FS

func main() {
	app := pocketbase.NewWithConfig(pocketbase.Config{DBConnect: dbConnect})

	// Go migrations are compiled in; "migrate create" writes new Go files and
	// the dashboard never writes migrations behind the operator's back.
	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{
		TemplateLang: migratecmd.TemplateLangGo,
		Automigrate:  false,
		Dir:          "migrations",
	})

	hooks.Register(app)
	search.Register(app)
	feeds.Register(app)
	apidocs.Register(app)
	cache.Register(app)
	realtime.Register(app)

	app.RootCmd.AddCommand(
		seed.NewCommand(app),
		search.NewReindexCommand(app),
		apidocs.NewTypesCommand(app),
		hooks.NewCheckCountersCommand(app),
	)

	public, err := fs.Sub(publicFiles, "pb_public")
	if err != nil {
		log.Fatal(err)
	}
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(e *core.ServeEvent) error {
			if !e.Router.HasRoute(http.MethodGet, "/{path...}") {
				site := apis.Static(public, true)
				e.Router.GET("/{path...}", func(re *core.RequestEvent) error {
					// an unknown API path is a JSON 404, never the site's index.html
					if strings.HasPrefix(re.Request.URL.Path, "/api/") {
						return re.NotFoundError("", nil)
					}
					re.Response.Header().Set("Content-Security-Policy", siteCSP)
					return site(re)
				})
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

// dbConnect is PocketBase's default SQLite connection with synchronous=FULL for
// data.db: in WAL mode PocketBase's NORMAL survives a process crash but may
// lose the last commits on power loss; FULL syncs the WAL on every commit, at
// 1.3–2.2× the write time (RELIABILITY.md). The request-log database
// (auxiliary.db) keeps PocketBase's default.
func dbConnect(dbPath string) (*dbx.DB, error) {
	if filepath.Base(dbPath) != "data.db" {
		return core.DefaultDBConnect(dbPath)
	}
	// PocketBase's pragmas (core.DefaultDBConnect) but synchronous(FULL);
	// busy_timeout stays first so the connection blocks before WAL is set.
	const pragmas = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(200000000)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32000)&_defensive=1"
	return dbx.Open("sqlite", dbPath+pragmas)
}
