// Package jobs is Lectern's one pattern for background work (webhook
// deliveries, newsletter sends): durable rows of a collection are the queue.
//
//   - A job is a row, written with Enqueue in the transaction that causes it:
//     a rolled-back write leaves no job, a committed one survives any crash.
//     Or a queue's Feed writes the jobs, on the worker, from durable rows that
//     were written so (the webhooks' events: one row per write, fanned out
//     into one job per webhook), deleting those rows in the same transaction.
//   - A Queue's worker starts with `serve` (Register binds it to OnServe),
//     resumes every due row it finds, and stops on OnTerminate; it is woken
//     after each commit that enqueued a job, and otherwise sleeps until the
//     earliest nextAttemptAt (re-checked at least every Config.Poll, which
//     also catches rows written by another process).
//   - Delivery is at least once: a handler that ran but whose outcome was not
//     recorded (kill -9, power loss) runs again after a restart, so a handler
//     must be idempotent or give the other side what it needs to dedupe (a
//     webhook's id). A handler interrupted by Stop is not counted as a
//     failure: its row stays due and runs on the next start.
//
// The queue's collection must have the fields
//
//	status        text or select: "pending", "failed", "dead" and Config.Done
//	attempts      number
//	nextAttemptAt date
//
// plus whatever the handler needs. Rows in "pending" or "failed" whose
// nextAttemptAt has passed are due. A handler's nil error sets Config.Done; an
// error sets "failed" with nextAttemptAt after the Config.Schedule delay for
// that attempt (with jitter, or later if the error carries a RetryAfter), and
// "dead" once the schedule is used up or for a Permanent error.
//
// Outcomes are written in batches, at most every 250 ms, by plain UPDATEs
// (the collection's record hooks and realtime events don't run for them):
// a burst of jobs then costs the site's writers a few short transactions a
// second, not one per job.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/pocketbase/pocketbase/tools/types"
)

// StopTimeout bounds how long terminate waits for running handlers (a
// webhook POST is cancelled at once; this is for its outcome to be written).
const StopTimeout = 5 * time.Second

// Row statuses other than Config.Done.
const (
	StatusPending = "pending" // never tried, or sent again by RunNow
	StatusFailed  = "failed"  // tried, will be retried at nextAttemptAt
	StatusDead    = "dead"    // given up: the schedule is used up or the error was permanent
)

// Handler runs one job. It may set fields of job (a last status, an error
// text): they are saved with the outcome. ctx is cancelled when the queue
// stops; an error returned after that is not counted as an attempt.
type Handler func(ctx context.Context, app core.App, job *core.Record) error

// Config describes a queue.
type Config struct {
	// Collection holds the jobs (see the package doc for its fields).
	Collection string
	// Done is the status of a job whose handler succeeded ("delivered", "sent").
	Done string
	// Handle runs a job.
	Handle Handler
	// Schedule is the delay before each retry: after the nth failed attempt
	// the job waits Schedule[n-1]; after len(Schedule)+1 failed attempts it
	// is dead.
	Schedule []time.Duration
	// Jitter spreads each delay by ±Jitter of itself (0.2 = ±20%) so that jobs
	// failing together don't retry together. Default 0.2; negative for none.
	Jitter float64
	// Workers is how many handlers run at once. Default 4.
	Workers int
	// KeyField, when set, names a field whose value serializes jobs: at most
	// one job per value runs at a time (one webhook's deliveries), so one slow
	// target holds one worker, never all of them.
	KeyField string
	// Poll is the longest the worker sleeps without looking for due rows.
	// Default 30 s.
	Poll time.Duration
	// Logf, if set, receives the worker's own errors (never job contents).
	Logf func(format string, args ...any)
	// Feed, if set, runs on the worker before each look for due rows (on
	// start, after each wake-up, at least every Poll): it moves work into the
	// queue (the webhooks' fan-out of committed events into deliveries), so
	// that whatever it adds is dispatched in the same pass. It runs on the
	// worker's goroutine, never beside Recorded's transaction.
	Feed func(ctx context.Context) error
	// Recorded, if set, runs for each outcome inside the transaction that
	// writes it, after the job's row is updated: a queue's own history of
	// attempts is written with the outcome, in the same batch, or not at all.
	Recorded func(tx core.App, job *core.Record, attempt Attempt) error
}

