package search

import (
	"fmt"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// rebuildBatch is how many records a rebuild reads at a time.
const rebuildBatch = 500

// Stats counts the indexed records per collection.
type Stats map[string]int

func (s Stats) String() string {
	parts := make([]string, 0, len(sources))
	for _, src := range sources {
		parts = append(parts, fmt.Sprintf("%d %s", s[src.collection], src.collection))
	}
	return strings.Join(parts, ", ")
}

// Rebuild empties the index and indexes every post, course and lesson again
// (each in the public or the hidden index, as a guest may list it or not),
// in one transaction (searches keep seeing the old index until it commits),
// then merges the index into a single segment. It gives the same index the
// hooks build write by write.
func Rebuild(app core.App) (Stats, error) {
	stats := Stats{}
	err := app.RunInTransaction(func(tx core.App) error {
		if _, err := tx.DB().NewQuery(`DELETE FROM {{` + docsTable + `}}`).Execute(); err != nil {
			return err
		}
		for _, t := range []string{ftsTable, hiddenTable} {
			if _, err := tx.DB().NewQuery(`INSERT INTO {{` + t + `}} ([[` + t + `]]) VALUES ('delete-all')`).Execute(); err != nil {
				return err
			}
		}
		ins := newDocInserter(tx)
		defer ins.close()
		for _, s := range sources {
			n, err := rebuildSource(tx, ins, s)
			if err != nil {
				return fmt.Errorf("reindex %s: %w", s.collection, err)
			}
			stats[s.collection] = n
		}
		for _, t := range []string{ftsTable, hiddenTable} {
			if _, err := tx.DB().NewQuery(`INSERT INTO {{` + t + `}} ([[` + t + `]]) VALUES ('optimize')`).Execute(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stats, nil
}

func rebuildSource(app core.App, ins *docInserter, s source) (int, error) {
	public, err := guestVisible(app, s, nil)
	if err != nil {
		return 0, err
	}
	cols := append([]string{"id"}, s.fields()...)
	total := 0
	after := ""
	for {
		q := app.DB().Select(cols...).From(s.collection).
			Where(dbx.NewExp("[[id]] > {:after}", dbx.Params{"after": after})).
			OrderBy("id").Limit(rebuildBatch)
		rows, err := q.Rows()
		if err != nil {
			return total, err
		}
		var batch []struct {
			id string
			d  doc
		}
		for rows.Next() {
			vals := make([]string, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &nullString{&vals[i]}
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return total, err
			}
			get := func(field string) string {
				for i, c := range cols {
					if c == field {
						return vals[i]
					}
				}
				return ""
			}
			batch = append(batch, struct {
				id string
				d  doc
			}{vals[0], s.docOf(get)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		for _, b := range batch {
			if err := ins.insert(s.collection, b.id, b.d, public[b.id]); err != nil {
				return total, err
			}
		}
		total += len(batch)
		if len(batch) < rebuildBatch {
			return total, nil
		}
		after = batch[len(batch)-1].id
	}
}

// nullString scans a nullable text column into a string ("" for NULL).
type nullString struct{ s *string }

func (n *nullString) Scan(v any) error {
	switch t := v.(type) {
	case nil:
		*n.s = ""
	case string:
		*n.s = t
	case []byte:
		*n.s = string(t)
	default:
		*n.s = fmt.Sprint(t)
	}
	return nil
}

// docInserter inserts index rows with statements prepared once.
type docInserter struct {
	docs *dbx.Query
	fts  map[bool]*dbx.Query // by public
}

func newDocInserter(app core.App) *docInserter {
	return &docInserter{
		docs: app.DB().NewQuery(upsertDocSQL).Prepare(),
		fts: map[bool]*dbx.Query{
			true:  app.DB().NewQuery(replaceFTSSQL(true)).Prepare(),
			false: app.DB().NewQuery(replaceFTSSQL(false)).Prepare(),
		},
	}
}

// insert adds a record's entry to an emptied index.
func (ins *docInserter) insert(collection, id string, d doc, public bool) error {
	s, _ := sourceOf(collection)
	lo, hi := s.rowids()
	var rowid int64
	var was bool
	if err := ins.docs.Bind(dbx.Params{"lo": lo, "hi": hi, "c": collection, "r": id, "p": public}).Row(&rowid, &was); err != nil {
		return err
	}
	_, err := ins.fts[public].Bind(dbx.Params{"id": rowid, "t": d.title, "s": d.summary, "b": d.body}).Execute()
	return err
}

func (ins *docInserter) close() {
	ins.docs.Close()
	for _, q := range ins.fts {
		q.Close()
	}
}

// InSync reports whether the index holds as many entries per collection as
// the collection has records. It is a cheap check (a few counts) that
// catches an index never built for existing data (a first start after the
// search migration, a data dir written without the search hooks); content
// edited behind the app's back needs `lectern reindex`.
func InSync(app core.App) (bool, error) {
	for _, s := range sources {
		var records, indexed int
		if err := app.DB().Select("COUNT(*)").From(s.collection).Row(&records); err != nil {
			return false, err
		}
		if err := app.DB().Select("COUNT(*)").From(docsTable).
			Where(dbx.HashExp{"collection": s.collection}).Row(&indexed); err != nil {
			return false, err
		}
		if records != indexed {
			return false, nil
		}
	}
	return true, nil
}

// ruleIndex is the covering index on posts (id, status, author) created by
// the search migration.
const ruleIndex = "idx_posts_search_rule"

// analyzeRuleIndex gives SQLite's planner statistics for ruleIndex when it
// has none yet. Without them the planner sees an index whose id prefix might
// repeat and joins through the primary key instead, reading every matching
// post's row; with them it answers the list rule from the index alone.
// PocketBase's nightly PRAGMA optimize keeps them current afterwards.
func analyzeRuleIndex(app core.App) error {
	var stats int
	err := app.DB().NewQuery(`SELECT COUNT(*) FROM sqlite_stat1 WHERE idx = {:idx}`).
		Bind(dbx.Params{"idx": ruleIndex}).Row(&stats)
	if err == nil && stats > 0 {
		return nil // sqlite_stat1 exists only once something was analyzed
	}
	var posts int
	if err := app.DB().Select("COUNT(*)").From("posts").Row(&posts); err != nil || posts == 0 {
		return err
	}
	_, err = app.NonconcurrentDB().NewQuery("ANALYZE {{" + ruleIndex + "}}").Execute()
	return err
}

// ensureIndex rebuilds the index when it is out of step with the records.
func ensureIndex(app core.App) error {
	if err := analyzeRuleIndex(app); err != nil {
		return fmt.Errorf("analyze %s: %w", ruleIndex, err)
	}
	ok, err := InSync(app)
	if err != nil || ok {
		return err
	}
	app.Logger().Info("search: building the index for existing records")
	stats, err := Rebuild(app)
	if err != nil {
		return err
	}
	app.Logger().Info("search: index built", "records", stats.String())
	return nil
}
