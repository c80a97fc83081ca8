package search_test

import (
	"fmt"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/search"
	"lectern/internal/testkit"
)

// Weather posts, indexed oldest first (index rowids follow the writes):
// an old published post with "nimbus" in its title, six published posts
// with it in the body only, then six newer drafts with it and "virga", a
// word no published post holds.
var (
	weatherTitled = "pwtitled0000001"
	weatherBody   = func(i int) string { return fmt.Sprintf("pwbody%09d", i) }
	weatherDraft  = func(i int) string { return fmt.Sprintf("pwdraft%08d", i) }
)

const weatherPosts = 6

func weatherApp(t testing.TB) *tests.TestApp {
	app := newApp(t)
	col, err := app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	save := func(id, title, body, status string) {
		r := core.NewRecord(col)
		r.Id = id
		r.Load(map[string]any{"title": title, "body": body, "author": testkit.UserAuthor, "status": status})
		require.NoError(t, app.Save(r))
	}
	save(weatherTitled, "Nimbus at dawn", "<p>Grey skies over the hills.</p>", "published")
	for i := range weatherPosts {
		save(weatherBody(i), fmt.Sprintf("Weather log %d", i), "<p>A nimbus rolled in before noon.</p>", "published")
	}
	for i := range weatherPosts {
		save(weatherDraft(i), fmt.Sprintf("Draft log %d", i), "<p>A nimbus with virga trailing below.</p>", "draft")
	}
	return app
}

// bounded sets a small ranking bound for one test: more than 3 matches of a
// collection are ranked from 4 candidates.
func bounded(t *testing.T) {
	limit, cands := search.RankLimit, search.RankCandidates
	search.RankLimit, search.RankCandidates = 3, 4
	t.Cleanup(func() { search.RankLimit, search.RankCandidates = limit, cands })
}

func weatherOK(name, identity, u string, check func(t testing.TB, r result)) tests.ApiScenario {
	s := ok(name, identity, u, check)
	s.TestAppFactory = weatherApp
	return s
}

// TestBoundedRanking: past RankLimit matches only the newest listable ones
// and the title matches are ranked, the rest follow newest first; every
// result is still one the caller may list, the order is total and paging
// stable, and the answer says it is approximate.
func TestBoundedRanking(t *testing.T) {
	bounded(t)
	published := []string{weatherTitled}
	for i := range weatherPosts {
		published = append(published, weatherBody(i))
	}
	var all, paged []string
	scenarios := []tests.ApiScenario{
		weatherOK("guest searching a word in more posts than are ranked", testkit.Guest, searchURL("q", "nimbus", "perPage", "100"),
			func(t testing.TB, r result) {
				wantIDs(published...)(t, r)
				assert.True(t, r.ApproximateRanking)
				assert.False(t, r.Approximate, "the count is exact below CountCap")
				assert.Equal(t, len(published), r.Facets.Type["posts"], "the count is exact below CountCap")
				all = r.ids()
				require.Len(t, all, len(published))
				assert.Equal(t, weatherTitled, all[0], "an old title match is a candidate and ranks first")
				// Candidates: the newest four published posts (3, 4, 5 and 6)
				// and the title match; after them the older ones, newest first.
				assert.ElementsMatch(t, []string{weatherBody(2), weatherBody(3), weatherBody(4), weatherBody(5)}, all[1:5])
				assert.Equal(t, []string{weatherBody(1), weatherBody(0)}, all[5:])
				for i := 2; i < 5; i++ {
					a, b := r.Items[i-1], r.Items[i]
					assert.True(t, a.Score > b.Score || (a.Score == b.Score && a.ID < b.ID), "%s before %s", a.ID, b.ID)
				}
			}),
	}
	for page := 1; page <= 4; page++ {
		scenarios = append(scenarios, weatherOK(fmt.Sprintf("guest reading page %d of 4", page), testkit.Guest,
			searchURL("q", "nimbus", "perPage", "2", "page", fmt.Sprint(page)),
			func(t testing.TB, r result) {
				assert.True(t, r.ApproximateRanking)
				assert.Equal(t, 4, r.TotalPages)
				paged = append(paged, r.ids()...)
			}))
	}
	scenarios = append(scenarios,
		weatherOK("the drafts' author gets the drafts too, ranked by the same bound", testkit.Author, searchURL("q", "nimbus", "perPage", "100"),
			func(t testing.TB, r result) {
				assert.True(t, r.ApproximateRanking)
				assert.Equal(t, len(published)+weatherPosts, r.TotalItems)
				assert.Len(t, r.Items, len(published)+weatherPosts)
				assert.Equal(t, weatherTitled, r.Items[0].ID)
			}),
		weatherOK("a word under the bound is ranked exactly", testkit.Guest, searchURL("q", "dawn"),
			func(t testing.TB, r result) {
				wantIDs(weatherTitled)(t, r)
				assert.False(t, r.Approximate)
				assert.False(t, r.ApproximateRanking)
			}),
	)
	run(t, scenarios)
	assert.Equal(t, all, paged, "pages concatenate to the single-page order")
}

