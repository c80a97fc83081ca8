package search

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"lectern/hooks"
	"lectern/internal/text"
)

// Tables created by migrations/1795641000_search_index.go.
const (
	ftsTable   = "_search_fts"
	docsTable  = "_search_docs"
	vocabTable = "_search_vocab"
	metaTable  = "_search_meta"
)

// Column weights for bm25: a word in the title counts ten times a word in the
// body, a word in the excerpt or summary four times.
const (
	weightTitle   = 10.0
	weightSummary = 4.0
	weightBody    = 1.0
)

// source says which fields of a collection feed the index columns.
type source struct {
	collection string
	title      string
	summary    string // plain text field, "" for none
	body       string // HTML editor field, "" for none
}

// Sources are the indexed collections, in the order results of equal score
// are listed.
var sources = []source{
	{collection: "posts", title: "title", summary: "excerpt", body: "body"},
	{collection: "courses", title: "title", summary: "summary", body: "description"},
	{collection: "lessons", title: "title"},
}

func sourceOf(collection string) (source, bool) {
	for _, s := range sources {
		if s.collection == collection {
			return s, true
		}
	}
	return source{}, false
}

// rowidSpan is the width of each collection's range of index rowids: posts
// are numbered from 1<<40, courses from 2<<40, lessons from 3<<40. A search
// of one collection then hands FTS5 a rowid range, and FTS5 skips the other
// collections' entries of every term without reading them.
const rowidSpan = int64(1) << 40

// rowids returns the half-open rowid range [lo, hi) of a collection's entries.
func (s source) rowids() (lo, hi int64) {
	for i, src := range sources {
		if src.collection == s.collection {
			return int64(i+1) * rowidSpan, int64(i+2) * rowidSpan
		}
	}
	panic("search: unknown source " + s.collection)
}

// fields lists the record fields the index reads.
func (s source) fields() []string {
	f := []string{s.title}
	if s.summary != "" {
		f = append(f, s.summary)
	}
	if s.body != "" {
		f = append(f, s.body)
	}
	return f
}

// doc is one row of the index: the text of its three columns.
type doc struct {
	title, summary, body string
}

func (s source) docOf(get func(field string) string) doc {
	d := doc{title: get(s.title)}
	if s.summary != "" {
		d.summary = get(s.summary)
	}
	if s.body != "" {
		d.body = text.HTMLText(get(s.body))
	}
	return d
}

// indexedChanged reports whether a save changes any field the index reads.
func (s source) indexedChanged(r *core.Record) bool {
	if r.IsNew() {
		return true
	}
	orig := r.Original()
	for _, f := range s.fields() {
		if r.GetString(f) != orig.GetString(f) {
			return true
		}
	}
	return false
}

// ---

// registerIndexHooks keeps the index in the same transaction as every write
// of an indexed collection, however it is made (API, dashboard, seed,
// cascades): model hooks, with the index write after e.Next() inside one
// transaction, so a failing save leaves the index untouched and a failing
// index write fails the save. Segment merges are left to a merger that runs
// them off the request path (merge.go).
func registerIndexHooks(app core.App) {
	m := newMerger()
	m.bind(app)
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.collection
	}
	// withIndex runs the record write and then its index write in one
	// transaction, and tells the merger there is something to merge.
	withIndex := func(e *core.RecordEvent, write func(tx core.App) error) error {
		return hooks.InTx(e, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			if err := write(tx); err != nil {
				return err
			}
			m.pending.Store(true)
			return nil
		})
	}
	app.OnRecordCreate(names...).BindFunc(func(e *core.RecordEvent) error {
		return withIndex(e, func(tx core.App) error { return upsertDoc(tx, e.Record) })
	})
	app.OnRecordUpdate(names...).BindFunc(func(e *core.RecordEvent) error {
		s, _ := sourceOf(e.Record.Collection().Name)
		if !s.indexedChanged(e.Record) {
			return e.Next() // a counter or status change: nothing to reindex
		}
		return withIndex(e, func(tx core.App) error { return upsertDoc(tx, e.Record) })
	})
	app.OnRecordDelete(names...).BindFunc(func(e *core.RecordEvent) error {
		return withIndex(e, func(tx core.App) error { return deleteDoc(tx, e.Record.Collection().Name, e.Record.Id) })
	})
}

// upsertDoc writes the record's index row, replacing any previous one: the
// docs upsert returns the record's rowid, new or existing, and FTS5 replaces
// a contentless_delete row by rowid. Two statements whatever happened before
// (a record re-created under an id whose entry survived a raw SQL delete is
// simply overwritten). A trigger on _search_docs bumps the generation.
func upsertDoc(app core.App, r *core.Record) error {
	s, ok := sourceOf(r.Collection().Name)
	if !ok {
		return nil
	}
	lo, hi := s.rowids()
	d := s.docOf(r.GetString)
	var rowid int64
	err := app.DB().NewQuery(upsertDocSQL).Bind(dbx.Params{"lo": lo, "hi": hi, "c": s.collection, "r": r.Id}).Row(&rowid)
	if err == nil {
		_, err = app.DB().NewQuery(replaceFTSSQL).Bind(dbx.Params{"id": rowid, "t": d.title, "s": d.summary, "b": d.body}).Execute()
	}
	if err != nil {
		return fmt.Errorf("index %s %q: %w", s.collection, r.Id, err)
	}
	return nil
}

// upsertDocSQL allocates the next rowid of the collection's range (MAX over
// the primary key is one seek) for a record not indexed yet, and returns the
// record's rowid either way.
const upsertDocSQL = `INSERT INTO {{` + docsTable + `}} ([[id]], [[collection]], [[record]])
	SELECT COALESCE(MAX([[id]]), {:lo}) + 1, {:c}, {:r} FROM {{` + docsTable + `}} WHERE [[id]] >= {:lo} AND [[id]] < {:hi}
	ON CONFLICT ([[collection]], [[record]]) DO UPDATE SET [[record]] = excluded.[[record]]
	RETURNING [[id]]`

const replaceFTSSQL = `INSERT OR REPLACE INTO {{` + ftsTable + `}} ([[rowid]], [[title]], [[summary]], [[body]]) VALUES ({:id}, {:t}, {:s}, {:b})`

func deleteDoc(app core.App, collection, id string) error {
	var rowid int64
	err := app.DB().NewQuery(`DELETE FROM {{` + docsTable + `}} WHERE [[collection]] = {:c} AND [[record]] = {:r} RETURNING [[id]]`).
		Bind(dbx.Params{"c": collection, "r": id}).Row(&rowid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // never indexed
	}
	if err == nil {
		_, err = app.DB().NewQuery(`DELETE FROM {{` + ftsTable + `}} WHERE [[rowid]] = {:id}`).Bind(dbx.Params{"id": rowid}).Execute()
	}
	if err != nil {
		return fmt.Errorf("unindex %s %q: %w", collection, id, err)
	}
	return nil
}

func readGeneration(app core.App) (int64, error) {
	var g int64
	err := app.DB().NewQuery(`SELECT [[value]] FROM {{` + metaTable + `}} WHERE [[key]] = 'generation'`).Row(&g)
	return g, err
}
