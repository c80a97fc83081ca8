package search_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/search"
	"lectern/internal/testkit"
)

// matches counts index rows matching a raw FTS5 expression.
func matches(t testing.TB, app core.App, match string) int {
	t.Helper()
	return matchesIn(t, app, "_search_fts", match) + matchesIn(t, app, "_search_hidden_fts", match)
}

// matchesIn counts the entries of one index (public or hidden) matching.
func matchesIn(t testing.TB, app core.App, table, match string) int {
	t.Helper()
	var n int
	require.NoError(t, app.DB().NewQuery(`SELECT COUNT(*) FROM `+table+` WHERE `+table+` MATCH {:m}`).
		Bind(dbx.Params{"m": match}).Row(&n))
	return n
}

func indexed(t testing.TB, app core.App, collection, id string) bool {
	t.Helper()
	var n int
	require.NoError(t, app.DB().NewQuery(`SELECT COUNT(*) FROM _search_docs WHERE collection = {:c} AND record = {:r}`).
		Bind(dbx.Params{"c": collection, "r": id}).Row(&n))
	return n == 1
}

func generation(t testing.TB, app core.App) int64 {
	t.Helper()
	var g int64
	require.NoError(t, app.DB().NewQuery(`SELECT value FROM _search_meta WHERE key = 'generation'`).Row(&g))
	return g
}

func newPost(t testing.TB, app core.App, data map[string]any) *core.Record {
	t.Helper()
	col, err := app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	r := core.NewRecord(col)
	r.Load(map[string]any{"author": testkit.UserAuthor, "status": "published"})
	r.Load(data)
	return r
}

func TestIndexFollowsWrites(t *testing.T) {
	app := newApp(t)
	defer app.Cleanup()

	p := newPost(t, app, map[string]any{"title": "Xylophone tuning", "body": "<p>Mallets &amp; <b>resonators</b></p>"})
	require.NoError(t, app.Save(p))
	assert.True(t, indexed(t, app, "posts", p.Id))
	assert.Equal(t, 1, matches(t, app, `"xylophone"`))
	assert.Equal(t, 1, matches(t, app, `"resonators"`), "the body's text is indexed, not its markup")
	assert.Equal(t, 0, matches(t, app, `"b"`))
	assert.Equal(t, 1, matches(t, app, `summary:"mallets"`), "the derived excerpt is indexed")

	p.Set("title", "Marimba tuning")
	require.NoError(t, app.Save(p))
	assert.Equal(t, 0, matches(t, app, `"xylophone"`))
	assert.Equal(t, 1, matches(t, app, `"marimba"`))

	require.NoError(t, app.Delete(p))
	assert.False(t, indexed(t, app, "posts", p.Id))
	assert.Equal(t, 0, matches(t, app, `"marimba"`))
}

func TestIndexSkipsSavesThatChangeNoIndexedField(t *testing.T) {
	app := newApp(t)
	defer app.Cleanup()

	p, err := app.FindRecordById("posts", testkit.PostDraft)
	require.NoError(t, err)
	require.Equal(t, 1, matchesIn(t, app, "_search_hidden_fts", `"secret"`), "a draft is in the hidden index")
	p.Set("status", "published")
	require.NoError(t, app.Save(p))
	assert.Equal(t, 1, matchesIn(t, app, "_search_fts", `"secret"`), "publishing moves the entry to the public index")
	assert.Equal(t, 0, matchesIn(t, app, "_search_hidden_fts", `"secret"`))
	before := generation(t, app)
	require.NoError(t, app.Save(p))
	assert.Equal(t, before, generation(t, app), "a save that changes neither text nor visibility does not touch the index")

	// A review recomputes its course's rating: the course is saved, not reindexed.
	k, err := app.FindRecordById("courses", testkit.CoursePublished)
	require.NoError(t, err)
	require.NoError(t, app.Save(k))
	assert.Equal(t, before, generation(t, app))

	p.Set("title", "Draft thoughts, revised")
	require.NoError(t, app.Save(p))
	assert.Equal(t, before+1, generation(t, app))
	assert.Equal(t, 1, matches(t, app, `"revised"`))
}

