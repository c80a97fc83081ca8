// Package seed fills a Lectern data dir with realistic demo data: users of
// every role, topics, posts with comment threads, courses with lessons,
// enrollments and reviews. Every record is saved through the app, so the
// hooks derive slugs, excerpts, reading times, comment counts, ratings and
// progress exactly as they do for API writes.
//
// The data set is a pure function of the options (see plan.go): the same
// flags give the same ids, titles, slugs and counts on every run.
package seed

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	_ "lectern/migrations" // the schema the seeder writes into
)

// Options size and shape the seeded data set.
type Options struct {
	Seed        uint64
	Users       int // total, including the four demo logins
	Posts       int
	Comments    int
	Courses     int
	Enrollments int
	Reviews     int
	Password    string // of every seeded user
	BatchSize   int    // records per transaction

	// Progress receives a progress bar (Animate) or a few plain lines; nil
	// means silent.
	Progress io.Writer
	Animate  bool
}

// DefaultPassword is the password of every seeded user unless --password says otherwise.
const DefaultPassword = "lectern-demo"

// DefaultOptions are the sizes of a plain `lectern seed`.
func DefaultOptions() Options {
	return Options{
		Seed:        1,
		Users:       150,
		Posts:       200,
		Comments:    1000,
		Courses:     30,
		Enrollments: 600,
		Reviews:     400,
		Password:    DefaultPassword,
		BatchSize:   500,
	}
}

// Collections are Lectern's collections in the order the seeder writes them.
var Collections = []string{"users", "topics", "posts", "courses", "lessons", "comments", "enrollments", "reviews"}

// Summary describes a finished seed.
type Summary struct {
	Counts    map[string]int            // records written per collection
	Breakdown map[string]map[string]int // e.g. posts → status → n, users → role → n
	Notes     []string                  // requests that could not be met as asked
	Stages    []StageTime
	Elapsed   time.Duration
}

// StageTime is how long writing one collection took.
type StageTime struct {
	Collection string
	Records    int
	Elapsed    time.Duration
}

// Limits are the largest sizes seed accepts. Records are written as they are
// generated, a batch at a time, so memory does not follow the sizes (what is
// kept of earlier records is under 100 bytes each: ids, roles, dates); the
// limits bound the time instead: about 20 minutes of writing at the largest
// sizes on a 2-core machine (users ~330/s, posts ~350/s, comments ~1,200/s).
// Beyond that, seed several data dirs or load from a backup.
var Limits = map[string]int{
	"users": 100_000, "posts": 100_000, "comments": 500_000, "courses": 5_000,
	"enrollments": 200_000, "reviews": 100_000, "batch": 10_000,
}

func (o Options) validate() error {
	sizes := []struct {
		flag string
		n    int
	}{
		{"users", o.Users}, {"posts", o.Posts}, {"comments", o.Comments}, {"courses", o.Courses},
		{"enrollments", o.Enrollments}, {"reviews", o.Reviews}, {"batch", o.BatchSize},
	}
	for _, s := range sizes {
		switch {
		case s.n < 0:
			return fmt.Errorf("--%s %d: a count cannot be negative", s.flag, s.n)
		case s.n > Limits[s.flag]:
			return fmt.Errorf("--%s %d is above seed's limit of %d", s.flag, s.n, Limits[s.flag])
		}
	}
	switch {
	case o.Users < len(demoRoles):
		return fmt.Errorf("--users must be at least %d (one demo login per role)", len(demoRoles))
	case o.BatchSize < 1:
		return errors.New("--batch must be at least 1")
	}
	return nil
}

// Run writes the data set described by opts into app, whose schema must be
// migrated and whose Lectern hooks must be registered. It does not check for
// existing data (see Existing).
func Run(app core.App, opts Options) (*Summary, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	hash, err := passwordHash(app, opts.Password)
	if err != nil {
		return nil, err
	}

	started := time.Now()
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "seed: writing %d users, %d posts, %d comments, %d courses, %d enrollments, %d reviews…\n",
			opts.Users, opts.Posts, opts.Comments, opts.Courses, opts.Enrollments, opts.Reviews)
	}
	// the bar's total starts from the sizes asked for; lessons and capped
	// collections correct it when their stage begins
	estimate := map[string]int{"users": opts.Users, "topics": len(topicSpecs), "posts": opts.Posts,
		"courses": opts.Courses, "lessons": opts.Courses * 15 / 2, "comments": opts.Comments,
		"enrollments": opts.Enrollments, "reviews": opts.Reviews}
	w := &saver{app: app, batch: opts.BatchSize, hash: hash,
		bar: newProgress(opts.Progress, opts.Animate, estimate), sum: &Summary{Counts: map[string]int{}}}
	p := generate(opts, started, w)
	w.flush()
	w.endStage()
	w.sum.Breakdown, w.sum.Notes = p.breakdown, p.notes
	if w.err != nil {
		w.bar.abort()
		return w.sum, w.err
	}
	w.bar.finish()
	w.sum.Elapsed = time.Since(started)
	return w.sum, nil
}

// saver is the sink that saves the planned records, a transaction per batch
// of one collection, through the transaction's app so every hook runs and
// joins the batch's transaction.
type saver struct {
	app   core.App
	batch int
	hash  string // every seeded user's password hash
	bar   *progress
	sum   *Summary

	collection *core.Collection // of the current stage
	name       string
	stageStart time.Time
	buf        []item
	err        error
}

