package search

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"lectern/hooks"
	"lectern/internal/text"
)

// Tables created by migrations/1795641000_search_index.go and
// 1795646000_search_hidden_index.go (see visibility.go for the two indexes).
const (
	ftsTable    = "_search_fts"        // what a guest may list
	hiddenTable = "_search_hidden_fts" // everything else
	docsTable   = "_search_docs"
	vocabTable  = "_search_vocab" // of ftsTable only
	metaTable   = "_search_meta"
)

// ftsOf names the index table of public or hidden entries.
func ftsOf(public bool) string {
	if public {
		return ftsTable
	}
	return hiddenTable
}

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
		return withIndex(e, func(tx core.App) error { return insertDoc(tx, e.Record) })
	})
	app.OnRecordUpdate(names...).BindFunc(func(e *core.RecordEvent) error {
		s, _ := sourceOf(e.Record.Collection().Name)
		if !s.indexedChanged(e.Record) {
			// A status change may move the entry between the indexes; a
			// counter change leaves it where it is.
			return withIndex(e, func(tx core.App) error { return refreshVisibility(tx, s, []*core.Record{e.Record}) })
		}
		return withIndex(e, func(tx core.App) error { return upsertDoc(tx, e.Record) })
	})
	app.OnRecordDelete(names...).BindFunc(func(e *core.RecordEvent) error {
		return withIndex(e, func(tx core.App) error { return deleteDoc(tx, e.Record.Collection().Name, e.Record.Id) })
	})
	// A record whose guest visibility follows another's (a lesson, its
	// course's status) is re-decided when that other record changes.
	app.OnRecordUpdate().BindFunc(func(e *core.RecordEvent) error {
		deps := dependentsOf(e.App, e.Record.Collection())
		if len(deps) == 0 {
			return e.Next()
		}
		return withIndex(e, func(tx core.App) error { return refreshDependents(tx, deps, e.Record) })
	})
}

// insertDoc indexes a new record: one statement decides its index (the
// guest list rule, as a subquery) and allocates its rowid, a second writes
// the entry — as many as before the index was split, on the path every
// create takes. An id that is indexed already (an entry that survived a raw
// SQL delete) takes upsertDoc's way.
func insertDoc(app core.App, r *core.Record) error {
	s, ok := sourceOf(r.Collection().Name)
	if !ok {
		return nil
	}
	col, err := app.FindCachedCollectionByNameOrId(s.collection)
	if err != nil {
		return err
	}
	visible, params := "SELECT 1 WHERE 0", dbx.Params{} // a superuser-only rule
	if col.ListRule != nil {
		gq, err := guestRuleQuery(app, col, true)
		if err != nil {
			return fmt.Errorf("index %s %q: %w", s.collection, r.Id, err)
		}
		visible = gq.sql
		maps.Copy(params, gq.params)
	}
	lo, hi := s.rowids()
	maps.Copy(params, dbx.Params{"lo": lo, "hi": hi, "c": s.collection, "r": r.Id, "guestId": r.Id})
	var rowid int64
	var public bool
	err = app.DB().NewQuery(`INSERT INTO {{`+docsTable+`}} ([[id]], [[collection]], [[record]], [[public]])
		SELECT COALESCE(MAX([[id]]), {:lo}) + 1, {:c}, {:r}, EXISTS(`+visible+`) FROM {{`+docsTable+`}} WHERE [[id]] >= {:lo} AND [[id]] < {:hi}
		ON CONFLICT ([[collection]], [[record]]) DO NOTHING
		RETURNING [[id]], [[public]]`).Bind(params).Row(&rowid, &public)
	if errors.Is(err, sql.ErrNoRows) {
		return upsertDoc(app, r)
	}
	if err == nil {
		d := s.docOf(r.GetString)
		_, err = app.DB().NewQuery(replaceFTSSQL(public)).Bind(dbx.Params{"id": rowid, "t": d.title, "s": d.summary, "b": d.body}).Execute()
	}
	if err != nil {
		return fmt.Errorf("index %s %q: %w", s.collection, r.Id, err)
	}
	return nil
}

// upsertDoc writes the record's index entry, in the index its guest
// visibility says, replacing any previous one.
func upsertDoc(app core.App, r *core.Record) error {
	s, ok := sourceOf(r.Collection().Name)
	if !ok {
		return nil
	}
	public, err := guestVisible(app, s, []string{r.Id})
	if err != nil {
		return fmt.Errorf("index %s %q: %w", s.collection, r.Id, err)
	}
	return writeDoc(app, s, r.Id, s.docOf(r.GetString), public[r.Id])
}

