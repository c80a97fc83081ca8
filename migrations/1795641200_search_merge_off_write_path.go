package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Search index merges move off the write path (internal/search/merge.go).
// automerge 0: a write no longer merges segments itself (at 100,000 posts
// that merge made about one create in 30 take ~10 ms); the app's merger runs
// bounded 'merge' steps in their own transactions a while after writes.
// crisismerge stays 32: the cap on small segments piling up on one level if
// writes outpace the merger. FTS5 keeps both in _search_fts_config, so they
// survive restarts and `lectern reindex` (which deletes rows, not settings).
func init() {
	m.Register(func(app core.App) error {
		_, err := app.DB().NewQuery(`INSERT INTO {{_search_fts}} ([[_search_fts]], [[rank]]) VALUES ('automerge', 0)`).Execute()
		return err
	}, func(app core.App) error {
		// Back to 1795641000_search_index.go's setting.
		_, err := app.DB().NewQuery(`INSERT INTO {{_search_fts}} ([[_search_fts]], [[rank]]) VALUES ('automerge', 8)`).Execute()
		return err
	})
}
