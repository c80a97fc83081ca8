package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/jobs"
)

// newApp is an empty test app with a "tasks" collection shaped as the
// package doc asks: status, attempts, nextAttemptAt, plus a key and a note.
func newApp(t *testing.T) *tests.TestApp {
	t.Helper()
	app, err := tests.NewTestApp(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(app.Cleanup)
	c := core.NewBaseCollection("tasks")
	c.Fields.Add(
		&core.TextField{Name: "status"},
		&core.NumberField{Name: "attempts"},
		&core.DateField{Name: "nextAttemptAt"},
		&core.TextField{Name: "key"},
		&core.TextField{Name: "note"},
		&core.AutodateField{Name: "created", OnCreate: true},
		&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
	)
	require.NoError(t, app.Save(c))
	return app
}

func enqueue(t *testing.T, app core.App, q *jobs.Queue, fields map[string]any) string {
	t.Helper()
	var ids []string
	require.NoError(t, app.RunInTransaction(func(tx core.App) error {
		var err error
		ids, err = q.Enqueue(tx, fields)
		return err
	}))
	require.Len(t, ids, 1)
	return ids[0]
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func job(t *testing.T, app core.App, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById("tasks", id)
	require.NoError(t, err)
	return r
}

func statusIs(app core.App, id, status string) func() bool {
	return func() bool {
		r, err := app.FindRecordById("tasks", id)
		return err == nil && r.GetString("status") == status
	}
}

func stop(t *testing.T, q *jobs.Queue) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, q.Stop(ctx))
}

func TestCommittedJobsRunOnceRolledBackNever(t *testing.T) {
	app := newApp(t)
	var mu sync.Mutex
	runs := map[string]int{}
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour,
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			mu.Lock()
			runs[j.GetString("note")]++
			mu.Unlock()
			j.Set("note", j.GetString("note")+" handled")
			return nil
		},
	})
	q.Start()
	t.Cleanup(func() { stop(t, q) })

	// a rolled-back write leaves no job
	errRollback := errors.New("rollback")
	err := app.RunInTransaction(func(tx core.App) error {
		if _, err := q.Enqueue(tx, map[string]any{"note": "rolled back"}); err != nil {
			return err
		}
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)

	// committed jobs run once each; Poll is an hour, so only the wake-up
	// after the commit can start them
	var ids []string
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		ids = append(ids, enqueue(t, app, q, map[string]any{"note": n}))
	}
	for _, id := range ids {
		waitFor(t, "job done", statusIs(app, id, "done"))
		r := job(t, app, id)
		assert.Equal(t, 1, r.GetInt("attempts"))
		assert.Contains(t, r.GetString("note"), " handled", "the handler's field changes are saved with the outcome")
		assert.True(t, r.GetDateTime("nextAttemptAt").IsZero())
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 0, runs["rolled back"])
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		assert.Equal(t, 1, runs[n], n)
	}
	total, err := app.CountRecords("tasks")
	require.NoError(t, err)
	assert.EqualValues(t, 10, total)
}

func TestNotRunBeforeCommit(t *testing.T) {
	app := newApp(t)
	var ran atomic.Int32
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: 10 * time.Millisecond,
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			ran.Add(1)
			return nil
		},
	})
	q.Start()
	t.Cleanup(func() { stop(t, q) })
	var id string
	require.NoError(t, app.RunInTransaction(func(tx core.App) error {
		ids, err := q.Enqueue(tx, map[string]any{"note": "x"})
		if len(ids) == 1 {
			id = ids[0]
		}
		// the worker polls every 10 ms meanwhile: it must not see the row
		time.Sleep(100 * time.Millisecond)
		assert.EqualValues(t, 0, ran.Load(), "ran before the commit")
		return err
	}))
	waitFor(t, "job done", statusIs(app, id, "done"))
}

func TestRetriesThenDead(t *testing.T) {
	app := newApp(t)
	var calls atomic.Int32
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour, Jitter: -1,
		Schedule: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond},
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			calls.Add(1)
			return errors.New("receiver down")
		},
	})
	q.Start()
	t.Cleanup(func() { stop(t, q) })
	id := enqueue(t, app, q, map[string]any{"note": "x"})
	waitFor(t, "job dead", statusIs(app, id, jobs.StatusDead))
	r := job(t, app, id)
	assert.Equal(t, 3, r.GetInt("attempts"), "one attempt plus one per schedule step")
	assert.EqualValues(t, 3, calls.Load())
}