// Attempt is one finished run of a job as it is recorded: its number
// (attempts after it), the status and next attempt it led to, and the
// handler's error (nil on success).
type Attempt struct {
	N      int
	Status string
	Next   time.Time
	Err    error
}

// Queue is a collection of jobs and the worker that runs them.
type Queue struct {
	app core.App
	cfg Config

	wake     chan struct{} // buffered 1: a pending wake-up
	backlog  bool          // the last dispatch left due rows waiting (worker goroutine only)
	lastWake atomic.Int64  // Unix ns of the last commit that woke the worker

	mu       sync.Mutex
	running  bool
	cancel   context.CancelFunc
	stopped  chan struct{}       // closed when the worker loop returned
	busy     int                 // handlers running
	held     map[string]struct{} // jobs running or whose outcome is not written yet
	busyKeys map[string]int      // key → running jobs (0 or 1)
	again    map[string]struct{} // held jobs asked to run again (RunNow)
	handlers sync.WaitGroup
}

// New returns a stopped queue over cfg.Collection of app.
func New(app core.App, cfg Config) *Queue {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = 0.2
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(format string, args ...any) { app.Logger().Error(fmt.Sprintf(format, args...)) }
	}
	return &Queue{
		app:      app,
		cfg:      cfg,
		wake:     make(chan struct{}, 1),
		held:     map[string]struct{}{},
		busyKeys: map[string]int{},
		again:    map[string]struct{}{},
	}
}

// Register starts the worker when app serves and stops it when app
// terminates (SIGTERM, SIGINT, or a test app's Cleanup), before the database
// closes.
func (q *Queue) Register() {
	q.app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		q.Start()
		return e.Next()
	})
	// the default priority: after the HTTP server has drained (internal/graceful
	// and PocketBase's shutdown run first), so no request enqueues work behind
	// the stop, and before the database closes (the chain's final step)
	q.app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			q.cfg.Logf("jobs %s: stop: %v", q.cfg.Collection, err)
		}
		return e.Next()
	})
}

// Start starts the worker; it does nothing if the worker runs already.
func (q *Queue) Start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.running, q.cancel, q.stopped = true, cancel, make(chan struct{})
	go q.loop(ctx, q.stopped)
}

// Stop stops the worker: no new job starts, running handlers see their
// context cancelled, and Stop waits for them and for their outcomes to be
// recorded, up to ctx's deadline. Jobs interrupted this way stay due and
// run on the next Start.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	if !q.running {
		q.mu.Unlock()
		return nil
	}
	q.running = false
	q.cancel()
	stopped := q.stopped
	q.mu.Unlock()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("handlers still running: %w", ctx.Err())
	}
}

// Wake tells the worker to look for due jobs once app's transaction has
// committed (at once when app is not in a transaction; never if it rolls
// back). Enqueue and RunNow call it.
func (q *Queue) Wake(app core.App) {
	if info := app.TxInfo(); info != nil {
		info.OnComplete(func(txErr error) error {
			if txErr == nil {
				q.lastWake.Store(time.Now().UnixNano())
				q.poke()
			}
			return nil
		})
		return
	}
	q.poke()
}

