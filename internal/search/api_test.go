package search_test

import (
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/search"
	"lectern/internal/testkit"
)

func TestSearchMatching(t *testing.T) {
	run(t, []tests.ApiScenario{
		ok("guest searching one word finds it in titles and bodies", testkit.Guest, searchURL("q", "kubernetes"),
			func(t testing.TB, r result) {
				wantIDs(PostKube, PostKubeBody, testkit.CoursePublished2)(t, r)
				assert.Nil(t, r.CorrectedQuery, "no correction when the word is found")
			}),
		ok("title matches rank above body matches", testkit.Guest, searchURL("q", "kubernetes"),
			func(t testing.TB, r result) {
				require.Len(t, r.Items, 3)
				assert.Equal(t, PostKubeBody, r.Items[2].ID, "the body-only match comes last")
				assert.Greater(t, r.Items[0].Score, r.Items[2].Score)
				assert.GreaterOrEqual(t, r.Items[0].Score, r.Items[1].Score)
			}),
		ok("search is case and diacritic insensitive", testkit.Guest, searchURL("q", "KÜBERNETES"),
			wantIDs(PostKube, PostKubeBody, testkit.CoursePublished2)),
		ok("words are ANDed", testkit.Guest, searchURL("q", "kubernetes deployments"),
			wantIDs(PostKube, PostKubeBody)),
		ok("a stemmed form finds the others", testkit.Guest, searchURL("q", "running"),
			wantIDs(PostRun, PostKube)),
		ok("runs finds run and running too", testkit.Guest, searchURL("q", "runs"),
			wantIDs(PostRun, PostKube)),
		ok("a deleted letter is corrected", testkit.Guest, searchURL("q", "kuberntes"),
			func(t testing.TB, r result) {
				wantIDs(PostKube, PostKubeBody, testkit.CoursePublished2)(t, r)
				require.NotNil(t, r.CorrectedQuery)
				assert.Equal(t, "kubernetes", *r.CorrectedQuery)
			}),
		ok("a transposition is corrected", testkit.Guest, searchURL("q", "kubernetse"),
			func(t testing.TB, r result) {
				wantIDs(PostKube, PostKubeBody, testkit.CoursePublished2)(t, r)
				require.NotNil(t, r.CorrectedQuery)
				assert.Equal(t, "kubernetes", *r.CorrectedQuery)
			}),
		ok("only the misspelled word of several is corrected", testkit.Guest, searchURL("q", "kubernetse deployments"),
			func(t testing.TB, r result) {
				wantIDs(PostKube, PostKubeBody)(t, r)
				require.NotNil(t, r.CorrectedQuery)
				assert.Equal(t, "kubernetes deployments", *r.CorrectedQuery)
			}),
		ok("a short word is not corrected", testkit.Guest, searchURL("q", "podz"),
			func(t testing.TB, r result) {
				assert.Equal(t, 0, r.TotalItems)
				assert.Nil(t, r.CorrectedQuery)
			}),
		ok("a word with nothing near finds nothing", testkit.Guest, searchURL("q", "xylophonic"),
			func(t testing.TB, r result) {
				assert.Equal(t, 0, r.TotalItems)
				assert.Empty(t, r.Items)
				assert.Equal(t, 0, r.TotalPages)
				assert.Nil(t, r.CorrectedQuery)
			}),
		ok("snippets mark the matched words and escape the rest", testkit.Guest, searchURL("q", "kubernetes"),
			func(t testing.TB, r result) {
				for _, it := range r.Items {
					assert.Contains(t, it.Snippet, "<mark>", it.ID)
					switch it.ID {
					case PostKube:
						assert.Equal(t, "Running a <mark>Kubernetes</mark> cluster", it.Snippet)
					case PostKubeBody:
						assert.Contains(t, it.Snippet, "on <mark>kubernetes</mark>.")
						assert.True(t, strings.HasPrefix(it.Snippet, "…"), it.Snippet)
					}
				}
			}),
		ok("records are what the list API returns", testkit.Guest, searchURL("q", "kubernetes", "expand", "author"),
			func(t testing.TB, r result) {
				for _, it := range r.Items {
					assert.Equal(t, it.ID, it.Record["id"])
					assert.Equal(t, it.Type, it.Record["collectionName"])
					if it.Type == "posts" {
						author := it.Record["expand"].(map[string]any)["author"].(map[string]any)
						assert.NotContains(t, author, "email", "emails stay hidden")
						assert.NotEmpty(t, author["name"])
					}
				}
			}),
	})
}