func TestFailureThenSuccess(t *testing.T) {
	app := newApp(t)
	var calls atomic.Int32
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour, Jitter: -1,
		Schedule: []time.Duration{30 * time.Millisecond, time.Hour},
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			if calls.Add(1) == 1 {
				return errors.New("500")
			}
			return nil
		},
	})
	q.Start()
	t.Cleanup(func() { stop(t, q) })
	id := enqueue(t, app, q, map[string]any{"note": "x"})
	// the retry is found by the worker's own timer for the earliest due row
	waitFor(t, "job done", statusIs(app, id, "done"))
	assert.Equal(t, 2, job(t, app, id).GetInt("attempts"))
}

func TestOutcome(t *testing.T) {
	cfg := jobs.Config{Done: "sent", Jitter: 0.2, Schedule: []time.Duration{5 * time.Second, 5 * time.Minute}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	status, next := cfg.Outcome(1, nil, now)
	assert.Equal(t, "sent", status)
	assert.True(t, next.IsZero())

	for range 200 {
		status, next = cfg.Outcome(2, errors.New("x"), now)
		assert.Equal(t, jobs.StatusFailed, status)
		d := next.Sub(now)
		assert.GreaterOrEqual(t, d, 4*time.Minute)
		assert.LessOrEqual(t, d, 6*time.Minute)
	}

	// Retry-After longer than the schedule wins; shorter leaves the schedule
	_, next = cfg.Outcome(1, jobs.RetryAfter(errors.New("429"), time.Hour), now)
	assert.Equal(t, time.Hour, next.Sub(now))
	_, next = cfg.Outcome(2, jobs.RetryAfter(errors.New("429"), time.Second), now)
	assert.GreaterOrEqual(t, next.Sub(now), 4*time.Minute)

	status, _ = cfg.Outcome(3, errors.New("x"), now)
	assert.Equal(t, jobs.StatusDead, status, "after the schedule")
	status, _ = cfg.Outcome(1, jobs.Permanent(errors.New("gone")), now)
	assert.Equal(t, jobs.StatusDead, status, "permanent")
}

func TestOneJobPerKeyAtATime(t *testing.T) {
	app := newApp(t)
	release := make(chan struct{})
	var mu sync.Mutex
	running := map[string]int{}
	maxRunning := map[string]int{}
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour, Workers: 4, KeyField: "key",
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			k := j.GetString("key")
			mu.Lock()
			running[k]++
			maxRunning[k] = max(maxRunning[k], running[k])
			mu.Unlock()
			if k == "slow" {
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			mu.Lock()
			running[k]--
			mu.Unlock()
			return nil
		},
	})
	q.Start()
	t.Cleanup(func() { stop(t, q) })

	var slow, fast []string
	for i := range 5 {
		slow = append(slow, enqueue(t, app, q, map[string]any{"key": "slow", "note": string(rune('a' + i))}))
	}
	for i := range 20 {
		fast = append(fast, enqueue(t, app, q, map[string]any{"key": "fast" + string(rune('a'+i%3))}))
	}
	// the slow key holds one worker; everything else goes through
	for _, id := range fast {
		waitFor(t, "fast job done", statusIs(app, id, "done"))
	}
	close(release)
	for _, id := range slow {
		waitFor(t, "slow job done", statusIs(app, id, "done"))
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range maxRunning {
		assert.Equal(t, 1, n, "key %s ran %d jobs at once", k, n)
	}
}

func TestStopLeavesInterruptedJobsDue(t *testing.T) {
	app := newApp(t)
	started := make(chan struct{}, 1)
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour,
		Schedule: []time.Duration{time.Hour},
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			started <- struct{}{}
			<-ctx.Done() // a receiver that hangs until the stop
			return ctx.Err()
		},
	})
	q.Start()
	id := enqueue(t, app, q, map[string]any{"note": "x"})
	<-started
	t0 := time.Now()
	stop(t, q)
	assert.Less(t, time.Since(t0), 2*time.Second)
	r := job(t, app, id)
	assert.Equal(t, jobs.StatusPending, r.GetString("status"), "not counted as a failure")
	assert.Equal(t, 0, r.GetInt("attempts"))

	// the next start resumes it from the row
	q2 := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour,
		Handle: func(ctx context.Context, app core.App, j *core.Record) error { return nil },
	})
	q2.Start()
	t.Cleanup(func() { stop(t, q2) })
	waitFor(t, "resumed job done", statusIs(app, id, "done"))
}