func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Enqueue inserts due jobs, one per fields map (stored values: strings,
// numbers, booleans; json as a string), through tx, the transaction of the
// write that causes them, and wakes the worker after the commit. It returns
// the jobs' ids. The rows are inserted directly, without the collection's
// record hooks, in one multi-row INSERT where a value shared by every row
// (a webhook's payload) is bound once: the writer pays for one statement,
// not one per job.
func (q *Queue) Enqueue(tx core.App, rows ...map[string]any) ([]string, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	now := types.NowDateTime().String()
	full := make([]map[string]any, len(rows))
	ids := make([]string, len(rows))
	colSet := map[string]bool{}
	for i, r := range rows {
		ids[i] = newID()
		row := map[string]any{"id": ids[i], "status": StatusPending, "attempts": 0, "nextAttemptAt": now, "created": now, "updated": now}
		for k, v := range r {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			row[k] = v
		}
		for k := range row {
			colSet[k] = true
		}
		full[i] = row
	}
	cols := slices.Sorted(maps.Keys(colSet))
	quoted := make([]string, len(cols))
	shared := make([]bool, len(cols))
	params := dbx.Params{}
	for i, c := range cols {
		quoted[i] = "[[" + c + "]]"
		first := full[0][c]
		shared[i] = true
		for _, row := range full[1:] {
			if !reflect.DeepEqual(row[c], first) {
				shared[i] = false
				break
			}
		}
		if shared[i] {
			params[fmt.Sprintf("c%d", i)] = first
		}
	}
	for start := 0; start < len(full); start += 200 {
		chunk := full[start:min(start+200, len(full))]
		tuples := make([]string, len(chunk))
		for r, row := range chunk {
			ph := make([]string, len(cols))
			for i, c := range cols {
				if shared[i] {
					ph[i] = fmt.Sprintf("{:c%d}", i)
					continue
				}
				name := fmt.Sprintf("r%dc%d", r, i)
				params[name] = row[c]
				ph[i] = "{:" + name + "}"
			}
			tuples[r] = "(" + strings.Join(ph, ", ") + ")"
		}
		sql := "INSERT INTO {{" + q.cfg.Collection + "}} (" + strings.Join(quoted, ", ") + ") VALUES " + strings.Join(tuples, ", ")
		if _, err := tx.DB().NewQuery(sql).Bind(params).Execute(); err != nil {
			return nil, fmt.Errorf("enqueue %s: %w", q.cfg.Collection, err)
		}
	}
	q.Wake(tx)
	return ids, nil
}

// newID is a record id (15 of [a-z0-9], as PocketBase's) that sorts by
// creation time: 9 base-36 digits of Unix milliseconds, 2 of a sequence
// within the millisecond, then 4 random ones. Random ids would put a write's
// jobs at random places of the primary-key index, each dirtying its own page
// for the commit to write; ids in time order land side by side at its end.
// Within one process they strictly increase, so rows written in one
// statement (a fan-out) keep their order wherever an index orders by id.
func newID() string {
	idMu.Lock()
	ms := time.Now().UnixMilli()
	if ms <= idLastMs {
		ms, idSeq = idLastMs, idSeq+1
		if idSeq >= 36*36 {
			ms, idSeq = ms+1, 0
		}
	} else {
		idSeq = 0
	}
	idLastMs = ms
	seq := idSeq
	idMu.Unlock()
	t := strconv.FormatInt(ms, 36)
	if len(t) < 9 {
		t = strings.Repeat("0", 9-len(t)) + t
	}
	n := strconv.FormatInt(int64(seq), 36)
	if len(n) < 2 {
		n = "0" + n
	}
	return t + n + security.RandomStringWithAlphabet(4, core.DefaultIdAlphabet)
}

var (
	idMu     sync.Mutex
	idLastMs int64
	idSeq    int
)

// NewID is a job id as Enqueue makes them (time-ordered; see newID), for a
// Feed that inserts rows itself.
func NewID() string { return newID() }

// RunNow makes the jobs due at once, whatever their status (a dead or done
// job runs again), and wakes the worker after app's transaction commits. A
// job running at this moment runs once more after it finishes. The attempt
// count is kept: a job that fails again is retried by the schedule from
// where it stood, or is dead again if the schedule was used up.
func (q *Queue) RunNow(app core.App, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	now := types.NowDateTime().String()
	for chunk := range slices.Chunk(ids, 500) {
		in := make([]any, len(chunk))
		for i, id := range chunk {
			in[i] = id
		}
		_, err := app.DB().Update(q.cfg.Collection,
			dbx.Params{"status": StatusPending, "nextAttemptAt": now, "updated": now},
			dbx.In("id", in...)).Execute()
		if err != nil {
			return fmt.Errorf("run %s now: %w", q.cfg.Collection, err)
		}
	}
	q.mu.Lock()
	for _, id := range ids {
		if _, ok := q.held[id]; ok {
			q.again[id] = struct{}{}
		}
	}
	q.mu.Unlock()
	q.Wake(app)
	return nil
}

// ---

// RetryAfter marks err as asking for the next attempt no sooner than d from
// now (an HTTP Retry-After); the schedule's delay applies if it is longer.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		err = errors.New("retry later")
	}
	return &retryAfterError{err: err, after: d}
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// Permanent marks err as final: the job is dead at once, without retries.
func Permanent(err error) error {
	if err == nil {
		err = errors.New("permanent failure")
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Outcome computes a job's next status and nextAttemptAt after its attempts-th
// attempt ended with err, at now. Exposed for tests and for callers that want
// to show when a job will run next.
func (c Config) Outcome(attempts int, err error, now time.Time) (status string, next time.Time) {
	if err == nil {
		return c.Done, time.Time{}
	}
	var perm *permanentError
	if errors.As(err, &perm) || attempts > len(c.Schedule) {
		return StatusDead, time.Time{}
	}
	delay := c.Schedule[attempts-1]
	if c.Jitter > 0 {
		delay += time.Duration((rand.Float64()*2 - 1) * c.Jitter * float64(delay))
	}
	var ra *retryAfterError
	if errors.As(err, &ra) && ra.after > delay {
		delay = ra.after
	}
	return StatusFailed, now.Add(delay)
}

// ---

// outcome is a finished handler run, to be recorded.
type outcome struct {
	job *core.Record
	err error
	key string
}

// Outcomes are written at most every flushEvery (or once flushMax wait):
// each write is a transaction on the site's single write connection, and a
// burst of fast jobs recorded one by one would queue the site's writers
// behind a commit per job. A crash before the write runs those jobs again
// (at least once, as with any crash between a job and its record).
const (
	flushEvery = 250 * time.Millisecond
	flushMax   = 256
)

// scanGap spaces the scans for due rows: a wake-up comes with every commit
// that enqueues, and a busy site commits hundreds a second; one scan picks
// up all the rows committed since the last.
const scanGap = 20 * time.Millisecond

// slotGap spaces the scans that follow a finished job while the site is
// quiet: a backlog (a receiver that was down) drains at the speed of the
// targets, not one scan window per scanGap, while a burst of jobs finishing
// together still costs one scan. While writes that enqueue keep coming (a
// wake-up within busyFor), the scans stay scanGap apart whatever finishes:
// the worker then takes a bounded share of the CPU and of the write lock
// from the writers, and catches up once they pause.
const (
	slotGap = 2 * time.Millisecond
	busyFor = 250 * time.Millisecond
)

// feedEvery spaces the Feed calls while the queue has a backlog (due rows
// waiting for a slot): what Feed adds would queue behind them anyway, and
// each Feed with work is a transaction the site's writers wait behind.
// Without a backlog Feed runs on every pass, so new work starts at once.
const feedEvery = 250 * time.Millisecond

// loop is the worker: it starts handlers for due rows in free slots, writes
// finished outcomes in batches, and sleeps until woken, a slot frees, a
// batch is due, or the earliest due row.
func (q *Queue) loop(ctx context.Context, stopped chan struct{}) {
	defer close(stopped)
	results := make(chan outcome, q.cfg.Workers)
	timer := time.NewTimer(0)
	defer timer.Stop()
	var unflushed []outcome
	var firstUnflushed, lastScan, lastFeed time.Time
	gapNext := scanGap
	for {
		if gap := gapNext - time.Since(lastScan); gap > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(gap):
			}
		}
		lastScan, gapNext = time.Now(), scanGap
		if q.cfg.Feed != nil && ctx.Err() == nil && (!q.backlog || time.Since(lastFeed) >= feedEvery) {
			lastFeed = time.Now()
			if err := q.cfg.Feed(ctx); err != nil && ctx.Err() == nil {
				q.cfg.Logf("jobs %s: feed: %v", q.cfg.Collection, err)
			}
		}
		next := q.dispatch(ctx, results)
		wait := q.cfg.Poll
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 0))
		}
		if len(unflushed) > 0 {
			wait = min(wait, max(time.Until(firstUnflushed.Add(flushEvery)), 0))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			// let the running handlers see the cancellation and finish, then
			// write what completed: results has room for every handler, so
			// none blocks on sending
			q.handlers.Wait()
			for more := true; more; {
				select {
				case r := <-results:
					q.release(r)
					unflushed = append(unflushed, r)
				default:
					more = false
				}
			}
			q.record(ctx, unflushed)
			return
		case r := <-results:
			if time.Since(time.Unix(0, q.lastWake.Load())) > busyFor {
				gapNext = slotGap
			}
			if len(unflushed) == 0 {
				firstUnflushed = time.Now()
			}
			q.release(r)
			unflushed = append(unflushed, r)
			for more := true; more; {
				select {
				case r := <-results:
					q.release(r)
					unflushed = append(unflushed, r)
				default:
					more = false
				}
			}
		case <-q.wake:
		case <-timer.C:
		}
		if len(unflushed) > 0 && (len(unflushed) >= flushMax || time.Since(firstUnflushed) >= flushEvery) {
			q.record(ctx, unflushed)
			unflushed = nil
		}
	}
}

