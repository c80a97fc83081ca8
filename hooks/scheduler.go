package hooks

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// SchedulerInterval is how often due scheduled posts and courses are published.
// PocketBase's cron is minute-granular; a ticker keeps the promised delay to
// seconds (README: "published within 5 seconds of publishedAt").
var SchedulerInterval = 5 * time.Second

func registerScheduler(app core.App) {
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		// API tests trigger OnServe without a server; they call PublishDue directly.
		if e.Server == nil {
			return e.Next()
		}
		stop, done := make(chan struct{}), make(chan struct{})
		var once sync.Once
		go func() {
			defer close(done)
			t := time.NewTicker(SchedulerInterval)
			defer t.Stop()
			for {
				if _, err := PublishDue(e.App, time.Now()); err != nil {
					e.App.Logger().Error("publish scheduled", "error", err)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		e.App.OnTerminate().BindFunc(func(te *core.TerminateEvent) error {
			// wait for a run in progress: the database closes after this hook
			once.Do(func() { close(stop) })
			<-done
			return te.Next()
		})
		return e.Next()
	})
}

// PublishDue flips every scheduled post and course whose publishedAt is not
// after now to published, keeping publishedAt. Each flip is a normal save, so
// realtime subscribers receive the update. It returns how many it published.
// A record that fails to save is reported in the error and skipped: one bad
// row must not hold back everything scheduled after it.
func PublishDue(app core.App, now time.Time) (int, error) {
	at, err := types.ParseDateTime(now)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, name := range publishable {
		// Published rows leave the filter; failed ones stay and sort first, so
		// the next page starts after them.
		failed := 0
		for {
			due, err := app.FindRecordsByFilter(name,
				`status = "scheduled" && publishedAt != "" && publishedAt <= {:now}`,
				"publishedAt,id", 100, failed, dbx.Params{"now": at.String()})
			if err != nil {
				return total, errors.Join(append(errs, err)...)
			}
			for _, r := range due {
				r.Set("status", "published")
				if err := app.Save(r); err != nil {
					errs = append(errs, fmt.Errorf("publish %s %q: %w", name, r.Id, err))
					failed++
					continue
				}
				total++
			}
			if len(due) < 100 {
				break
			}
		}
	}
	return total, errors.Join(errs...)
}
