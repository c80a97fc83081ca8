// Command bare is the "bare PocketBase" contender of the benchmark: PocketBase
// with Lectern's schema, rules and settings (lectern/migrations) and nothing
// else — none of Lectern's hooks, so no derived fields, sanitizing, guards or
// response cache.
package main

import (
	"log"

	"github.com/pocketbase/pocketbase"

	_ "lectern/migrations"
)

func main() {
	app := pocketbase.New()
	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}