func TestRunNowRevivesDeadJob(t *testing.T) {
	app := newApp(t)
	var fail atomic.Bool
	fail.Store(true)
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour,
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			if fail.Load() {
				return jobs.Permanent(errors.New("410"))
			}
			return nil
		},
	})
	q.Start()
	t.Cleanup(func() { stop(t, q) })
	id := enqueue(t, app, q, map[string]any{"note": "x"})
	waitFor(t, "job dead", statusIs(app, id, jobs.StatusDead))
	fail.Store(false)
	require.NoError(t, q.RunNow(app, id))
	waitFor(t, "job done", statusIs(app, id, "done"))
	assert.Equal(t, 2, job(t, app, id).GetInt("attempts"))
}

func TestRegisterStopsOnTerminate(t *testing.T) {
	app := newApp(t)
	started := make(chan struct{}, 1)
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour,
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		},
	})
	q.Register()
	require.NoError(t, app.OnServe().Trigger(&core.ServeEvent{App: app}, func(e *core.ServeEvent) error { return nil }))
	enqueue(t, app, q, map[string]any{"note": "x"})
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not start on serve")
	}
	t0 := time.Now()
	require.NoError(t, app.OnTerminate().Trigger(&core.TerminateEvent{App: app}, func(e *core.TerminateEvent) error { return nil }))
	assert.Less(t, time.Since(t0), 2*time.Second, "terminate waits for the worker, briefly")
}

func TestEnqueueManyRows(t *testing.T) {
	app := newApp(t)
	q := jobs.New(app, jobs.Config{Collection: "tasks", Done: "done",
		Handle: func(ctx context.Context, app core.App, j *core.Record) error { return nil }})
	var ids []string
	require.NoError(t, app.RunInTransaction(func(tx core.App) error {
		var err error
		ids, err = q.Enqueue(tx,
			map[string]any{"key": "a", "note": `{"same": "payload"}`},
			map[string]any{"key": "b", "note": `{"same": "payload"}`},
			map[string]any{"key": "c", "note": `{"same": "payload"}`},
		)
		return err
	}))
	require.Len(t, ids, 3)
	for i, id := range ids {
		r := job(t, app, id)
		assert.Equal(t, string(rune('a'+i)), r.GetString("key"))
		assert.Equal(t, `{"same": "payload"}`, r.GetString("note"))
		assert.Equal(t, jobs.StatusPending, r.GetString("status"))
		assert.False(t, r.GetDateTime("nextAttemptAt").IsZero())
		assert.False(t, r.GetDateTime("created").IsZero())
	}
}

// Ids made in a row strictly increase (rows written in one statement keep
// their order in an index ordered by id) and are valid PocketBase ids.
func TestNewIDIncreases(t *testing.T) {
	prev := ""
	for range 5000 {
		id := jobs.NewID()
		require.Len(t, id, 15)
		require.Regexp(t, `^[a-z0-9]+$`, id)
		require.Greater(t, id, prev)
		prev = id
	}
}

// Feed adds jobs on the worker before it looks for due rows; Recorded
// writes beside each outcome, in its transaction, with the attempt's
// number, status and error.
func TestFeedAndRecorded(t *testing.T) {
	app := newApp(t)
	var fed atomic.Int32
	var mu sync.Mutex
	var seen []jobs.Attempt
	q := jobs.New(app, jobs.Config{
		Collection: "tasks", Done: "done", Poll: time.Hour, Schedule: []time.Duration{10 * time.Millisecond},
		Feed: func(ctx context.Context) error {
			if fed.Add(1) != 1 {
				return nil
			}
			_, err := app.DB().Insert("tasks", map[string]any{
				"id": jobs.NewID(), "status": jobs.StatusPending, "note": "fed", "nextAttemptAt": "",
			}).Execute()
			return err
		},
		Handle: func(ctx context.Context, app core.App, j *core.Record) error {
			if j.GetInt("attempts") == 0 {
				return errors.New("first try fails")
			}
			return nil
		},
		Recorded: func(tx core.App, j *core.Record, a jobs.Attempt) error {
			assert.NotNil(t, tx.TxInfo(), "inside the outcome's transaction")
			// the job's row is already updated in this transaction
			var status string
			assert.NoError(t, tx.DB().Select("status").From("tasks").Where(dbx.HashExp{"id": j.Id}).Row(&status))
			assert.Equal(t, a.Status, status)
			mu.Lock()
			seen = append(seen, a)
			mu.Unlock()
			return nil
		},
	})
	q.Start()
	t.Cleanup(func() { stop(t, q) })
	waitFor(t, "two recorded attempts", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, seen[0].N)
	assert.Equal(t, jobs.StatusFailed, seen[0].Status)
	assert.EqualError(t, seen[0].Err, "first try fails")
	assert.False(t, seen[0].Next.IsZero())
	assert.Equal(t, 2, seen[1].N)
	assert.Equal(t, "done", seen[1].Status)
	assert.NoError(t, seen[1].Err)
}
