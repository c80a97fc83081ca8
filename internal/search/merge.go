package search

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Merging the index off the request path.
//
// Every indexed write commits a small FTS5 segment, and segments have to be
// merged or searches read ever more of them. FTS5's automerge does that work
// inside the writes: whenever 64 more leaf pages have been written, the write
// that crosses the line merges 64 pages per level of the index, so now and
// then one create pays for many. Migration 1795641200 turns automerge off and
// this merger does the same work from a goroutine: a while after writes it
// runs bounded 'merge' steps, each in its own short transaction, until FTS5
// has nothing left to merge (fewer than usermerge, 4, segments on every
// level). A create that arrives during a step waits for that step only. On
// 100,000 posts (bench/search, synchronous=FULL) the with-index create p99
// went from 7.7-8.9 ms to 6.3-6.9 ms; the rest of it is mostly WAL
// checkpoints. crisismerge (32) still bounds the small segments piling up
// between runs, should writes outpace the merger.

const (
	// mergeInterval is how often the merger looks for writes to merge.
	mergeInterval = 2 * time.Second
	// mergeStepPages bounds one step's work in index pages (~4 KB each):
	// ~4-5 ms a step on the bench machine, the longest a create waits on it.
	mergeStepPages = 64
	// mergeMaxSteps bounds one run; what is left waits for the next tick.
	mergeMaxSteps = 200
)

// merger runs the index merges of one app.
type merger struct {
	// pending is set by every index write (before its commit: a rolled back
	// write only costs a merge run that finds nothing to do).
	pending  atomic.Bool
	interval time.Duration

	mu   sync.Mutex // guards stop, done
	stop chan struct{}
	done chan struct{}

	// running serializes merge runs (the ticker's and Merge's).
	running sync.Mutex
}

// mergeSteps counts the merge steps that did work, for the metrics.
var mergeSteps atomic.Int64

// MergeSteps is the number of index merge steps that did work since start
// (the background merger's and Merge's).
func MergeSteps() int64 { return mergeSteps.Load() }

// mergerKey holds an app's merger in its Store, for Merge.
const mergerKey = "lectern.search.merger"

func newMerger() *merger {
	m := &merger{interval: mergeInterval}
	// A restart may leave segments of the last writes unmerged.
	m.pending.Store(true)
	return m
}

// bind starts the merger with the app's serve and stops it, waiting for a
// running step, at terminate. It runs without an HTTP server too (API tests,
// bench/search): production's write path is then what gets measured.
func (m *merger) bind(app core.App) {
	app.Store().Set(mergerKey, m)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		m.start(se.App)
		return se.Next()
	})
	app.OnTerminate().BindFunc(func(te *core.TerminateEvent) error {
		m.halt()
		return te.Next()
	})
}

func (m *merger) start(app core.App) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop != nil {
		return // already running
	}
	stop, done := make(chan struct{}), make(chan struct{})
	m.stop, m.done = stop, done
	go func() {
		defer close(done)
		t := time.NewTicker(m.interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if _, err := m.run(app, mergeMaxSteps, stop); err != nil {
				app.Logger().Warn("search: merge index", "error", err)
			}
		}
	}()
}

// run merges what the writes since the last run left, if any.
func (m *merger) run(app core.App, maxSteps int, stop <-chan struct{}) (int, error) {
	m.running.Lock()
	defer m.running.Unlock()
	if !m.pending.Swap(false) {
		return 0, nil
	}
	n, err := mergeIndex(app, mergeStepPages, maxSteps, stop)
	mergeSteps.Add(int64(n))
	if err != nil || n == maxSteps {
		m.pending.Store(true) // go on next time
	}
	return n, err
}

// Merge runs the merges the app's background merger would, now and to the
// end, and returns the number of merge steps that did work. bench/search
// calls it after each round of creates, so that the merges of the app with
// the index never run during the other app's round on the same database.
func Merge(app core.App) (int, error) {
	m, ok := app.Store().Get(mergerKey).(*merger)
	if !ok {
		return mergeIndex(app, mergeStepPages, math.MaxInt, nil)
	}
	return m.run(app, math.MaxInt, nil)
}

func (m *merger) halt() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop == nil {
		return
	}
	close(m.stop)
	<-m.done
	m.stop, m.done = nil, nil
}

// mergeIndex runs up to maxSteps merge steps of about pages index pages each,
// each in its own transaction, until one does no work or stop is closed. It
// returns the number of steps that did work.
func mergeIndex(app core.App, pages, maxSteps int, stop <-chan struct{}) (int, error) {
	worked := 0
	for range maxSteps {
		select {
		case <-stop:
			return worked, nil
		default:
		}
		did, err := mergeStep(app, pages)
		if err != nil || !did {
			return worked, err
		}
		worked++
	}
	return worked, nil
}

// mergeStep asks FTS5 to merge, in each of the two indexes, about pages
// pages of segments on levels that hold usermerge or more of them (or to
// continue a merge in progress). FTS5 reports work done only through the
// connection's change count: a difference of 2 or more.
func mergeStep(app core.App, pages int) (bool, error) {
	var did bool
	err := app.RunInTransaction(func(tx core.App) error {
		for _, t := range []string{ftsTable, hiddenTable} {
			var before, after int64
			if err := tx.DB().NewQuery(`SELECT total_changes()`).Row(&before); err != nil {
				return err
			}
			if _, err := tx.DB().NewQuery(`INSERT INTO {{` + t + `}} ([[` + t + `]], [[rank]]) VALUES ('merge', {:n})`).
				Bind(dbx.Params{"n": pages}).Execute(); err != nil {
				return err
			}
			if err := tx.DB().NewQuery(`SELECT total_changes()`).Row(&after); err != nil {
				return err
			}
			did = did || after-before >= 2
		}
		return nil
	})
	return did, err
}
