package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The full-text index behind GET /api/search (internal/search).
//
//   - _search_fts is a contentless FTS5 table (an empty content option): it
//     keeps only the inverted index, never a second copy of the text, which
//     stays in posts, courses and lessons. contentless_delete=1 lets a row be
//     deleted or replaced by rowid alone, without handing back its old text.
//     Columns: title; summary (a post's excerpt, a course's summary); body
//     (the visible text of a post's body or a course's description).
//     Tokenizer: English Porter stemming over unicode61 without diacritics.
//   - _search_docs maps an index rowid to its record; its INTEGER PRIMARY KEY
//     is stable (a record table's implicit rowid may change on VACUUM).
//   - _search_vocab is an fts5vocab view of the terms, for typo correction.
//   - _search_meta holds a generation counter, bumped by triggers on every
//     write to _search_docs, so the cached vocabulary knows when it is stale.
//   - posts gets idx_posts_search_rule (id, status, author): the columns its
//     list rule reads, so a search applies the rule without reading rows.
//
// The index is filled for existing records at the next start (internal/search
// notices it is out of step) or with `lectern reindex`.
func init() {
	m.Register(func(app core.App) error {
		for _, stmt := range []string{
			`CREATE TABLE {{_search_docs}} (
				[[id]] INTEGER PRIMARY KEY,
				[[collection]] TEXT NOT NULL,
				[[record]] TEXT NOT NULL
			)`,
			`CREATE UNIQUE INDEX {{idx__search_docs_record}} ON {{_search_docs}} ([[collection]], [[record]])`,
			`CREATE VIRTUAL TABLE {{_search_fts}} USING fts5(
				title, summary, body,
				content='', contentless_delete=1,
				tokenize='porter unicode61 remove_diacritics 2'
			)`,
			// Merging: each write commits a small segment. automerge 8 (default 4)
			// halves the merge work a write pays for, at the price of a few more
			// segments to read, and crisismerge 32 (default 16) keeps the rare
			// blocking "crisis" merge off the write path; a reindex ends with a
			// full 'optimize'.
			`INSERT INTO {{_search_fts}} ([[_search_fts]], [[rank]]) VALUES ('automerge', 8)`,
			`INSERT INTO {{_search_fts}} ([[_search_fts]], [[rank]]) VALUES ('crisismerge', 32)`,
			`CREATE VIRTUAL TABLE {{_search_vocab}} USING fts5vocab(_search_fts, row)`,
			`CREATE TABLE {{_search_meta}} ([[key]] TEXT PRIMARY KEY NOT NULL, [[value]] INTEGER NOT NULL) WITHOUT ROWID`,
			`INSERT INTO {{_search_meta}} ([[key]], [[value]]) VALUES ('generation', 0)`,
			// Every index write goes through _search_docs (insert, upsert,
			// delete): its triggers keep the generation without a statement of
			// their own.
			`CREATE TRIGGER {{_search_docs_ai}} AFTER INSERT ON {{_search_docs}} BEGIN
				UPDATE {{_search_meta}} SET [[value]] = [[value]] + 1 WHERE [[key]] = 'generation'; END`,
			`CREATE TRIGGER {{_search_docs_au}} AFTER UPDATE ON {{_search_docs}} BEGIN
				UPDATE {{_search_meta}} SET [[value]] = [[value]] + 1 WHERE [[key]] = 'generation'; END`,
			`CREATE TRIGGER {{_search_docs_ad}} AFTER DELETE ON {{_search_docs}} BEGIN
				UPDATE {{_search_meta}} SET [[value]] = [[value]] + 1 WHERE [[key]] = 'generation'; END`,
		} {
			if _, err := app.DB().NewQuery(stmt).Execute(); err != nil {
				return err
			}
		}
		// A search joins every matching post to its row to apply the list
		// rule (status, author): this index answers that from the index alone,
		// which halves the cost of counting a frequent word's matches.
		posts, err := app.FindCollectionByNameOrId("posts")
		if err != nil {
			return err
		}
		posts.AddIndex("idx_posts_search_rule", false, "id, status, author", "")
		return app.Save(posts)
	}, func(app core.App) error {
		posts, err := app.FindCollectionByNameOrId("posts")
		if err != nil {
			return err
		}
		posts.RemoveIndex("idx_posts_search_rule")
		if err := app.Save(posts); err != nil {
			return err
		}
		for _, table := range []string{"_search_vocab", "_search_fts", "_search_docs", "_search_meta"} {
			if _, err := app.DB().NewQuery("DROP TABLE IF EXISTS {{" + table + "}}").Execute(); err != nil {
				return err
			}
		}
		return nil
	})
}
