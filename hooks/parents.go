package hooks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// A comment, review or enrollment write changes a figure stored on its parent
// (a post's commentsCount, a course's ratingAvg, ratingCount and
// enrollmentsCount). The figure is written with one targeted UPDATE in the
// child write's transaction, rather than by loading and re-saving the whole
// parent: a re-save rewrites every column (the post body among them) and runs
// every hook of the parent's collection, for one or two numbers. The UPDATE
// returns the parent's row, and once the transaction commits the announcer
// runs PocketBase's after-update chain with it, as PocketBase does with a
// record it saved (realtime, the response cache, the feeds).
//
// Each refresh returns the parent as it now stands in tx, or nil when it is
// gone (deleted earlier in the same transaction: a cascade).

// countNewComment adds one to the post's commentsCount if the post is
// published, and returns nil otherwise (not published, or no such post). A
// create adds its own row: exact without a recount, however many comments
// the post has, since every write runs on PocketBase's single write
// connection. The one statement both checks the post and counts the comment:
// called before the comment is inserted, it is undone with the rest of the
// transaction if the insert fails.
func countNewComment(tx core.App, postID string) (*core.Record, error) {
	post, err := updateParent(tx, "posts", postID, `[[commentsCount]] = [[commentsCount]] + 1`,
		`[[status]] = 'published'`)
	if err != nil {
		return nil, fmt.Errorf("count comment on post %q: %w", postID, err)
	}
	return post, nil
}

// recountVisibleComments sets the post's commentsCount from its comments:
// used where the stored status a delta would depend on may not be the one
// the writer loaded (a status change, a delete).
func recountVisibleComments(tx core.App, postID string) (*core.Record, error) {
	post, err := updateParent(tx, "posts", postID,
		`[[commentsCount]] = (SELECT COUNT(*) FROM {{comments}} WHERE [[post]] = {:id} AND [[status]] = 'visible')`, "")
	if err != nil {
		return nil, fmt.Errorf("recount comments of post %q: %w", postID, err)
	}
	return post, nil
}

// refreshCourseRating recomputes the course's ratingAvg and ratingCount from
// its reviews, in the UPDATE itself (one statement: no separate read of the
// aggregate).
func refreshCourseRating(tx core.App, courseID string) (*core.Record, error) {
	course, err := updateParent(tx, "courses", courseID,
		`([[ratingAvg]], [[ratingCount]]) = (SELECT `+ratingAvgSQL+`, COUNT(*) FROM {{reviews}} WHERE [[course]] = {:id})`, "")
	if err != nil {
		return nil, fmt.Errorf("rate course %q: %w", courseID, err)
	}
	return course, nil
}

// ratingAvgSQL is RatingAvg over the rows' [[rating]] column, in SQL: the
// same integer arithmetic on the sum and count, then tenths divided by 10
// as a double, so it stores the very value RatingAvg returns
// (TestRatingAvgSQL pins the two together).
const ratingAvgSQL = `CASE WHEN COUNT(*) = 0 THEN 0 ELSE ` +
	`CAST((CAST(SUM([[rating]]) AS INTEGER) * 20 + COUNT(*)) / (2 * COUNT(*)) AS REAL) / 10 END`

// refreshCourseEnrollments recounts the course's active and completed enrollments.
func refreshCourseEnrollments(tx core.App, courseID string) (*core.Record, error) {
	course, err := updateParent(tx, "courses", courseID,
		`[[enrollmentsCount]] = (SELECT COUNT(*) FROM {{enrollments}} WHERE [[course]] = {:id} AND [[status]] IN ('active', 'completed'))`, "")
	if err != nil {
		return nil, fmt.Errorf("count enrollments of course %q: %w", courseID, err)
	}
	return course, nil
}