// release frees a finished job's slot and key; the job stays held (not run
// again) until its outcome is written.
func (q *Queue) release(r outcome) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.busy--
	if q.cfg.KeyField != "" {
		if q.busyKeys[r.key]--; q.busyKeys[r.key] <= 0 {
			delete(q.busyKeys, r.key)
		}
	}
}

// exclusions are the ids the scans must skip (held) and the keys whose job
// is running.
func (q *Queue) exclusions() (ids, keys []any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ids = make([]any, 0, len(q.held))
	for id := range q.held {
		ids = append(ids, id)
	}
	keys = make([]any, 0, len(q.busyKeys))
	for k := range q.busyKeys {
		keys = append(keys, k)
	}
	return ids, keys
}

// dispatch starts handlers for due rows while slots are free and returns
// when the earliest not-yet-due row becomes due (zero if none is known).
func (q *Queue) dispatch(ctx context.Context, results chan<- outcome) time.Time {
	for {
		q.mu.Lock()
		free := q.cfg.Workers - q.busy
		q.mu.Unlock()
		if free <= 0 || ctx.Err() != nil {
			q.backlog = true // not known; assume the worst (a full worker is busy)
			return time.Time{}
		}
		skipIDs, skipKeys := q.exclusions()

		// the candidates' ids and keys first (cheap columns, off the index),
		// then only the chosen rows loaded whole
		cands, err := q.candidates(free*4, skipIDs, skipKeys)
		if err != nil {
			q.cfg.Logf("jobs %s: find due jobs: %v", q.cfg.Collection, err)
			return time.Now().Add(time.Second)
		}
		var chosen []any
		skipped := false
		picked := map[string]bool{}
		for _, c := range cands {
			if len(chosen) >= free {
				skipped = true
				break
			}
			if q.cfg.KeyField != "" {
				if picked[c.Key] {
					skipped = true
					continue
				}
				picked[c.Key] = true
			}
			chosen = append(chosen, c.ID)
		}
		var due []*core.Record
		if len(chosen) > 0 {
			if err := q.app.RecordQuery(q.cfg.Collection).Where(dbx.In("id", chosen...)).All(&due); err != nil {
				q.cfg.Logf("jobs %s: load due jobs: %v", q.cfg.Collection, err)
				return time.Now().Add(time.Second)
			}
		}

		started := 0
		q.mu.Lock()
		for _, job := range due {
			key := ""
			if q.cfg.KeyField != "" {
				key = job.GetString(q.cfg.KeyField)
				if q.busyKeys[key] > 0 {
					continue
				}
				q.busyKeys[key]++
			}
			q.held[job.Id] = struct{}{}
			q.busy++
			started++
			q.handlers.Add(1)
			go q.run(ctx, job, key, results)
		}
		q.mu.Unlock()

		// rows of a key that just became busy may have hidden other due rows
		// from this window: look again while slots are free
		if started > 0 && (skipped || len(cands) == free*4) {
			continue
		}
		next := q.nextDue()
		q.backlog = !next.IsZero() && !next.After(time.Now())
		return next
	}
}