func (w *saver) failed() bool { return w.err != nil }

func (w *saver) stage(name string, n int) {
	w.flush()
	w.endStage()
	if w.err != nil {
		return
	}
	c, err := w.app.FindCachedCollectionByNameOrId(name)
	if err != nil {
		w.err = fmt.Errorf("find collection %q (are the migrations applied?): %w", name, err)
		return
	}
	w.collection, w.name, w.stageStart = c, name, time.Now()
	w.bar.stage(name, n)
}

func (w *saver) endStage() {
	if w.name == "" || w.err != nil {
		return
	}
	w.sum.Stages = append(w.sum.Stages, StageTime{Collection: w.name, Records: w.sum.Counts[w.name], Elapsed: time.Since(w.stageStart)})
	w.bar.stageDone()
	w.name = ""
}

func (w *saver) put(it item) {
	if w.err != nil {
		return
	}
	if it.collection != w.name {
		w.err = fmt.Errorf("seed: a %s record planned in the %s stage", it.collection, w.name)
		return
	}
	w.buf = append(w.buf, it)
	if len(w.buf) >= w.batch {
		w.flush()
	}
}

func (w *saver) flush() {
	if w.err != nil || len(w.buf) == 0 {
		return
	}
	err := w.app.RunInTransaction(func(tx core.App) error {
		for _, it := range w.buf {
			r := core.NewRecord(w.collection)
			r.Id = it.id
			r.Load(it.data)
			// Autodate fields ignore Set; SetRaw keeps a planned date.
			created, _ := types.ParseDateTime(it.created)
			r.SetRaw("created", created)
			r.SetRaw("updated", created)
			if w.collection.IsAuth() {
				// One bcrypt hash for everyone: hashing per user would
				// take longer than the rest of the seed.
				r.SetRaw(core.FieldNamePassword, &core.PasswordFieldValue{Hash: w.hash})
			}
			if err := tx.Save(r); err != nil {
				return fmt.Errorf("save %s %s: %w", w.name, it.id, err)
			}
			w.bar.add(1)
		}
		return nil
	})
	if err != nil {
		w.err = err
		return
	}
	w.sum.Counts[w.name] += len(w.buf)
	clear(w.buf) // drop the records' data for the collector
	w.buf = w.buf[:0]
}

// passwordHash validates password against the users collection's password
// field and returns its bcrypt hash at that field's cost.
func passwordHash(app core.App, password string) (string, error) {
	users, err := app.FindCachedCollectionByNameOrId("users")
	if err != nil {
		return "", fmt.Errorf("find users collection (are the migrations applied?): %w", err)
	}
	field, _ := users.Fields.GetByName(core.FieldNamePassword).(*core.PasswordField)
	if field == nil {
		return "", errors.New("the users collection has no password field")
	}
	maxLen := field.Max
	if maxLen <= 0 {
		maxLen = 71
	}
	if n := len([]rune(password)); n < field.Min || n > maxLen {
		return "", fmt.Errorf("--password must be %d to %d characters long", field.Min, maxLen)
	}
	r := core.NewRecord(users)
	r.SetPassword(password)
	return r.GetString(core.FieldNamePassword + ":hash"), nil
}

// Existing counts the records already in Lectern's collections; the
// seeder refuses a data dir that has any unless forced.
func Existing(app core.App) (map[string]int, int, error) {
	counts := map[string]int{}
	total := 0
	for _, name := range Collections {
		n, err := app.CountRecords(name)
		if err != nil {
			return nil, 0, fmt.Errorf("count %s: %w", name, err)
		}
		counts[name] = int(n)
		total += int(n)
	}
	return counts, total, nil
}

// Wipe deletes every record of Lectern's collections, the users' auth
// side-records (OAuth2 links, MFA, OTPs, auth origins) and their uploaded
// files. Superusers and settings are kept. It deletes with SQL rather than
// record by record: nothing derived survives to need the hooks.
func Wipe(app core.App) error {
	users, err := app.FindCachedCollectionByNameOrId("users")
	if err != nil {
		return err
	}
	err = app.RunInTransaction(func(tx core.App) error {
		for _, name := range []string{core.CollectionNameExternalAuths, core.CollectionNameMFAs,
			core.CollectionNameOTPs, core.CollectionNameAuthOrigins} {
			if _, err := tx.DB().Delete(name, dbx.HashExp{"collectionRef": users.Id}).Execute(); err != nil {
				return fmt.Errorf("delete %s: %w", name, err)
			}
		}
		for i := len(Collections) - 1; i >= 0; i-- { // dependents first
			if _, err := tx.DB().NewQuery("DELETE FROM {{" + Collections[i] + "}}").Execute(); err != nil {
				return fmt.Errorf("delete %s: %w", Collections[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	fsys, err := app.NewFilesystem()
	if err != nil {
		return fmt.Errorf("open file storage: %w", err)
	}
	defer fsys.Close()
	for _, name := range Collections {
		c, err := app.FindCachedCollectionByNameOrId(name)
		if err != nil {
			return err
		}
		if errs := fsys.DeletePrefix(c.BaseFilesPath() + "/"); len(errs) > 0 {
			return fmt.Errorf("delete %s files: %w", name, errors.Join(errs...))
		}
	}
	return nil
}
