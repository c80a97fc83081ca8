// Command jshooks is the "PocketBase + JS hooks" contender of the benchmark:
// a stock PocketBase binary (as examples/base builds it: the jsvm plugin with a
// pool of 15 prewarmed goja runtimes) with Lectern's schema and rules from
// lectern/migrations, and the write-path logic a PocketBase user would write in
// pb_hooks/*.pb.js instead of Lectern's Go hooks: the comment counter, the
// rating aggregate and slugs.
//
// It is its own Go module so that the goja dependencies stay out of Lectern's
// go.mod.
package main

import (
	"log"
	"os"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/plugins/jsvm"

	_ "lectern/migrations"
)

func main() {
	app := pocketbase.New()

	var hooksDir string
	var hooksPool int
	app.RootCmd.PersistentFlags().StringVar(&hooksDir, "hooksDir", "", "the directory with the JS app hooks")
	app.RootCmd.PersistentFlags().IntVar(&hooksPool, "hooksPool", 15, "the total prewarm goja.Runtime instances for the JS app hooks execution")
	_ = app.RootCmd.ParseFlags(os.Args[1:])

	jsvm.MustRegister(app, jsvm.Config{
		HooksDir:      hooksDir,
		HooksPoolSize: hooksPool,
		// the JS migrations dir stays empty: the schema is Lectern's Go migrations
		MigrationsDir: hooksDir + "/../pb_migrations_none",
	})

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}
