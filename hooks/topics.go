package hooks

import (
	"github.com/pocketbase/pocketbase/core"
)

func registerTopics(app core.App) {
	prepare := func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := assignSlug(tx, e.Record, "name", "topic"); err != nil {
				return err
			}
			return e.Next()
		})
	}
	app.OnRecordCreate("topics").BindFunc(prepare)
	app.OnRecordUpdate("topics").BindFunc(prepare)
}