// TestBoundedRankingNeverLeaks: a word found only in drafts, more of them
// than the bound, appears for nobody else — in items, counts, facets or a
// correction.
func TestBoundedRankingNeverLeaks(t *testing.T) {
	bounded(t)
	nothing := func(t testing.TB, r result) {
		assert.Equal(t, 0, r.TotalItems)
		assert.Empty(t, r.Items)
		assert.Nil(t, r.CorrectedQuery)
		assert.False(t, r.Approximate, "not even that the hidden matches are many")
		assert.False(t, r.ApproximateRanking, "not even that the hidden matches are many")
		for k, n := range r.Facets.Type {
			assert.Zero(t, n, k)
		}
	}
	drafts := make([]string, weatherPosts)
	for i := range drafts {
		drafts[i] = weatherDraft(i)
	}
	run(t, []tests.ApiScenario{
		weatherOK("guest searching a draft-only word", testkit.Guest, searchURL("q", "virga"), nothing),
		weatherOK("another author searching it", testkit.Author2, searchURL("q", "virga"), nothing),
		weatherOK("a student misspelling it gets no correction", testkit.Student, searchURL("q", "virgs"), nothing),
		weatherOK("guest searching it with a published word", testkit.Guest, searchURL("q", "nimbus virga"), nothing),
		weatherOK("the author finds every draft", testkit.Author, searchURL("q", "virga"),
			func(t testing.TB, r result) {
				wantIDs(drafts...)(t, r)
				assert.True(t, r.ApproximateRanking)
				ids := r.ids()
				for i := 1; i < 4; i++ {
					a, b := r.Items[i-1], r.Items[i]
					assert.True(t, a.Score > b.Score || (a.Score == b.Score && a.ID < b.ID), "candidates by score, then id: %v", ids)
				}
				assert.Equal(t, []string{weatherDraft(1), weatherDraft(0)}, ids[4:], "then the older drafts, newest first")
			}),
	})
}

// TestCourseFacetsAreCapped: the course groups behind the facets stop at
// CountCap like the other counts, and say so.
func TestCourseFacetsAreCapped(t *testing.T) {
	defer func(n int) { search.CountCap = n }(search.CountCap)
	search.CountCap = 2
	run(t, []tests.ApiScenario{
		ok("guest searching a word in more courses than are counted", testkit.Guest, searchURL("q", "terraform"),
			func(t testing.TB, r result) {
				assert.True(t, r.Approximate)
				assert.Equal(t, 2, r.Facets.Type["courses"], "a lower bound")
				modes := 0
				for _, n := range r.Facets.Mode {
					modes += n
				}
				assert.Equal(t, 2, modes)
				for _, it := range r.Items {
					assert.NotEqual(t, CourseTfDraft, it.ID)
				}
			}),
	})
}
