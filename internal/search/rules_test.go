package search_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"

	"lectern/internal/testkit"
)

// TestSearchRespectsListRules runs the same searches as every identity: a
// draft, a scheduled post, a paid lesson, a lesson of a draft course appear
// only for those the collection's LIST rule lets list them, and never in a
// count or a facet for anyone else.
func TestSearchRespectsListRules(t *testing.T) {
	type want struct {
		identity string
		ids      []string
	}
	cases := []struct {
		what string
		q    string
		want []want
	}{
		{"a draft post", "zephyrine", []want{
			{testkit.Guest, nil},
			{testkit.Student, nil},
			{testkit.Author, []string{PostZephDraft}},
			{testkit.Author2, nil},
			{testkit.Instructor, nil},
			{testkit.Admin, []string{PostZephDraft}},
			{testkit.Superuser, []string{PostZephDraft}},
		}},
		{"testkit's draft post", "secret", []want{
			{testkit.Guest, nil},
			{testkit.Author, []string{testkit.PostDraft}},
			{testkit.Author2, nil},
			{testkit.Admin, []string{testkit.PostDraft}},
		}},
		{"a post scheduled for next year", "quasar", []want{
			{testkit.Guest, nil},
			{testkit.Student, nil},
			{testkit.Author, []string{PostQuasarSch}},
			{testkit.Author2, nil},
			{testkit.Admin, []string{PostQuasarSch}},
			{testkit.Superuser, []string{PostQuasarSch}},
		}},
		{"an archived post", "old", []want{
			{testkit.Guest, nil},
			{testkit.Author, []string{testkit.PostArchived}},
		}},
		{"a paid lesson", "streams", []want{
			{testkit.Guest, nil},
			{testkit.Student, []string{testkit.LessonPaid}},    // enrolled, active
			{testkit.Student2, nil},                            // enrollment cancelled
			{testkit.Author, nil},                              // not enrolled
			{testkit.Instructor, []string{testkit.LessonPaid}}, // teaches the course
			{testkit.Instr2, nil},
			{testkit.Admin, []string{testkit.LessonPaid}},
			{testkit.Superuser, []string{testkit.LessonPaid}},
		}},
		{"a paid lesson of another course", "pods", []want{
			{testkit.Guest, []string{PostKube}},
			{testkit.Student, []string{PostKube}},
			{testkit.Student2, []string{PostKube, testkit.LessonOther}},
			{testkit.Instr2, []string{PostKube, testkit.LessonOther}},
		}},
		{"a free preview of a draft course", "ownership", []want{
			{testkit.Guest, nil},
			{testkit.Student, nil},
			{testkit.Instructor, []string{testkit.LessonDraft}},
			{testkit.Admin, []string{testkit.LessonDraft}},
		}},
		{"a draft course", "rust", []want{
			{testkit.Guest, nil},
			{testkit.Instr2, nil},
			{testkit.Instructor, []string{testkit.CourseDraft}},
			{testkit.Admin, []string{testkit.CourseDraft}},
		}},
	}
	var scenarios []tests.ApiScenario
	for _, c := range cases {
		for _, w := range c.want {
			ids := w.ids
			scenarios = append(scenarios, ok(w.identity+" searching "+c.what, w.identity, searchURL("q", c.q),
				func(t testing.TB, r result) {
					wantIDs(ids...)(t, r)
					total := 0
					for _, n := range r.Facets.Type {
						total += n
					}
					assert.Equal(t, len(ids), total, "the type facet counts only listable records")
					if len(ids) == 0 {
						for _, f := range []map[string]int{r.Facets.Mode, r.Facets.Level, r.Facets.MinRating} {
							for k, n := range f {
								assert.Zero(t, n, k)
							}
						}
					}
				}))
		}
	}
	run(t, scenarios)
}

// TestCorrectionNeverRevealsHiddenWords: the nearest indexed word to a typo
// may come from a draft; corrections come only from what a guest may list,
// so it is suggested to nobody (not even to callers who may view the draft:
// their corrections would otherwise tell them about words they cannot see
// being absent or present elsewhere).
func TestCorrectionNeverRevealsHiddenWords(t *testing.T) {
	noCorrection := func(t testing.TB, r result) {
		assert.Equal(t, 0, r.TotalItems)
		assert.Empty(t, r.Items)
		assert.Nil(t, r.CorrectedQuery)
	}
	run(t, []tests.ApiScenario{
		ok("guest misspelling a draft-only word gets no correction", testkit.Guest, searchURL("q", "zephyrnie"), noCorrection),
		ok("another author misspelling it gets no correction", testkit.Author2, searchURL("q", "zephyrnie"), noCorrection),
		ok("a student misspelling a scheduled-only word gets no correction", testkit.Student, searchURL("q", "quasr"), noCorrection),
		ok("guest misspelling a paid lesson's word gets no correction", testkit.Guest, searchURL("q", "straems"), noCorrection),
		ok("the draft's author gets no correction from the draft", testkit.Author, searchURL("q", "zephyrnie"), noCorrection),
		ok("an admin gets no correction from a draft", testkit.Admin, searchURL("q", "zephyrnie"), noCorrection),
		ok("the enrolled student gets no correction from a paid lesson", testkit.Student, searchURL("q", "straems"), noCorrection),
		ok("the draft's author still finds it spelled right", testkit.Author, searchURL("q", "zephyrine"), wantIDs(PostZephDraft)),
		ok("a correction from a published word still works", testkit.Guest, searchURL("q", "terrafrom"),
			func(t testing.TB, r result) {
				assert.NotZero(t, r.TotalItems)
				if assert.NotNil(t, r.CorrectedQuery) {
					assert.Equal(t, "terraform", *r.CorrectedQuery)
				}
			}),
	})
}
