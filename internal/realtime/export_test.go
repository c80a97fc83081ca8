package realtime

import "github.com/pocketbase/pocketbase/core"

// MemoQueries reports whether app is the memoizing app of a broadcast and how
// many of its access checks reached the database.
func MemoQueries(app core.App) (int64, bool) {
	m, ok := app.(*eventApp)
	if !ok {
		return 0, false
	}
	return m.memo.queries.Load(), true
}

// FilterQueries reports whether app is the memoizing app of a broadcast and
// how many of the single-row queries run on its ConcurrentDB (the
// subscriptions' filters) reached the database.
func FilterQueries(app core.App) (int64, bool) {
	m, ok := app.(*eventApp)
	if !ok {
		return 0, false
	}
	return m.dbMemo.queries.Load(), true
}

// WithoutShortcut turns the public-disjunct shortcut (disjunct.go) off until
// the returned func is called.
func WithoutShortcut() (restore func()) {
	noShortcut.Store(true)
	return func() { noShortcut.Store(false) }
}