func TestSearchTypesAndPaging(t *testing.T) {
	run(t, []tests.ApiScenario{
		ok("type narrows the results but not the type facet", testkit.Guest, searchURL("q", "kubernetes", "type", "posts"),
			func(t testing.TB, r result) {
				wantIDs(PostKube, PostKubeBody)(t, r)
				assert.Equal(t, map[string]int{"posts": 2, "courses": 1, "lessons": 0}, r.Facets.Type)
			}),
		ok("type courses", testkit.Guest, searchURL("q", "kubernetes", "type", "courses"),
			wantIDs(testkit.CoursePublished2)),
		ok("type lessons", testkit.Guest, searchURL("q", "pagination", "type", "lessons"),
			func(t testing.TB, r result) {
				assert.Equal(t, 3, r.TotalItems)
				for _, it := range r.Items {
					assert.Equal(t, "lessons", it.Type)
				}
			}),
		ok("default page size is 20", testkit.Guest, searchURL("q", "pagination"),
			func(t testing.TB, r result) {
				assert.Equal(t, 1, r.Page)
				assert.Equal(t, 20, r.PerPage)
				assert.Equal(t, pagingPosts+3, r.TotalItems)
				assert.Len(t, r.Items, pagingPosts+3)
			}),
		ok("perPage 100 is the most", testkit.Guest, searchURL("q", "pagination", "perPage", "100"),
			func(t testing.TB, r result) { assert.Equal(t, 100, r.PerPage) }),
		ok("a page past the end is empty", testkit.Guest, searchURL("q", "pagination", "page", "9"),
			func(t testing.TB, r result) {
				assert.Empty(t, r.Items)
				assert.Equal(t, pagingPosts+3, r.TotalItems)
			}),
	})
}

// TestSearchStablePaging pages through a merged result of equal scores 4 at
// a time: the pages concatenate to the single-page order, without repeats.
func TestSearchStablePaging(t *testing.T) {
	var all []string
	var paged []string
	scenarios := []tests.ApiScenario{
		ok("guest reading all results at once", testkit.Guest, searchURL("q", "pagination", "perPage", "100"),
			func(t testing.TB, r result) {
				all = r.ids()
				for i := 1; i < len(r.Items); i++ {
					a, b := r.Items[i-1], r.Items[i]
					assert.True(t, a.Score > b.Score || (a.Score == b.Score && a.ID < b.ID),
						"%s (%v) before %s (%v)", a.ID, a.Score, b.ID, b.Score)
				}
			}),
	}
	for _, page := range []string{"1", "2", "3", "4"} {
		scenarios = append(scenarios, ok("guest reading page "+page+" of 4", testkit.Guest,
			searchURL("q", "pagination", "perPage", "4", "page", page),
			func(t testing.TB, r result) {
				assert.Equal(t, 4, r.TotalPages)
				paged = append(paged, r.ids()...)
			}))
	}
	run(t, scenarios)
	assert.Len(t, all, pagingPosts+3)
	assert.Equal(t, all, paged)
	types := map[string]bool{}
	for _, id := range all {
		types[id[:1]] = true
	}
	assert.Len(t, types, 2, "posts and lessons are merged")
}

