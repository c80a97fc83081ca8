package search_test

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/search"
	"lectern/internal/testkit"
)

// Words of the privacy fixture. "kubarnetz" is a typo two edits from the
// published "kubernetes" and one from "kubarnetzo", a word only hidden
// records hold; "obsidianite" is found in hidden records only.
const (
	wordHiddenOnly = "obsidianite"
	typoHiddenNear = "kubarnetz"
	wordHiddenNear = "kubarnetzo"
)

// privateDoc is a record of the privacy fixture that only some callers may
// view: seenBy lists them (admins and superusers see every one).
type privateDoc struct {
	collection, id string
	data           map[string]any
	seenBy         []string
}

// privateDocs are drafts, unpublished courses and paid lessons, each
// holding the words the searches below look for, and each hidden from
// every identity outside its seenBy.
func privateDocs() []privateDoc {
	var out []privateDoc
	text := fmt.Sprintf("<p>Kubernetes deployments on a cluster: %s, %s, terraform and running notes. Kubernetes again.</p>", wordHiddenOnly, wordHiddenNear)
	for i := range 6 {
		out = append(out,
			privateDoc{"posts", fmt.Sprintf("pxdrafta2%06d", i), map[string]any{
				"title": "Kubernetes pagination sample", "body": text, "author": testkit.UserAuthor2, "status": "draft"}, []string{testkit.Author2}},
			privateDoc{"posts", fmt.Sprintf("pxdrafta1%06d", i), map[string]any{
				"title": fmt.Sprintf("Draft %d", i), "excerpt": "terraform " + wordHiddenNear, "body": text, "author": testkit.UserAuthor, "status": "draft"}, []string{testkit.Author}},
		)
	}
	out = append(out, privateDoc{"posts", "pxarchiveda2001", map[string]any{
		"title": "Kubernetes " + wordHiddenOnly, "body": text, "author": testkit.UserAuthor2, "status": "archived"}, []string{testkit.Author2}})
	for _, c := range []struct {
		id, instr, who, mode, level string
	}{
		{"kxdrafti2000001", testkit.UserInstr2, testkit.Instr2, "online", "beginner"},
		{"kxdrafti1000001", testkit.UserInstructor, testkit.Instructor, "hybrid", "advanced"},
	} {
		out = append(out, privateDoc{"courses", c.id, map[string]any{
			"title": "Terraform and kubernetes pagination", "summary": wordHiddenOnly + " " + wordHiddenNear, "description": text,
			"instructor": c.instr, "durationDays": 3, "mode": c.mode, "level": c.level, "status": "draft"}, []string{c.who}})
		for i := range 2 {
			out = append(out, privateDoc{"lessons", fmt.Sprintf("lx%s%03d", c.id[2:12], i), map[string]any{
				"course": c.id, "title": "Kubernetes pagination sample " + wordHiddenNear, "position": 100 + i, "freePreview": true}, []string{c.who}})
		}
	}
	for i := range 3 {
		// Paid lessons of published courses: for their instructor and the
		// students enrolled (student2's enrollment in CoursePublished2 is
		// active; student's in CourseTfBasics too).
		out = append(out,
			privateDoc{"lessons", fmt.Sprintf("lxpaidk2000%04d", i), map[string]any{
				"course": testkit.CoursePublished2, "title": "Terraform pagination sample " + wordHiddenOnly, "position": 200 + i},
				[]string{testkit.Instr2, testkit.Student2}},
			privateDoc{"lessons", fmt.Sprintf("lxpaidtf000%04d", i), map[string]any{
				"course": CourseTfBasics, "title": "Kubernetes pagination sample " + wordHiddenNear, "position": 200 + i},
				[]string{testkit.Instructor, testkit.Student}},
		)
	}
	return out
}

// privacyQueries are the searches whose whole answers must not change.
var privacyQueries = []string{
	searchURL("q", "kubernetes"),
	searchURL("q", "kubernetes", "type", "posts", "perPage", "1", "page", "2"),
	searchURL("q", wordHiddenOnly),
	searchURL("q", typoHiddenNear),
	searchURL("q", "obsidianit"),
	searchURL("q", "terraform"),
	searchURL("q", "terraform", "type", "courses", "mode", "online"),
	searchURL("q", "terraform", "level", "beginner", "minRating", "4"),
	searchURL("q", "deployments cluster"),
	searchURL("q", "pagination sample", "perPage", "5", "page", "2"),
	searchURL("q", "pagination", "type", "lessons"),
	searchURL("q", "pagination", "perPage", "100"),
	searchURL("q", "terrafrom"),
	searchURL("q", "running"),
}

// privacyLimits are the bounds the searches run under: the production ones,
// and small ones that the hidden records alone would cross (more than
// RankLimit matches of a collection, more than CountCap).
var privacyLimits = []struct {
	name                               string
	countCap, rankLimit, rankCandidate int
}{
	{"production bounds", search.CountCap, search.RankLimit, search.RankCandidates},
	{"small bounds", 6, 4, 3},
}

