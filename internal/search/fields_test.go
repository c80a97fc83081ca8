package search_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/search"
	"lectern/internal/testkit"
)

// rawItems decodes an answer's hits as plain objects, to see which keys they
// carry.
func rawItems(t testing.TB, res *http.Response) (map[string]any, []map[string]any) {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	var items []map[string]any
	for _, it := range body["items"].([]any) {
		items = append(items, it.(map[string]any))
	}
	return body, items
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// raw is a 200 scenario whose answer check reads as plain JSON.
func raw(name, identity, u string, check func(t testing.TB, body map[string]any, items []map[string]any)) tests.ApiScenario {
	return tests.ApiScenario{
		Name:            name,
		Method:          http.MethodGet,
		URL:             u,
		Headers:         fixture.Headers(identity),
		ExpectedStatus:  200,
		ExpectedContent: []string{`"items":`},
		TestAppFactory:  newApp,
		AfterTestFunc: func(t testing.TB, _ *tests.TestApp, res *http.Response) {
			body, items := rawItems(t, res)
			check(t, body, items)
		},
	}
}

func TestSearchHitFields(t *testing.T) {
	run(t, []tests.ApiScenario{
		raw("guest without fields gets slim hits: no body, the results page's fields", testkit.Guest, searchURL("q", "kubernetes"),
			func(t testing.TB, _ map[string]any, items []map[string]any) {
				require.Len(t, items, 3)
				for _, it := range items {
					assert.Equal(t, []string{"id", "record", "score", "snippet", "type"}, keys(it))
					rec := it["record"].(map[string]any)
					assert.NotContains(t, rec, "body", "a post's body is not in a slim hit")
					assert.NotContains(t, rec, "description", "nor a course's description")
					assert.Subset(t, search.SlimRecordFields(it["type"].(string)), keys(rec), "only slim fields")
					assert.Equal(t, it["id"], rec["id"])
					assert.NotEmpty(t, rec["title"])
					assert.NotEmpty(t, rec["slug"])
					switch it["type"] {
					case "posts":
						for _, f := range []string{"excerpt", "publishedAt", "readingMinutes", "commentsCount", "author", "topics"} {
							assert.Contains(t, rec, f)
						}
					case "courses":
						for _, f := range []string{"summary", "mode", "level", "price", "currency", "ratingAvg", "ratingCount", "durationDays"} {
							assert.Contains(t, rec, f)
						}
					}
				}
			}),
		raw("guest asking for type, id and snippet gets those three keys", testkit.Guest, searchURL("q", "kubernetes", "fields", "type,id,snippet"),
			func(t testing.TB, body map[string]any, items []map[string]any) {
				require.Len(t, items, 3)
				for _, it := range items {
					assert.Equal(t, []string{"id", "snippet", "type"}, keys(it))
					assert.Contains(t, it["snippet"], "<mark>")
				}
				assert.EqualValues(t, 3, body["totalItems"], "fields shape the hits, never the totals")
				assert.Contains(t, body, "facets")
			}),
		raw("guest asking for * gets the whole record, body included", testkit.Guest, searchURL("q", "kubernetes", "type", "posts", "fields", "*"),
			func(t testing.TB, _ map[string]any, items []map[string]any) {
				require.Len(t, items, 2)
				for _, it := range items {
					assert.Equal(t, []string{"id", "record", "score", "snippet", "type"}, keys(it))
					assert.Contains(t, it["record"].(map[string]any)["body"], "<p>")
				}
			}),
		raw("guest asking for nested record fields", testkit.Guest, searchURL("q", "kubernetes", "type", "posts", "fields", "id,record.title,record.body:excerpt(20)"),
			func(t testing.TB, _ map[string]any, items []map[string]any) {
				require.Len(t, items, 2)
				for _, it := range items {
					assert.Equal(t, []string{"id", "record"}, keys(it))
					rec := it["record"].(map[string]any)
					assert.Equal(t, []string{"body", "title"}, keys(rec))
					assert.LessOrEqual(t, len([]rune(rec["body"].(string))), 21, "the excerpt modifier applies")
				}
			}),
		raw("guest asking for record.* and a snippet", testkit.Guest, searchURL("q", "kubernetes", "type", "courses", "fields", "snippet,record.*"),
			func(t testing.TB, _ map[string]any, items []map[string]any) {
				require.Len(t, items, 1)
				assert.Equal(t, []string{"record", "snippet"}, keys(items[0]))
				assert.Contains(t, items[0]["record"], "description")
			}),
		raw("expanded authors keep their emails hidden whatever fields ask", testkit.Guest,
			searchURL("q", "kubernetes", "type", "posts", "expand", "author", "fields", "record.expand.author.email,record.expand.author.name"),
			func(t testing.TB, _ map[string]any, items []map[string]any) {
				require.Len(t, items, 2)
				for _, it := range items {
					author := it["record"].(map[string]any)["expand"].(map[string]any)["author"].(map[string]any)
					assert.Equal(t, []string{"name"}, keys(author), "no email: the records API would not show it")
				}
			}),
		raw("a slim hit keeps the expand asked for", testkit.Guest, searchURL("q", "kubernetes", "type", "posts", "expand", "author"),
			func(t testing.TB, _ map[string]any, items []map[string]any) {
				for _, it := range items {
					author := it["record"].(map[string]any)["expand"].(map[string]any)["author"].(map[string]any)
					assert.NotEmpty(t, author["name"])
					assert.NotContains(t, author, "email")
				}
			}),
		bad("guest asking for the answer's keys as fields", searchURL("q", "kubernetes", "fields", "items.id"), "fields"),
		bad("guest asking for an unknown modifier", searchURL("q", "kubernetes", "fields", "record.title:upper"), "fields"),
		bad("guest asking for perPage 101", searchURL("q", "kubernetes", "perPage", "101"), "perPage"),
	})
}

// TestSearchHitsHideHiddenFields: a field the schema hides is in no hit for
// a non-superuser, whatever fields ask (the records API would not show it),
// nor does it feed their snippet; a superuser gets it as from the records API.
func TestSearchHitsHideHiddenFields(t *testing.T) {
	hideExcerpt := func(t testing.TB) *tests.TestApp {
		app := newApp(t)
		posts, err := app.FindCollectionByNameOrId("posts")
		require.NoError(t, err)
		posts.Fields.GetByName("excerpt").SetHidden(true)
		require.NoError(t, app.Save(posts))
		return app
	}
	scenario := func(name, identity string, check func(t testing.TB, items []map[string]any)) tests.ApiScenario {
		s := raw(name, identity, searchURL("q", "kubernetes", "type", "posts", "fields", "*,record.excerpt"),
			func(t testing.TB, _ map[string]any, items []map[string]any) { check(t, items) })
		s.TestAppFactory = hideExcerpt
		return s
	}
	run(t, []tests.ApiScenario{
		scenario("guest asking for a hidden field", testkit.Guest, func(t testing.TB, items []map[string]any) {
			require.NotEmpty(t, items)
			for _, it := range items {
				assert.NotContains(t, it["record"], "excerpt")
			}
		}),
		scenario("superuser asking for a hidden field", testkit.Superuser, func(t testing.TB, items []map[string]any) {
			require.NotEmpty(t, items)
			for _, it := range items {
				assert.Contains(t, it["record"], "excerpt")
			}
		}),
	})
}

// TestCorrectionPrefersTheNearSpellingOverTheFrequentStem is the issue's
// case: with "rules" in many published posts and "running" in one, "runing"
// is "running" (one edit as spelled), not "rules" (three; but "rule" and
// "run" are both one edit from its stem "rune").
func TestCorrectionPrefersTheNearSpellingOverTheFrequentStem(t *testing.T) {
	withRules := func(t testing.TB) *tests.TestApp {
		app := newApp(t)
		col, err := app.FindCollectionByNameOrId("posts")
		require.NoError(t, err)
		for i := range 6 {
			r := core.NewRecord(col)
			r.Load(map[string]any{"title": fmt.Sprintf("House rules %d", i), "body": "<p>The rules of the house.</p>",
				"author": testkit.UserAuthor, "status": "published"})
			require.NoError(t, app.Save(r))
		}
		return app
	}
	s := ok("guest misspelling running", testkit.Guest, searchURL("q", "runing"), func(t testing.TB, r result) {
		require.NotNil(t, r.CorrectedQuery)
		assert.Equal(t, "running", *r.CorrectedQuery)
		assert.ElementsMatch(t, []string{PostKube, PostRun}, r.ids(), "the results are those of run, not of rule")
	})
	s.TestAppFactory = withRules
	run(t, []tests.ApiScenario{s})
}
