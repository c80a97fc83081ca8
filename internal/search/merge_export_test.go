package search

import (
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// RestartMerger restarts app's background merger with a shorter interval, so
// a test sees it run.
func RestartMerger(app core.App, interval time.Duration) {
	m := app.Store().Get(mergerKey).(*merger)
	m.halt()
	m.interval = interval
	m.start(app)
}