// updateParent runs UPDATE collection SET set, updated = now WHERE id = {:id}
// (AND cond, if not empty) and returns the updated record, or nil if no row
// matched. set and cond may use {:id}.
func updateParent(tx core.App, collection, id, set, cond string) (*core.Record, error) {
	where := `[[id]] = {:id}`
	if cond != "" {
		where += ` AND ` + cond
	}
	row := dbx.NullStringMap{}
	err := tx.DB().NewQuery(`UPDATE {{` + collection + `}} SET ` + set + `, [[updated]] = {:now} WHERE ` + where + ` RETURNING *`).
		Bind(dbx.Params{"id": id, "now": types.NowDateTime().String()}).One(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return recordFromRow(tx, collection, row)
}

// recordFromRow builds a record from a row of its table as PocketBase does
// when it loads one: each column through its field's PrepareValue, the whole
// as stored (not new, nothing changed since).
func recordFromRow(app core.App, collection string, row dbx.NullStringMap) (*core.Record, error) {
	c, err := app.FindCachedCollectionByNameOrId(collection)
	if err != nil {
		return nil, err
	}
	r := core.NewRecord(c)
	for _, f := range c.Fields {
		var raw any
		if v, ok := row[f.GetName()]; ok && v.Valid {
			raw = v.String
		}
		v, err := f.PrepareValue(r, raw)
		if err != nil {
			return nil, fmt.Errorf("load %s.%s: %w", collection, f.GetName(), err)
		}
		r.SetRaw(f.GetName(), v)
	}
	r.Id = r.GetString(core.FieldNameId)
	return r, r.PostScan()
}

// storedString reads one column of a stored record, "" if the record is gone.
// Called inside the writing transaction, before e.Next(), it tells whether
// the save changes the field from what is stored now. r.Original() cannot:
// it is the copy the writer loaded, and an overlapping write (a moderator
// hiding a comment while its author's edit request is under way) may have
// changed the row since; a counter refreshed only when the original says the
// field changed would then miss the edit that puts the old value back.
func storedString(tx core.App, collection, id, field string) (string, error) {
	var v sql.NullString
	err := tx.DB().Select(field).From(collection).Where(dbx.HashExp{"id": id}).Row(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load stored %s %q: %w", collection, id, err)
	}
	return v.String, nil
}

// ---

// announcer runs PocketBase's after-update chain for parents whose derived
// figures a transaction changed, once per parent and transaction, after the
// commit.
type announcer struct {
	// app is the app the hooks were registered on. After the commit there is
	// no transaction left to join, and the chain must read through the app
	// itself (PocketBase's own deferred after-update hooks get the
	// transaction's parent app for the same reason).
	app core.App

	mu      sync.Mutex
	pending map[*core.TxAppInfo]map[string]*core.Record // transaction → "collection/id" → record to announce
}

func newAnnouncer(app core.App) *announcer {
	return &announcer{app: app, pending: map[*core.TxAppInfo]map[string]*core.Record{}}
}

// afterCommit schedules the announcement of the record collection/id for
// when tx commits, with r, its copy as updated in tx; nothing is announced if
// tx rolls back. A nil r means the record is gone (deleted earlier in tx): no
// announcement, and any scheduled one is dropped. When one transaction
// updates the same record again, its latest copy is announced, once.
// Outside a transaction it announces at once.
func (a *announcer) afterCommit(ctx context.Context, tx core.App, collection, id string, r *core.Record) error {
	info := tx.TxInfo()
	if info == nil {
		return a.announce(ctx, r)
	}
	key := collection + "/" + id
	a.mu.Lock()
	records, known := a.pending[info]
	if !known {
		records = map[string]*core.Record{}
		a.pending[info] = records
	}
	_, scheduled := records[key]
	records[key] = r
	a.mu.Unlock()
	if !known {
		info.OnComplete(func(error) error {
			a.mu.Lock()
			delete(a.pending, info)
			a.mu.Unlock()
			return nil
		})
	}
	if !scheduled {
		info.OnComplete(func(txErr error) error {
			if txErr != nil {
				return nil
			}
			a.mu.Lock()
			latest := records[key]
			a.mu.Unlock()
			return a.announce(ctx, latest)
		})
	}
	return nil
}

// announce triggers OnModelAfterUpdateSuccess for r, the chain PocketBase
// runs after it saves a record: the realtime broadcast,
// OnRecordAfterUpdateSuccess and every other after-update hook.
func (a *announcer) announce(ctx context.Context, r *core.Record) error {
	if r == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	e := &core.ModelEvent{App: a.app, Context: ctx, Type: core.ModelEventTypeUpdate}
	e.Model = r
	return a.app.OnModelAfterUpdateSuccess().Trigger(e)
}
