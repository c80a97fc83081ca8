package realtime

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pocketbase/dbx"
)

// The subscription filter's query: after the rule check, PocketBase runs a
// subscription's `filter` (apis/realtime.go realtimeCanAccessRecord) as
//
//	app.ConcurrentDB().Select("(1)").From(<collection>).
//		AndWhere(id = <record>).AndWhere(<filter, resolved for the client>).
//		Limit(1).Row(&exists)
//
// on the app it was given, which for a create or update is the event's app.
// So eventApp.ConcurrentDB hands it a builder whose single-row queries are
// memoized for the event by their exact SQL text and bound values: the
// filter's SQL is built by PocketBase's resolver from the filter text and
// whatever of the request it reads (@request.auth.id, .role, @request.query
// …, all bound as values), so two clients share an answer only when the
// database is asked the very same question — a filter that does not read the
// client's identity is run once for everyone, `author = @request.auth.id`
// once per user. Like the rule memo, it relies on the broadcast writing
// nothing: within the event the same question has the same answer.

// queryMemo is one event's single-flight map of query results.
type queryMemo struct {
	mu    sync.Mutex
	calls map[string]*queryCall

	queries atomic.Int64 // queries that reached the database (for tests)
}

type queryCall struct {
	done chan struct{}
	res  *memoRows
	err  error
}

func newQueryMemo() *queryMemo { return &queryMemo{calls: map[string]*queryCall{}} }

// memoBuilder is the event's ConcurrentDB: the app's own, except that the
// queries of Select (a SelectQuery built on this builder) run through
// memoExecutor.
type memoBuilder struct {
	*dbx.DB
	memo *queryMemo
}

func (b *memoBuilder) Select(cols ...string) *dbx.SelectQuery {
	return dbx.NewSelectQuery(b, b.DB).Select(cols...)
}

func (b *memoBuilder) NewQuery(sql string) *dbx.Query {
	return dbx.NewQuery(b.DB, &memoExecutor{Executor: b.DB.DB(), memo: b.memo}, sql)
}

// memoExecutor answers a memoizable query from the event's memo and passes
// every other statement to the database.
type memoExecutor struct {
	dbx.Executor
	memo *queryMemo
}

func (e *memoExecutor) Query(query string, args ...any) (*sql.Rows, error) {
	return e.QueryContext(context.Background(), query, args...)
}

func (e *memoExecutor) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	key, ok := queryKey(query, args)
	if !ok {
		return e.Executor.QueryContext(ctx, query, args...)
	}
	res, err := e.memo.do(key, func() (*memoRows, error) {
		rows, err := e.Executor.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		return readRows(rows)
	})
	if err != nil {
		return nil, err
	}
	return replay(ctx, res)
}

// queryKey is the memo key of a query, or false when it must not be
// memoized: only a SELECT of at most one row (LIMIT 1, the filter check's
// shape) is, so that no result is held bigger than a row.
func queryKey(query string, args []any) (string, bool) {
	q := strings.TrimSpace(query)
	if !strings.HasPrefix(strings.ToUpper(q), "SELECT ") || !strings.HasSuffix(strings.ToUpper(q), " LIMIT 1") {
		return "", false
	}
	var b strings.Builder
	writeField(&b, "sql", q)
	for _, a := range args {
		if v, ok := a.(driver.Valuer); ok {
			var err error
			if a, err = v.Value(); err != nil {
				return "", false
			}
		}
		var s string
		switch v := a.(type) {
		case nil:
			s = "nil"
		case string:
			s = "s" + v
		case []byte:
			s = "b" + string(v)
		case int64, int, int32, float64, bool:
			s = fmt.Sprintf("%T%v", v, v)
		default:
			return "", false // a value of a kind it cannot tell apart for sure
		}
		writeField(&b, "arg", s)
	}
	return b.String(), true
}

// do returns the memoized result of key, running query once per key. An
// error is returned to those already waiting and forgotten (never kept).
func (m *queryMemo) do(key string, query func() (*memoRows, error)) (*memoRows, error) {
	m.mu.Lock()
	if c, ok := m.calls[key]; ok {
		m.mu.Unlock()
		<-c.done
		return c.res, c.err
	}
	c := &queryCall{done: make(chan struct{}), err: errPanicked}
	m.calls[key] = c
	m.mu.Unlock()
	defer func() {
		if c.err != nil {
			c.res = nil
			m.mu.Lock()
			delete(m.calls, key)
			m.mu.Unlock()
		}
		close(c.done)
	}()
	m.queries.Add(1)
	c.res, c.err = query()
	return c.res, c.err
}

// ---

// memoRows is a query's result held in memory.
type memoRows struct {
	columns []string
	rows    [][]driver.Value
}

func readRows(rows *sql.Rows) (*memoRows, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &memoRows{columns: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]driver.Value, len(cols))
		for i, v := range vals {
			row[i] = v // Scan into *any copies bytes: the row is ours
		}
		res.rows = append(res.rows, row)
	}
	return res, rows.Err()
}

// replayDB serves memoized results as *sql.Rows, which is what dbx reads a
// query's result from; its driver does no I/O.
var replayDB = func() *sql.DB {
	db := sql.OpenDB(replayConnector{})
	db.SetMaxIdleConns(64)
	return db
}()

func replay(ctx context.Context, res *memoRows) (*sql.Rows, error) {
	return replayDB.QueryContext(ctx, "replay", res)
}

type replayConnector struct{}

func (replayConnector) Connect(context.Context) (driver.Conn, error) { return replayConn{}, nil }
func (replayConnector) Driver() driver.Driver                        { return replayDriver{} }

type replayDriver struct{}

func (replayDriver) Open(string) (driver.Conn, error) { return replayConn{}, nil }

type replayConn struct{}

var errReplayOnly = errors.New("realtime: the replay connection only replays memoized rows")

func (replayConn) Prepare(string) (driver.Stmt, error) { return nil, errReplayOnly }
func (replayConn) Close() error                        { return nil }
func (replayConn) Begin() (driver.Tx, error)           { return nil, errReplayOnly }

// CheckNamedValue lets the memoized result through as the query's argument.
func (replayConn) CheckNamedValue(*driver.NamedValue) error { return nil }

func (replayConn) QueryContext(_ context.Context, _ string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) != 1 {
		return nil, errReplayOnly
	}
	res, ok := args[0].Value.(*memoRows)
	if !ok {
		return nil, errReplayOnly
	}
	return &replayRows{res: res}, nil
}

type replayRows struct {
	res *memoRows
	i   int
}

func (r *replayRows) Columns() []string { return r.res.columns }
func (r *replayRows) Close() error      { return nil }

func (r *replayRows) Next(dest []driver.Value) error {
	if r.i >= len(r.res.rows) {
		return io.EOF
	}
	copy(dest, r.res.rows[r.i])
	r.i++
	return nil
}