// writeDoc writes a record's entry into the public or the hidden index: the
// docs upsert returns the record's rowid, new or existing, and where its
// entry was; an entry that changes index is deleted from the old one, and
// FTS5 replaces a contentless_delete row by rowid. A trigger on
// _search_docs bumps the generation.
func writeDoc(app core.App, s source, id string, d doc, public bool) error {
	lo, hi := s.rowids()
	var rowid int64
	var was bool
	err := app.DB().NewQuery(upsertDocSQL).Bind(dbx.Params{"lo": lo, "hi": hi, "c": s.collection, "r": id, "p": public}).Row(&rowid, &was)
	if err == nil && was != public {
		_, err = app.DB().NewQuery(`DELETE FROM {{` + ftsOf(was) + `}} WHERE [[rowid]] = {:id}`).Bind(dbx.Params{"id": rowid}).Execute()
		if err == nil {
			_, err = app.DB().NewQuery(`UPDATE {{` + docsTable + `}} SET [[public]] = {:p} WHERE [[id]] = {:id}`).
				Bind(dbx.Params{"id": rowid, "p": public}).Execute()
		}
	}
	if err == nil {
		_, err = app.DB().NewQuery(replaceFTSSQL(public)).Bind(dbx.Params{"id": rowid, "t": d.title, "s": d.summary, "b": d.body}).Execute()
	}
	if err != nil {
		return fmt.Errorf("index %s %q: %w", s.collection, id, err)
	}
	return nil
}

// upsertDocSQL allocates the next rowid of the collection's range (MAX over
// the primary key is one seek) for a record not indexed yet, and returns the
// record's rowid and the index its entry is in (for a new record, the one
// asked for).
const upsertDocSQL = `INSERT INTO {{` + docsTable + `}} ([[id]], [[collection]], [[record]], [[public]])
	SELECT COALESCE(MAX([[id]]), {:lo}) + 1, {:c}, {:r}, {:p} FROM {{` + docsTable + `}} WHERE [[id]] >= {:lo} AND [[id]] < {:hi}
	ON CONFLICT ([[collection]], [[record]]) DO UPDATE SET [[record]] = excluded.[[record]]
	RETURNING [[id]], [[public]]`

func replaceFTSSQL(public bool) string {
	return `INSERT OR REPLACE INTO {{` + ftsOf(public) + `}} ([[rowid]], [[title]], [[summary]], [[body]]) VALUES ({:id}, {:t}, {:s}, {:b})`
}

// refreshVisibility moves the entries of records (of s's collection) whose
// guest visibility changed to the other index, and indexes any record not
// indexed yet.
func refreshVisibility(app core.App, s source, recs []*core.Record) error {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.Id
	}
	public, err := guestVisible(app, s, ids)
	if err != nil {
		return err
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	var rows []struct {
		Record string `db:"record"`
		Public bool   `db:"public"`
	}
	err = app.DB().Select("record", "public").From(docsTable).
		Where(dbx.HashExp{"collection": s.collection}).AndWhere(dbx.In("record", args...)).All(&rows)
	if err != nil {
		return fmt.Errorf("read index entries of %s: %w", s.collection, err)
	}
	indexed := make(map[string]bool, len(rows))
	for _, row := range rows {
		indexed[row.Record] = row.Public
	}
	for _, r := range recs {
		if was, ok := indexed[r.Id]; ok && was == public[r.Id] {
			continue
		}
		if err := writeDoc(app, s, r.Id, s.docOf(r.GetString), public[r.Id]); err != nil {
			return err
		}
	}
	return nil
}

func deleteDoc(app core.App, collection, id string) error {
	var rowid int64
	var public bool
	err := app.DB().NewQuery(`DELETE FROM {{`+docsTable+`}} WHERE [[collection]] = {:c} AND [[record]] = {:r} RETURNING [[id]], [[public]]`).
		Bind(dbx.Params{"c": collection, "r": id}).Row(&rowid, &public)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // never indexed
	}
	if err == nil {
		_, err = app.DB().NewQuery(`DELETE FROM {{` + ftsOf(public) + `}} WHERE [[rowid]] = {:id}`).Bind(dbx.Params{"id": rowid}).Execute()
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