func TestSearchFacetsAndCourseFilters(t *testing.T) {
	allRatings := map[string]int{"1": 3, "2": 3, "3": 3, "4": 2, "4.5": 2}
	run(t, []tests.ApiScenario{
		ok("guest sees facets over everything it may list", testkit.Guest, searchURL("q", "terraform"),
			func(t testing.TB, r result) {
				wantIDs(PostTerraform, CourseTfBasics, CourseTfScale, CourseTfShop, LessonTfFree)(t, r)
				assert.Equal(t, map[string]int{"posts": 1, "courses": 3, "lessons": 1}, r.Facets.Type)
				assert.Equal(t, map[string]int{"online": 1, "onsite": 1, "hybrid": 1}, r.Facets.Mode)
				assert.Equal(t, map[string]int{"beginner": 2, "intermediate": 0, "advanced": 1}, r.Facets.Level)
				assert.Equal(t, allRatings, r.Facets.MinRating)
			}),
		ok("mode filters courses; its facet ignores it, the others apply it", testkit.Guest, searchURL("q", "terraform", "mode", "online"),
			func(t testing.TB, r result) {
				wantIDs(CourseTfBasics)(t, r)
				assert.Equal(t, map[string]int{"posts": 0, "courses": 1, "lessons": 0}, r.Facets.Type)
				assert.Equal(t, map[string]int{"online": 1, "onsite": 1, "hybrid": 1}, r.Facets.Mode)
				assert.Equal(t, map[string]int{"beginner": 1, "intermediate": 0, "advanced": 0}, r.Facets.Level)
				assert.Equal(t, map[string]int{"1": 1, "2": 1, "3": 1, "4": 1, "4.5": 1}, r.Facets.MinRating)
			}),
		ok("level filters courses", testkit.Guest, searchURL("q", "terraform", "level", "beginner"),
			func(t testing.TB, r result) {
				wantIDs(CourseTfBasics, CourseTfShop)(t, r)
				assert.Equal(t, map[string]int{"beginner": 2, "intermediate": 0, "advanced": 1}, r.Facets.Level)
				assert.Equal(t, map[string]int{"online": 1, "onsite": 0, "hybrid": 1}, r.Facets.Mode)
			}),
		ok("minRating filters courses by their average", testkit.Guest, searchURL("q", "terraform", "minRating", "4"),
			func(t testing.TB, r result) {
				wantIDs(CourseTfBasics, CourseTfShop)(t, r)
				assert.Equal(t, allRatings, r.Facets.MinRating)
				assert.Equal(t, map[string]int{"online": 1, "onsite": 0, "hybrid": 1}, r.Facets.Mode)
				assert.Equal(t, map[string]int{"beginner": 2, "intermediate": 0, "advanced": 0}, r.Facets.Level)
			}),
		ok("minRating takes decimals", testkit.Guest, searchURL("q", "terraform", "minRating", "4.6"),
			wantIDs(CourseTfBasics)),
		ok("minRating 0 keeps every course", testkit.Guest, searchURL("q", "terraform", "minRating", "0"),
			wantIDs(CourseTfBasics, CourseTfScale, CourseTfShop)),
		ok("filters combine", testkit.Guest, searchURL("q", "terraform", "mode", "hybrid", "level", "beginner", "minRating", "4.5"),
			wantIDs(CourseTfShop)),
		ok("explicit type courses with a filter", testkit.Guest, searchURL("q", "terraform", "type", "courses", "level", "advanced"),
			wantIDs(CourseTfScale)),
		ok("the course facets count nothing when type excludes courses", testkit.Guest, searchURL("q", "terraform", "type", "posts"),
			func(t testing.TB, r result) {
				wantIDs(PostTerraform)(t, r)
				assert.Equal(t, map[string]int{"online": 0, "onsite": 0, "hybrid": 0}, r.Facets.Mode)
				assert.Equal(t, map[string]int{"posts": 1, "courses": 3, "lessons": 1}, r.Facets.Type)
			}),
		ok("the instructor's facets count their draft course", testkit.Instructor, searchURL("q", "terraform"),
			func(t testing.TB, r result) {
				assert.Equal(t, map[string]int{"posts": 1, "courses": 4, "lessons": 2}, r.Facets.Type)
				assert.Equal(t, map[string]int{"online": 2, "onsite": 1, "hybrid": 1}, r.Facets.Mode)
				assert.Equal(t, map[string]int{"beginner": 3, "intermediate": 0, "advanced": 1}, r.Facets.Level)
			}),
		ok("an enrolled student's lesson count includes the paid lesson", testkit.Student, searchURL("q", "terraform"),
			func(t testing.TB, r result) {
				assert.Equal(t, map[string]int{"posts": 1, "courses": 3, "lessons": 2}, r.Facets.Type)
				assert.True(t, r.has(LessonTfPaid))
			}),
	})
}

func TestSearchCountsAreCapped(t *testing.T) {
	defer func(n int) { search.CountCap = n }(search.CountCap)
	search.CountCap = 5
	run(t, []tests.ApiScenario{
		ok("guest searching a word in more posts than are counted", testkit.Guest, searchURL("q", "pagination"),
			func(t testing.TB, r result) {
				assert.True(t, r.Approximate)
				assert.Equal(t, 5, r.Facets.Type["posts"], "a lower bound")
				assert.Equal(t, 3, r.Facets.Type["lessons"])
				assert.Equal(t, 8, r.TotalItems)
				assert.Len(t, r.Items, pagingPosts+3, "the items are still every best match")
			}),
		ok("guest searching a word under the cap gets an exact count", testkit.Guest, searchURL("q", "kubernetes"),
			func(t testing.TB, r result) {
				assert.False(t, r.Approximate)
				assert.Equal(t, 3, r.TotalItems)
			}),
	})
}