// TestHiddenDocumentsMoveNothing: for every identity, every search's whole
// answer (items, order, scores, snippets, totals, facets, correctedQuery,
// approximate, approximateRanking) is byte for byte the same before and
// after records that identity may not view are added: drafts holding the
// searched words, a word only drafts hold, a word one typo nearer than the
// published one, more hidden matches than the bounds.
func TestHiddenDocumentsMoveNothing(t *testing.T) {
	defer func(c, l, k int) { search.CountCap, search.RankLimit, search.RankCandidates = c, l, k }(
		search.CountCap, search.RankLimit, search.RankCandidates)
	pool := privateDocs()
	for _, identity := range testkit.Identities() {
		if identity == testkit.Superuser {
			continue // sees every record: nothing is hidden from a superuser
		}
		t.Run(identity, func(t *testing.T) {
			app := newApp(t)
			defer app.Cleanup()
			mux, err := testkit.Handler(app)
			require.NoError(t, err)
			get := func(u string) (int, string) {
				req := httptest.NewRequest(http.MethodGet, u, nil)
				for k, v := range fixture.Headers(identity) {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				body, _ := io.ReadAll(rec.Result().Body)
				return rec.Code, string(body)
			}
			add := func(hidden bool) []privateDoc {
				var added []privateDoc
				for _, d := range pool {
					sees := identity == testkit.Admin || slices.Contains(d.seenBy, identity)
					if sees == hidden {
						continue
					}
					col, err := app.FindCollectionByNameOrId(d.collection)
					require.NoError(t, err)
					r := core.NewRecord(col)
					r.Id = d.id
					r.Load(d.data)
					require.NoError(t, app.Save(r), d.id)
					added = append(added, d)
				}
				return added
			}
			answers := func() map[string]string {
				out := map[string]string{}
				for _, l := range privacyLimits {
					search.CountCap, search.RankLimit, search.RankCandidates = l.countCap, l.rankLimit, l.rankCandidate
					for _, q := range privacyQueries {
						code, body := get(q)
						require.Equal(t, http.StatusOK, code, body)
						out[l.name+" "+q] = body
					}
				}
				return out
			}

			// What the identity may view is there from the start (an
			// author's own drafts are searched, and scored, as well).
			for _, d := range add(false) {
				code, _ := get("/api/collections/" + d.collection + "/records/" + d.id)
				require.Equal(t, http.StatusOK, code, "%s may view %s", identity, d.id)
			}
			before := answers()
			hidden := add(true)
			for _, d := range hidden {
				code, _ := get("/api/collections/" + d.collection + "/records/" + d.id)
				require.Equal(t, http.StatusNotFound, code, "%s may not view %s", identity, d.id)
			}
			if identity != testkit.Admin {
				require.NotEmpty(t, hidden, "every identity but admin has records hidden from it")
			}
			after := answers()
			for _, l := range privacyLimits {
				for _, q := range privacyQueries {
					k := l.name + " " + q
					assert.Equal(t, before[k], after[k], "%s, %s: %d records hidden from %s were added", l.name, q, len(hidden), identity)
				}
			}
		})
	}
}

// TestHiddenMatchesScoreLikePublicOnes: a record a guest may not list is
// scored with the public statistics by the same formula SQLite's bm25 uses,
// so a draft twin of a published post scores what the post scores — for
// one word, two, and a typo's alternatives; in title, excerpt and body.
func TestHiddenMatchesScoreLikePublicOnes(t *testing.T) {
	app := newApp(t)
	defer app.Cleanup()
	mux, err := testkit.Handler(app)
	require.NoError(t, err)
	col, err := app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	twins := []map[string]any{
		{"title": "Kubernetes cluster upgrades", "excerpt": "Upgrading a cluster", "body": "<p>Drain the nodes, then upgrade kubernetes one node at a time. Clusters, clusters.</p>"},
		{"title": "Cluster notes", "body": "<p>" + filler(30) + " kubernetes upgrades <b>cluster</b> running</p>"},
	}
	for i, data := range twins {
		for _, status := range []string{"published", "draft"} {
			r := core.NewRecord(col)
			r.Id = twinID(i, status)
			r.Load(data)
			r.Set("author", testkit.UserAuthor)
			r.Set("status", status)
			require.NoError(t, app.Save(r))
		}
	}
	compared := 0
	for _, q := range []string{"kubernetes", "cluster upgrades", "running cluster kubernetes", "clustre"} {
		req := httptest.NewRequest(http.MethodGet, searchURL("q", q, "type", "posts", "perPage", "100"), nil)
		for k, v := range fixture.Headers(testkit.Author) {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		r := decode(t, rec.Result())
		scores := map[string]float64{}
		for _, it := range r.Items {
			scores[it.ID] = it.Score
		}
		for i := range twins {
			pub, okPub := scores[twinID(i, "published")]
			dra, okDraft := scores[twinID(i, "draft")]
			if !okPub && !okDraft {
				continue
			}
			require.True(t, okPub && okDraft, "%q: both twins %d found: %v", q, i, r.ids())
			assert.InDelta(t, pub, dra, 1e-9*math.Max(1, math.Abs(pub)), "%q: twin %d scores %v published, %v draft", q, i, pub, dra)
			compared++
		}
	}
	assert.GreaterOrEqual(t, compared, 6, "twins compared")
}

func twinID(i int, status string) string { return fmt.Sprintf("ptwin%s%05d", status[:5], i) }