func TestIndexIsInTheSaveTransaction(t *testing.T) {
	app := newApp(t)
	defer app.Cleanup()
	docs := func() int {
		var n int
		require.NoError(t, app.DB().NewQuery(`SELECT COUNT(*) FROM _search_docs`).Row(&n))
		return n
	}
	before, gen := docs(), generation(t, app)

	// A transaction that fails after the save takes the index entry with it.
	boom := errors.New("boom")
	err := app.RunInTransaction(func(tx core.App) error {
		require.NoError(t, tx.Save(newPost(t, tx, map[string]any{"title": "Ephemeral xylophone"})))
		assert.Equal(t, 1, matches(t, tx, `"ephemeral"`), "visible inside the transaction")
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 0, matches(t, app, `"ephemeral"`))
	assert.Equal(t, before, docs())
	assert.Equal(t, gen, generation(t, app))

	// An update rolled back leaves the old words indexed.
	err = app.RunInTransaction(func(tx core.App) error {
		p, err := tx.FindRecordById("posts", testkit.PostPublished)
		require.NoError(t, err)
		p.Set("title", "Renamed zebra")
		require.NoError(t, tx.Save(p))
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 0, matches(t, app, `"zebra"`))
	assert.Equal(t, 1, matches(t, app, `title:"lectern"`))

	// A save that fails validation indexes nothing.
	require.Error(t, app.Save(newPost(t, app, map[string]any{"title": "xy"})))
	assert.Equal(t, before, docs())

	// A failing index write fails the save: the record is not stored either.
	_, err = app.DB().NewQuery(`DROP TABLE _search_fts`).Execute()
	require.NoError(t, err)
	p := newPost(t, app, map[string]any{"title": "Never stored"})
	require.Error(t, app.Save(p))
	_, err = app.FindRecordById("posts", p.Id)
	assert.Error(t, err, "the post was rolled back with its index entry")
}

func TestDeletingACourseUnindexesItsLessons(t *testing.T) {
	lessons := []string{LessonTfFree, LessonTfPaid, "lspaging0000000", "lspaging0000001", "lspaging0000002"}
	run(t, []tests.ApiScenario{{
		Name:           "instructor deleting a course removes its lessons from the index",
		Method:         http.MethodDelete,
		URL:            "/api/collections/courses/records/" + CourseTfBasics,
		Headers:        fixture.Headers(testkit.Instructor),
		ExpectedStatus: 204,
		TestAppFactory: newApp,
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
			for _, id := range lessons {
				require.True(t, indexed(t, app, "lessons", id))
			}
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			assert.False(t, indexed(t, app, "courses", CourseTfBasics))
			for _, id := range lessons {
				assert.False(t, indexed(t, app, "lessons", id), id)
			}
			assert.Equal(t, 0, matches(t, app, `"modules"`))
			assert.Equal(t, 0, matches(t, app, `"providers"`))
		},
	}})
}

func TestSearchAfterWritesThroughTheAPI(t *testing.T) {
	run(t, []tests.ApiScenario{
		{
			Name:            "author creating a post makes it searchable at once",
			Method:          http.MethodPost,
			URL:             "/api/collections/posts/records",
			Body:            bytes.NewBufferString(`{"title":"Vibraphone voicings","body":"<p>four mallets</p>","status":"published"}`),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"title":"Vibraphone voicings"`},
			TestAppFactory:  newApp,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, 1, matches(t, app, `"vibraphone" AND "mallets"`))
			},
		},
	})
}

// dump is the index's content by record: every (collection, record, column,
// offset, term) instance, sorted. Rowids differ between builds; this does not.
func dump(t testing.TB, app core.App) []string {
	t.Helper()
	// A temp table lives on one connection: use the single write connection.
	db := app.NonconcurrentDB()
	_, err := db.NewQuery(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_instances USING fts5vocab(main, _search_fts, instance)`).Execute()
	require.NoError(t, err)
	rows, err := db.NewQuery(`SELECT d.collection, d.record, v.col, v."offset", v.term
		FROM temp.search_instances v JOIN _search_docs d ON d.id = v.doc`).Rows()
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c, r, col, term string
		var off int
		require.NoError(t, rows.Scan(&c, &r, &col, &off, &term))
		out = append(out, fmt.Sprintf("%s/%s %s@%d %s", c, r, col, off, term))
	}
	sort.Strings(out)
	var docs []string
	require.NoError(t, app.DB().NewQuery(`SELECT collection || '/' || record FROM _search_docs ORDER BY 1`).Column(&docs))
	return append(out, docs...)
}

func TestReindexEqualsIncrementalState(t *testing.T) {
	app := newApp(t)
	defer app.Cleanup()

	// Writes of every kind, through the hooks.
	p := newPost(t, app, map[string]any{"title": "Glockenspiel basics", "body": "<p>bright <i>bells</i></p>"})
	require.NoError(t, app.Save(p))
	p.Set("body", "<p>bright steel bars</p>")
	require.NoError(t, app.Save(p))
	old, err := app.FindRecordById("posts", testkit.PostArchived)
	require.NoError(t, err)
	require.NoError(t, app.Delete(old))
	k, err := app.FindRecordById("courses", CourseTfScale)
	require.NoError(t, err)
	k.Set("description", "<p>Workspaces &amp; modules</p>")
	require.NoError(t, app.Save(k))
	l, err := app.FindRecordById("lessons", testkit.LessonPaid)
	require.NoError(t, err)
	l.Set("title", "Streams and pipes")
	require.NoError(t, app.Save(l))

	incremental := dump(t, app)
	require.NotEmpty(t, incremental)

	cmd := search.NewReindexCommand(app)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{})
	require.NoError(t, cmd.Execute())
	assert.Contains(t, out.String(), "Reindexed ")
	assert.Contains(t, out.String(), " posts")

	assert.Equal(t, incremental, dump(t, app))
	inSync, err := search.InSync(app)
	require.NoError(t, err)
	assert.True(t, inSync)
}

func TestIndexIsBuiltForExistingRecordsAtServe(t *testing.T) {
	run(t, []tests.ApiScenario{{
		Name:            "guest searching a data dir whose index was emptied",
		Method:          http.MethodGet,
		URL:             searchURL("q", "kubernetes"),
		ExpectedStatus:  200,
		ExpectedContent: []string{`"totalItems":3`},
		TestAppFactory: func(t testing.TB) *tests.TestApp {
			app := fixture.NewApp(t)
			for _, q := range []string{`DELETE FROM _search_docs`, `INSERT INTO _search_fts(_search_fts) VALUES ('delete-all')`} {
				_, err := app.DB().NewQuery(q).Execute()
				require.NoError(t, err)
			}
			search.Register(app) // OnServe notices and rebuilds
			return app
		},
	}})
}

// TestEntriesFollowWhoMayListThem: an entry sits in the public index exactly
// while a guest may list its record — publishing a course moves it and its
// free preview lesson there (the lesson's rule reads the course's status),
// unpublishing moves them back, and so does a lesson losing its preview.
func TestEntriesFollowWhoMayListThem(t *testing.T) {
	app := newApp(t)
	defer app.Cleanup()
	where := func(match string) string {
		pub, hid := matchesIn(t, app, "_search_fts", match), matchesIn(t, app, "_search_hidden_fts", match)
		switch {
		case pub == 1 && hid == 0:
			return "public"
		case pub == 0 && hid == 1:
			return "hidden"
		}
		return fmt.Sprintf("public %d, hidden %d", pub, hid)
	}
	require.Equal(t, "hidden", where(`"rust"`), "a draft course")
	require.Equal(t, "hidden", where(`"ownership"`), "the free preview of a draft course")

	k, err := app.FindRecordById("courses", testkit.CourseDraft)
	require.NoError(t, err)
	k.Set("status", "published")
	require.NoError(t, app.Save(k))
	assert.Equal(t, "public", where(`"rust"`))
	assert.Equal(t, "public", where(`"ownership"`), "its lesson follows the course")

	l, err := app.FindRecordById("lessons", testkit.LessonDraft)
	require.NoError(t, err)
	l.Set("freePreview", false)
	require.NoError(t, app.Save(l))
	assert.Equal(t, "hidden", where(`"ownership"`), "no longer a preview")
	l.Set("freePreview", true)
	require.NoError(t, app.Save(l))
	assert.Equal(t, "public", where(`"ownership"`))

	k.Set("status", "archived")
	require.NoError(t, app.Save(k))
	assert.Equal(t, "hidden", where(`"rust"`))
	assert.Equal(t, "hidden", where(`"ownership"`))

	// A rebuild puts every entry where the hooks did.
	_, err = search.Rebuild(app)
	require.NoError(t, err)
	assert.Equal(t, "hidden", where(`"rust"`))
	assert.Equal(t, "hidden", where(`"ownership"`))
	assert.Equal(t, "public", where(`"terraform" AND "basics"`))
}

// TestRecreatedIDMovesItsEntry: a record deleted behind the app's back
// (raw SQL) leaves its entry; re-creating the id as a draft replaces the
// entry and puts it in the hidden index, not beside the old one.
func TestRecreatedIDMovesItsEntry(t *testing.T) {
	app := newApp(t)
	defer app.Cleanup()
	p := newPost(t, app, map[string]any{"title": "Vanishing quokka", "status": "published"})
	require.NoError(t, app.Save(p))
	require.Equal(t, 1, matchesIn(t, app, "_search_fts", `"quokka"`))
	_, err := app.DB().NewQuery(`DELETE FROM posts WHERE id = {:id}`).Bind(dbx.Params{"id": p.Id}).Execute()
	require.NoError(t, err)

	again := newPost(t, app, map[string]any{"title": "Returning wombat", "status": "draft"})
	again.Id = p.Id
	require.NoError(t, app.Save(again))
	assert.Equal(t, 0, matches(t, app, `"quokka"`), "the old entry is gone")
	assert.Equal(t, 0, matchesIn(t, app, "_search_fts", `"wombat"`))
	assert.Equal(t, 1, matchesIn(t, app, "_search_hidden_fts", `"wombat"`))
}