type candidate struct {
	ID  string `db:"id"`
	Key string `db:"key"`
	At  string `db:"at"`
}

// waiting is the query of the waiting rows of one status (not held, of a
// free key) in the order of the status's index — (status, nextAttemptAt…):
// one status at a time, ordered by nextAttemptAt alone, SQLite walks the
// index and stops at the limit, where "status IN (…)" or a tie-break column
// outside the index would sort every waiting row on each scan (a slow
// receiver's backlog of thousands, scanned after each finished job).
// Rows due at the same moment come in the index's order (the key, then the
// id, for the webhooks' index), which keeps each key's rows in id order.
func (q *Queue) waiting(status string, skipIDs, skipKeys []any) *dbx.SelectQuery {
	keyCol := "''"
	if q.cfg.KeyField != "" {
		keyCol = "[[" + q.cfg.KeyField + "]]"
	}
	query := q.app.DB().Select("id", keyCol+" AS [[key]]", "nextAttemptAt AS [[at]]").From(q.cfg.Collection).
		Where(dbx.HashExp{"status": status}).
		OrderBy("nextAttemptAt")
	if len(skipIDs) > 0 {
		query.AndWhere(dbx.NotIn("id", skipIDs...))
	}
	if q.cfg.KeyField != "" && len(skipKeys) > 0 {
		query.AndWhere(dbx.NotIn(q.cfg.KeyField, skipKeys...))
	}
	return query
}

