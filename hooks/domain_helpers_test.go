package hooks_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Helpers shared by the domain tests (posts, comments, courses, lessons,
// enrollments, reviews, topics, publishing, concurrency, realtime).

// runScenarios runs API scenarios against a fresh clone of the fixture each.
func runScenarios(t *testing.T, scenarios []tests.ApiScenario) {
	t.Helper()
	for _, s := range scenarios {
		if s.TestAppFactory == nil {
			s.TestAppFactory = fixture.Factory
		}
		s.Test(t)
	}
}

// jsonBody encodes v as a request body.
func jsonBody(v any) io.Reader {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return bytes.NewReader(b)
}

// responseJSON decodes a scenario response body.
func responseJSON(t testing.TB, res *http.Response) map[string]any {
	t.Helper()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return out
}

// createdRecord loads the record a successful create response names.
func createdRecord(t testing.TB, app core.App, collection string, res *http.Response) *core.Record {
	t.Helper()
	id, _ := responseJSON(t, res)["id"].(string)
	require.NotEmpty(t, id, "response has no id")
	return findRecord(t, app, collection, id)
}

// findRecord loads a stored record or fails the test.
func findRecord(t testing.TB, app core.App, collection, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	require.NoError(t, err, "load %s %s", collection, id)
	return r
}

// recordGone asserts that a record is not stored.
func recordGone(t testing.TB, app core.App, collection, id string) {
	t.Helper()
	_, err := app.FindRecordById(collection, id)
	require.Error(t, err, "%s %s should be gone", collection, id)
}

// countRows counts the rows of a collection matching a filter.
func countRows(t testing.TB, app core.App, collection, filter string, params dbx.Params) int {
	t.Helper()
	n, err := app.CountRecords(collection, dbx.NewExp(filter, params))
	require.NoError(t, err)
	return int(n)
}

// newRecord saves a record through the app (every model hook applies).
func newRecord(t testing.TB, app core.App, collection string, data map[string]any) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(collection)
	require.NoError(t, err)
	r := core.NewRecord(c)
	r.Load(data)
	require.NoError(t, app.Save(r), "save %s %v", collection, data)
	return r
}

// updateRecord loads, changes and saves a record through the app.
func updateRecord(t testing.TB, app core.App, collection, id string, data map[string]any) *core.Record {
	t.Helper()
	r := findRecord(t, app, collection, id)
	r.Load(data)
	require.NoError(t, app.Save(r), "update %s %s %v", collection, id, data)
	return r
}

// Expected hook events of a write that was refused: createRefused and
// updateRefused when a model hook refused it before validation ran,
// createInvalid and updateInvalid when the field validation did. Either way
// the write rolled back and no success event (realtime among them) fired.
var (
	createRefused = map[string]int{
		"*":                        0,
		"OnRecordCreateRequest":    1,
		"OnModelCreate":            1,
		"OnRecordCreate":           1,
		"OnModelAfterCreateError":  1,
		"OnRecordAfterCreateError": 1,
	}
	createInvalid = withEvents(createRefused, "OnModelValidate", "OnRecordValidate")
	updateRefused = map[string]int{
		"*":                        0,
		"OnRecordUpdateRequest":    1,
		"OnModelUpdate":            1,
		"OnRecordUpdate":           1,
		"OnModelAfterUpdateError":  1,
		"OnRecordAfterUpdateError": 1,
	}
	updateInvalid = withEvents(updateRefused, "OnModelValidate", "OnRecordValidate")
	// requestRefused: a request hook answered before any model hook ran.
	requestRefused = func(event string) map[string]int { return map[string]int{"*": 0, event: 1} }
)

// withEvents returns a copy of events with each extra event expected once.
func withEvents(events map[string]int, extra ...string) map[string]int {
	out := make(map[string]int, len(events)+len(extra))
	for k, v := range events {
		out[k] = v
	}
	for _, e := range extra {
		out[e]++
	}
	return out
}

// hostileHTML is an editor body that exercises the sanitizer: what must go
// (script, event handler, javascript: URL, iframe, style) and what must stay
// (headings, lists, links, code, tables).
const hostileHTML = `<h2>Intro</h2><script>alert(1)</script>` +
	`<p onclick="alert(2)">Hello <img src="x.png" onerror="alert(3)"> <a href="javascript:alert(4)">bad</a></p>` +
	`<iframe src="https://evil.example"></iframe><p style="color:red">styled</p>` +
	`<ul><li>one</li><li>two</li></ul><ol><li>first</li></ol>` +
	`<p><a href="https://example.com/x">external</a> <a href="/courses">internal</a></p>` +
	`<pre><code class="language-go">fmt.Println("hi")</code></pre>` +
	`<table><thead><tr><th>k</th></tr></thead><tbody><tr><td>v</td></tr></tbody></table>`

// assertSanitized checks a stored editor field against hostileHTML's promises.
func assertSanitized(t testing.TB, stored string) {
	t.Helper()
	for _, bad := range []string{"<script", "alert(1)", "onclick", "onerror", "javascript:", "<iframe", "style="} {
		assert.NotContains(t, stored, bad)
	}
	for _, good := range []string{
		"<h2>Intro</h2>", "<ul><li>one</li><li>two</li></ul>", "<ol><li>first</li></ol>",
		`<a href="https://example.com/x" rel="noopener nofollow">external</a>`,
		`<a href="/courses">internal</a>`,
		`<pre><code class="language-go">`, "<table>", "<th>k</th>", "<td>v</td>",
	} {
		assert.Contains(t, stored, good)
	}
}

// failUpdatesOf makes every UPDATE of the table fail in the database itself,
// however the hooks write it (a record save or a targeted UPDATE): the
// failure a parent's counter refresh must take its child write down with.
func failUpdatesOf(t testing.TB, app core.App, table string) {
	t.Helper()
	_, err := app.DB().NewQuery("CREATE TRIGGER fail_update_" + table + " BEFORE UPDATE ON " + table +
		" BEGIN SELECT RAISE(ABORT, 'injected " + table + " update failure'); END").Execute()
	require.NoError(t, err)
}
