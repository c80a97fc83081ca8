package search_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/search"
)

// segments counts the index's b-tree segments: FTS5 numbers each page of
// _search_fts_data by its segment id << 37 (ids from 2^16 up are tombstone
// pages, not segments).
func segments(t testing.TB, app core.App) int {
	t.Helper()
	var n int
	require.NoError(t, app.DB().NewQuery(`SELECT COUNT(DISTINCT id >> 37) FROM _search_fts_data WHERE id >> 37 BETWEEN 1 AND 65535`).Row(&n))
	return n
}

func ftsConfig(t testing.TB, app core.App, key string) int {
	t.Helper()
	var v int
	require.NoError(t, app.DB().NewQuery(`SELECT v FROM _search_fts_config WHERE k = '`+key+`'`).Row(&v))
	return v
}

// savePosts saves n posts, each in its own transaction (so each commits its
// own segment), the i-th with the word "mergeword<i%3>" in its body, and
// deletes the first one.
func savePosts(t testing.TB, app core.App, n int) {
	t.Helper()
	var first *core.Record
	for i := range n {
		p := newPost(t, app, map[string]any{"title": fmt.Sprintf("Segment %d", i), "body": fmt.Sprintf("<p>mergeword%d filler</p>", i%3)})
		require.NoError(t, app.Save(p))
		if first == nil {
			first = p
		}
	}
	require.NoError(t, app.Delete(first)) // a mergeword0
}

// assertMergeWords checks the index still finds what savePosts(…, 25) left.
func assertMergeWords(t testing.TB, app core.App) {
	t.Helper()
	assert.Equal(t, 8, matches(t, app, `"mergeword0"`))
	assert.Equal(t, 8, matches(t, app, `"mergeword1"`))
	assert.Equal(t, 8, matches(t, app, `"mergeword2"`))
	assert.Equal(t, 24, matches(t, app, `title:"segment"`))
}

// mergedApp is newApp with the fixture's own segments merged (the fixture is
// written with automerge off too), so that 25 more writes stay below
// crisismerge (32) on level 0.
func mergedApp(t testing.TB) *tests.TestApp {
	app := newApp(t)
	_, err := search.Merge(app)
	require.NoError(t, err)
	return app
}

func TestWritesDoNotMergeAndAutomergeStaysOffAfterReindex(t *testing.T) {
	app := mergedApp(t)
	defer app.Cleanup()

	assert.Equal(t, 0, ftsConfig(t, app, "automerge"), "set by the migration")
	before := segments(t, app)
	savePosts(t, app, 25)
	// With automerge on, FTS5 would have merged these as they were written.
	assert.GreaterOrEqual(t, segments(t, app)-before, 25, "one segment per write, none merged on the write path")

	cmd := search.NewReindexCommand(app)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, 1, segments(t, app), "reindex ends with an optimize")
	assert.Equal(t, 0, ftsConfig(t, app, "automerge"), "reindex keeps the setting")
	assert.Equal(t, 32, ftsConfig(t, app, "crisismerge"))
}

func TestMergeMergesSegmentsAndKeepsResults(t *testing.T) {
	app := mergedApp(t)
	defer app.Cleanup()

	savePosts(t, app, 25)
	unmerged := segments(t, app)
	require.GreaterOrEqual(t, unmerged, 25)
	assertMergeWords(t, app)

	steps, err := search.Merge(app)
	require.NoError(t, err)
	assert.Positive(t, steps)
	merged := segments(t, app)
	// usermerge 4: at most 3 segments left per level, a handful of levels.
	assert.LessOrEqual(t, merged, 9, "from %d segments", unmerged)
	assertMergeWords(t, app)

	steps, err = search.Merge(app)
	require.NoError(t, err)
	assert.Zero(t, steps, "nothing written since: nothing to merge")
}

func TestBackgroundMergerRunsAfterWrites(t *testing.T) {
	app := newApp(t)
	defer app.Cleanup()
	search.RestartMerger(app, 20*time.Millisecond)

	savePosts(t, app, 25)
	require.Eventually(t, func() bool { return segments(t, app) <= 9 }, 10*time.Second, 20*time.Millisecond,
		"segments left: %d", segments(t, app))
	assertMergeWords(t, app)
}