// candidates are up to limit due rows, earliest first.
func (q *Queue) candidates(limit int, skipIDs, skipKeys []any) ([]candidate, error) {
	now := types.NowDateTime().String()
	var all []candidate
	for _, status := range []string{StatusPending, StatusFailed} {
		var cands []candidate
		err := q.waiting(status, skipIDs, skipKeys).
			AndWhere(dbx.NewExp("[[nextAttemptAt]] <= {:now}", dbx.Params{"now": now})).
			Limit(int64(limit)).All(&cands)
		if err != nil {
			return nil, err
		}
		all = append(all, cands...)
	}
	slices.SortStableFunc(all, func(a, b candidate) int { return strings.Compare(a.At, b.At) })
	return all[:min(len(all), limit)], nil
}

// nextDue is the earliest nextAttemptAt of the waiting rows (pending or
// failed, not held, of a free key), or zero if there is none.
func (q *Queue) nextDue() time.Time {
	skipIDs, skipKeys := q.exclusions()
	// a busy key's rows run when its job finishes, which wakes the loop
	var first string
	for _, status := range []string{StatusPending, StatusFailed} {
		var at []string
		if err := q.waiting(status, skipIDs, skipKeys).Select("nextAttemptAt").Limit(1).Column(&at); err != nil {
			return time.Time{}
		}
		if len(at) == 1 && at[0] != "" && (first == "" || at[0] < first) {
			first = at[0]
		}
	}
	if first == "" {
		return time.Time{}
	}
	t, err := types.ParseDateTime(first)
	if err != nil {
		return time.Time{}
	}
	return t.Time()
}

