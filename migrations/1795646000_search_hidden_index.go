package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The search index splits in two, so that what a guest may not list can
// never move what anyone else sees (internal/search, README "Search"):
//
//   - _search_fts keeps only the records a guest may list (published posts
//     and courses, free previews of published courses: whatever the list
//     rules let a guest see). Its bm25 statistics and its vocabulary
//     (_search_vocab) are the only ones searches rank and correct typos with.
//   - _search_hidden_fts, the same kind of table, holds every other record
//     (drafts, scheduled and archived items, paid lessons), searched only
//     for signed-in callers and scored with _search_fts's statistics.
//   - _search_docs.public says which of the two holds a record's entry.
//
// Both keep the merge settings of 1795641200 (merges off the write path).
// The existing index is emptied: the next start (or `lectern reindex`)
// rebuilds both tables from the records.
func init() {
	m.Register(func(app core.App) error {
		return execSearchHidden(app,
			`CREATE VIRTUAL TABLE {{_search_hidden_fts}} USING fts5(
				title, summary, body,
				content='', contentless_delete=1,
				tokenize='porter unicode61 remove_diacritics 2'
			)`,
			`INSERT INTO {{_search_hidden_fts}} ([[_search_hidden_fts]], [[rank]]) VALUES ('automerge', 0)`,
			`INSERT INTO {{_search_hidden_fts}} ([[_search_hidden_fts]], [[rank]]) VALUES ('crisismerge', 32)`,
			`ALTER TABLE {{_search_docs}} ADD COLUMN [[public]] INTEGER NOT NULL DEFAULT 1`,
			`DELETE FROM {{_search_docs}}`,
			`INSERT INTO {{_search_fts}} ([[_search_fts]]) VALUES ('delete-all')`,
		)
	}, func(app core.App) error {
		// Back to one index of everything, rebuilt at the next start.
		return execSearchHidden(app,
			`DROP TABLE IF EXISTS {{_search_hidden_fts}}`,
			`DELETE FROM {{_search_docs}}`,
			`INSERT INTO {{_search_fts}} ([[_search_fts]]) VALUES ('delete-all')`,
			`ALTER TABLE {{_search_docs}} DROP COLUMN [[public]]`,
		)
	})
}

// execSearchHidden runs the statements in order.
func execSearchHidden(app core.App, stmts ...string) error {
	for _, s := range stmts {
		if _, err := app.DB().NewQuery(s).Execute(); err != nil {
			return err
		}
	}
	return nil
}