func (q *Queue) run(ctx context.Context, job *core.Record, key string, results chan<- outcome) {
	defer q.handlers.Done()
	err := q.safeHandle(ctx, job)
	results <- outcome{job: job, err: err, key: key}
}

func (q *Queue) safeHandle(ctx context.Context, job *core.Record) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return q.cfg.Handle(ctx, q.app, job)
}

// record writes a batch of outcomes in one transaction, one UPDATE per job
// with status, attempts, nextAttemptAt, updated and the fields the handler
// changed (plain UPDATEs: the collection's record hooks and realtime events
// do not run for outcomes), then lets the jobs be picked again.
// Once the queue is stopping (ctx cancelled), a failure is not recorded: the
// handler was most likely cut short by the stop, and the row stays due for
// the next start.
func (q *Queue) record(ctx context.Context, batch []outcome) {
	if len(batch) == 0 {
		return
	}
	now := time.Now()
	q.mu.Lock()
	rerun := map[string]bool{}
	for _, r := range batch {
		if _, ok := q.again[r.job.Id]; ok {
			rerun[r.job.Id] = true
			delete(q.again, r.job.Id)
		}
	}
	q.mu.Unlock()

	err := q.app.RunInTransaction(func(tx core.App) error {
		for _, r := range batch {
			if r.err != nil && ctx.Err() != nil {
				continue
			}
			attempts := r.job.GetInt("attempts") + 1
			status, next := q.cfg.Outcome(attempts, r.err, now)
			if rerun[r.job.Id] {
				status, next = StatusPending, now
			}
			row, err := changedColumns(tx, r.job)
			if err != nil {
				return fmt.Errorf("record job %q: %w", r.job.Id, err)
			}
			row["attempts"] = attempts
			row["status"] = status
			row["nextAttemptAt"] = ""
			if !next.IsZero() {
				dt, _ := types.ParseDateTime(next.UTC())
				row["nextAttemptAt"] = dt.String()
			}
			row["updated"] = types.NowDateTime().String()
			if _, err := tx.DB().Update(q.cfg.Collection, row, dbx.HashExp{"id": r.job.Id}).Execute(); err != nil {
				return fmt.Errorf("record job %q: %w", r.job.Id, err)
			}
			if q.cfg.Recorded != nil {
				if err := q.cfg.Recorded(tx, r.job, Attempt{N: attempts, Status: status, Next: next, Err: r.err}); err != nil {
					return fmt.Errorf("record job %q: %w", r.job.Id, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		q.cfg.Logf("jobs %s: %v", q.cfg.Collection, err)
	}

	q.mu.Lock()
	for _, r := range batch {
		delete(q.held, r.job.Id)
	}
	q.mu.Unlock()
	if err != nil {
		// the rows are still due as they were: retried after a pause rather
		// than at once, so a failing database isn't hammered
		time.Sleep(100 * time.Millisecond)
	}
}

// changedColumns is the stored value of every field of job that differs
// from the row as loaded (what the handler set), exported field by field
// (the rest of the row, a webhook's payload among it, is not re-encoded).
func changedColumns(app core.App, job *core.Record) (dbx.Params, error) {
	row := dbx.Params{}
	orig := job.Original()
	for _, f := range job.Collection().Fields {
		name := f.GetName()
		switch name {
		case "id", "status", "attempts", "nextAttemptAt", "created", "updated":
			continue
		}
		v := job.GetRaw(name)
		if reflect.DeepEqual(orig.GetRaw(name), v) {
			continue
		}
		if dv, ok := f.(core.DriverValuer); ok {
			var err error
			if v, err = dv.DriverValue(job); err != nil {
				return nil, fmt.Errorf("export %s: %w", name, err)
			}
		}
		row[name] = v
	}
	return row, nil
}
