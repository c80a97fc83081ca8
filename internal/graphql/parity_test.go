package graphql_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/inflector"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

// The collections of the contract: each must be in the schema and is
// compared over REST and GraphQL, with every other collection the schema has.
var contractCollections = []string{"users", "topics", "posts", "comments", "courses", "lessons", "enrollments", "reviews"}

// schemaCollections are the contract's collections followed by every other
// collection the schema exposes (what later migrations add).
func schemaCollections(t *testing.T, app core.App) []string {
	t.Helper()
	all, err := app.FindAllCollections()
	require.NoError(t, err)
	out := append([]string{}, contractCollections...)
	for _, c := range all {
		if !c.System && !strings.HasPrefix(c.Name, "_") && !slices.Contains(out, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

// listCase is one list request, sent to both APIs.
type listCase struct {
	filter, sort  string
	page, perPage int
}

func (lc listCase) String() string {
	return fmt.Sprintf("filter=%q sort=%q page=%d perPage=%d", lc.filter, lc.sort, lc.page, lc.perPage)
}

func (lc listCase) rest(extra string) url.Values {
	q := url.Values{}
	f := lc.filter
	if extra != "" {
		f = extra
		if lc.filter != "" {
			f = extra + " && (" + lc.filter + ")"
		}
	}
	if f != "" {
		q.Set("filter", f)
	}
	if lc.sort != "" {
		q.Set("sort", lc.sort)
	}
	if lc.page != 0 {
		q.Set("page", strconv.Itoa(lc.page))
	}
	if lc.perPage != 0 {
		q.Set("perPage", strconv.Itoa(lc.perPage))
	}
	return q
}

func (lc listCase) vars() map[string]any {
	v := map[string]any{}
	if lc.filter != "" {
		v["f"] = lc.filter
	}
	if lc.sort != "" {
		v["s"] = lc.sort
	}
	if lc.page != 0 {
		v["p"] = lc.page
	}
	if lc.perPage != 0 {
		v["pp"] = lc.perPage
	}
	return v
}

// casesFor are the filters and sorts each collection is listed with: the
// defaults, generic sorts, paging, and filters that touch the rows the rules
// hide (drafts, hidden comments, locked lessons, others' enrollments).
func casesFor(collection string) []listCase {
	cs := []listCase{
		{},
		{sort: "-created,id"},
		{sort: "id", page: 2, perPage: 2},
		{filter: `id != ""`, sort: "-id"},
	}
	specific := map[string][]listCase{
		"users":  {{filter: `role = "student"`, sort: "name"}, {filter: `name ~ "a"`, sort: "-name"}},
		"topics": {{filter: `name = "Go"`}},
		"posts": {{filter: `status = "draft"`}, {filter: `status != "published"`, sort: "title"}, {filter: `author.role = "author"`, sort: "-title"}, {filter: `topics.name ?= "Go"`},
			// the filter guard: an every-match over a back-relation is refused on both, an any-match allowed
			{filter: `comments_via_post.body !~ "spam"`}, {filter: `comments_via_post.body ?~ "Great"`, sort: "-title"}},
		"comments": {{filter: `status = "hidden"`}, {filter: `post.status = "published"`, sort: "-body"}, {filter: `parent != ""`}, {filter: `author = "` + testkit.UserStudent + `"`, sort: "body"}},
		"courses": {{filter: `status = "draft"`}, {filter: `price > 0`, sort: "-price"}, {filter: `instructor.name ~ "Ines"`, sort: "title"},
			{filter: `lessons_via_course.title != "Pods"`}, {filter: `reviews_via_course.rating ?> 3`}},
		"lessons":     {{filter: `freePreview = false`, sort: "position"}, {filter: `course.status = "published"`, sort: "-position,title"}},
		"enrollments": {{filter: `user = "` + testkit.UserStudent2 + `"`}, {filter: `status = "cancelled"`}, {filter: `course.instructor = "` + testkit.UserInstructor + `"`, sort: "-progress,id"}},
		"reviews":     {{filter: `rating >= 4`, sort: "-rating"}, {filter: `course.status = "published"`, sort: "body"}},
	}
	return append(cs, specific[collection]...)
}

// shape is what the test selects of a collection's records: every field REST
// returns (relations as the related record's id, like expand=<relation>).
type shape struct {
	scalars []string
	rels    []string
	multi   map[string]bool
}

func shapeOf(app core.App, c *core.Collection) shape {
	sh := shape{multi: map[string]bool{}}
	for _, f := range c.Fields {
		if f.GetHidden() {
			continue
		}
		if rf, ok := f.(*core.RelationField); ok && !relatesToSystem(app, rf) {
			sh.rels = append(sh.rels, rf.Name)
			sh.multi[rf.Name] = rf.IsMultiple()
			continue
		}
		sh.scalars = append(sh.scalars, f.GetName())
	}
	return sh
}

// relatesToSystem: a relation to a system collection is its ids in GraphQL
// (such collections are not in the schema), as REST has them.
func relatesToSystem(app core.App, rf *core.RelationField) bool {
	target, err := app.FindCachedCollectionByNameOrId(rf.CollectionId)
	return err != nil || target.System || strings.HasPrefix(target.Name, "_")
}

func (sh shape) selection() string {
	parts := append([]string{}, sh.scalars...)
	for _, r := range sh.rels {
		parts = append(parts, r+" { id }")
	}
	return strings.Join(parts, " ")
}

// compareRecord asserts a GraphQL item equals REST's JSON of the same record.
func compareRecord(t *testing.T, sh shape, rest, gql map[string]any, ctx string) {
	t.Helper()
	for _, f := range sh.scalars {
		// a field REST leaves out (a hidden email) is null in GraphQL
		assert.Equal(t, rest[f], gql[f], "%s: field %s", ctx, f)
	}
	expand, _ := rest["expand"].(map[string]any)
	for _, r := range sh.rels {
		if sh.multi[r] {
			want := []any{}
			if list, ok := expand[r].([]any); ok {
				for _, x := range list {
					want = append(want, x.(map[string]any)["id"])
				}
			}
			got := []any{}
			list, ok := gql[r].([]any)
			require.True(t, ok, "%s: relation %s is not a list: %#v", ctx, r, gql[r])
			for _, x := range list {
				got = append(got, x.(map[string]any)["id"])
			}
			assert.Equal(t, want, got, "%s: relation %s", ctx, r)
			continue
		}
		var want, got any
		if m, ok := expand[r].(map[string]any); ok {
			want = m["id"]
		}
		if m, ok := gql[r].(map[string]any); ok {
			got = m["id"]
		}
		assert.Equal(t, want, got, "%s: relation %s (null where expand is empty)", ctx, r)
	}
}

// compareList asserts a GraphQL list answer equals REST's for the same request
// and returns the number of items compared.
func compareList(t *testing.T, sh shape, code int, rest map[string]any, gqlList any, r gqlResponse, ctx string) int {
	t.Helper()
	if code != http.StatusOK {
		refusedSeen++
		assert.Nil(t, gqlList, "%s: REST answered %d, GraphQL gave data", ctx, code)
		if assert.NotEmpty(t, r.Errors, "%s: REST answered %d, GraphQL no error", ctx, code) {
			e := r.Errors[0]
			assert.EqualValues(t, code, e.Extensions["status"], "%s: REST's status", ctx)
			if code == http.StatusBadRequest && len(rest["data"].(map[string]any)) > 0 {
				assert.Equal(t, rest["data"], e.Extensions["data"], "%s: the refused field path, as REST names it", ctx)
			}
		}
		return 0
	}
	require.Empty(t, r.Errors, "%s: GraphQL error where REST answered 200", ctx)
	g, ok := gqlList.(map[string]any)
	require.True(t, ok, "%s: no GraphQL list: %#v", ctx, gqlList)
	for _, k := range []string{"page", "perPage", "totalItems", "totalPages"} {
		assert.Equal(t, rest[k], g[k], "%s: %s", ctx, k)
	}
	restItems, _ := rest["items"].([]any)
	gqlItems, _ := g["items"].([]any)
	ids := func(items []any) []any {
		out := []any{}
		for _, it := range items {
			out = append(out, it.(map[string]any)["id"])
		}
		return out
	}
	if !assert.Equal(t, ids(restItems), ids(gqlItems), "%s: records and order", ctx) {
		return 0
	}
	for i := range restItems {
		compareRecord(t, sh, restItems[i].(map[string]any), gqlItems[i].(map[string]any), ctx+" item "+strconv.Itoa(i))
	}
	return len(restItems)
}

// refusedSeen counts the lists both APIs refused, so the refusal half of the
// comparison is known to have run.
var refusedSeen int

// TestParityLists lists every collection as every role with the same
// filters, sorts and pages over REST and GraphQL: same records in the same
// order, same totals, same field values, same nulls where expand is empty.
func TestParityLists(t *testing.T) {
	s := newServer(t)
	compared := 0
	refusedSeen = 0
	for _, name := range schemaCollections(t, s.app) {
		c, err := s.app.FindCollectionByNameOrId(name)
		require.NoError(t, err)
		sh := shapeOf(s.app, c)
		expand := strings.Join(sh.rels, ",")
		query := fmt.Sprintf(`query($f: String, $s: String, $p: Int, $pp: Int) {
			%s(filter: $f, sort: $s, page: $p, perPage: $pp) { page perPage totalItems totalPages items { %s } } }`, name, sh.selection())
		for _, who := range testkit.Identities() {
			for _, lc := range casesFor(name) {
				ctx := fmt.Sprintf("%s as %s %s", name, who, lc)
				q := lc.rest("")
				if expand != "" {
					q.Set("expand", expand)
				}
				code, rest := s.rest(who, "/api/collections/"+name+"/records", q)
				r := s.gql(who, query, lc.vars())
				compared += compareList(t, sh, code, rest, r.Data[name], r, ctx)
			}
		}
	}
	// the comparison covered real rows, not empty pages, and refusals (the
	// filter guard's among them)
	assert.Greater(t, compared, 500, "items compared")
	t.Logf("%d items compared, %d lists refused by both", compared, refusedSeen)
	assert.Greater(t, refusedSeen, 10, "lists refused by both")
}

// TestParityFacts pins what the rules must hide or show in GraphQL, so the
// parity above cannot pass by both APIs being wrong the same way.
func TestParityFacts(t *testing.T) {
	s := newServer(t)
	ids := func(who, query, field string) []string {
		r := s.gql(who, query, nil)
		require.Empty(t, r.Errors, "%s: %s", who, query)
		var out []string
		for _, it := range r.Data[field].(map[string]any)["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		return out
	}
	posts := `{ posts(perPage: 200) { items { id } } }`
	assert.ElementsMatch(t, []string{testkit.PostPublished, testkit.PostPublished2}, ids(testkit.Guest, posts, "posts"), "guest: published posts only")
	assert.Contains(t, ids(testkit.Author, posts, "posts"), testkit.PostDraft, "author sees own draft")
	assert.NotContains(t, ids(testkit.Author2, posts, "posts"), testkit.PostDraft, "another author does not")

	comments := `{ comments(perPage: 200) { items { id } } }`
	assert.NotContains(t, ids(testkit.Guest, comments, "comments"), testkit.CommentHidden, "hidden comment")
	assert.Contains(t, ids(testkit.Student, comments, "comments"), testkit.CommentHidden, "its author sees it")
	assert.Contains(t, ids(testkit.Author, comments, "comments"), testkit.CommentHidden, "the post's author sees it")
	assert.NotContains(t, ids(testkit.Student2, comments, "comments"), testkit.CommentHidden, "another student does not")

	lessons := `{ lessons(perPage: 200) { items { id } } }`
	assert.ElementsMatch(t, []string{testkit.LessonFree}, ids(testkit.Guest, lessons, "lessons"), "guest: free preview of a published course")
	assert.Contains(t, ids(testkit.Student, lessons, "lessons"), testkit.LessonPaid, "enrolled student")
	assert.NotContains(t, ids(testkit.Student2, lessons, "lessons"), testkit.LessonPaid, "cancelled enrollment locks it")

	enrollments := `{ enrollments(perPage: 200) { items { id } } }`
	assert.ElementsMatch(t, []string{testkit.EnrollmentStudent}, ids(testkit.Student, enrollments, "enrollments"), "own enrollment only")
	assert.Empty(t, ids(testkit.Guest, enrollments, "enrollments"))

	// a single record the caller may not view is null, as REST's 404
	r := s.gql(testkit.Guest, `{ post(id: "`+testkit.PostDraft+`") { id } lesson(id: "`+testkit.LessonPaid+`") { id } }`, nil)
	require.Empty(t, r.Errors)
	assert.Nil(t, r.Data["post"])
	assert.Nil(t, r.Data["lesson"])
	// email hidden from others, shown to its owner
	r = s.gql(testkit.Guest, `{ user(id: "`+testkit.UserAuthor+`") { name email } }`, nil)
	assert.Nil(t, r.Data["user"].(map[string]any)["email"])
	r = s.gql(testkit.Author, `{ user(id: "`+testkit.UserAuthor+`") { email } }`, nil)
	assert.Equal(t, "author@lectern.test", r.Data["user"].(map[string]any)["email"])
}

// TestParitySingle views every fixture record as every role over both APIs.
func TestParitySingle(t *testing.T) {
	s := newServer(t)
	seen := 0
	for _, name := range schemaCollections(t, s.app) {
		c, err := s.app.FindCollectionByNameOrId(name)
		require.NoError(t, err)
		sh := shapeOf(s.app, c)
		recs, err := s.app.FindAllRecords(c)
		require.NoError(t, err)
		single := singularOfForTest(name)
		query := fmt.Sprintf(`query($id: ID!) { %s(id: $id) { %s } }`, single, sh.selection())
		for _, who := range testkit.Identities() {
			for _, rec := range recs {
				ctx := fmt.Sprintf("%s %s as %s", name, rec.Id, who)
				q := url.Values{}
				if len(sh.rels) > 0 {
					q.Set("expand", strings.Join(sh.rels, ","))
				}
				code, rest := s.rest(who, "/api/collections/"+name+"/records/"+rec.Id, q)
				r := s.gql(who, query, map[string]any{"id": rec.Id})
				require.Empty(t, r.Errors, ctx)
				if code == http.StatusNotFound {
					assert.Nil(t, r.Data[single], ctx)
					continue
				}
				require.Equal(t, http.StatusOK, code, ctx)
				g, ok := r.Data[single].(map[string]any)
				require.True(t, ok, "%s: GraphQL null where REST answered 200", ctx)
				compareRecord(t, sh, rest, g, ctx)
				seen++
			}
		}
	}
	assert.Greater(t, seen, 100)
}

// singularOfForTest names the contract's singular fields as the contract
// spells them, and any other collection's by PocketBase's inflector.
func singularOfForTest(name string) string {
	if s, ok := map[string]string{"users": "user", "topics": "topic", "posts": "post", "comments": "comment",
		"courses": "course", "lessons": "lesson", "enrollments": "enrollment", "reviews": "review"}[name]; ok {
		return s
	}
	return inflector.Singularize(name)
}

// TestParityBackRelations compares Post.comments, Course.lessons and
// Course.reviews with REST's list of the child filtered by the parent.
func TestParityBackRelations(t *testing.T) {
	s := newServer(t)
	backs := []struct{ parent, field, child, rel string }{
		{"posts", "comments", "comments", "post"},
		{"courses", "lessons", "lessons", "course"},
		{"courses", "reviews", "reviews", "course"},
	}
	compared := 0
	for _, br := range backs {
		c, err := s.app.FindCollectionByNameOrId(br.child)
		require.NoError(t, err)
		sh := shapeOf(s.app, c)
		query := fmt.Sprintf(`query($f: String, $s: String, $p: Int, $pp: Int) { %s(perPage: 5, sort: "id") { items { id
			%s(filter: $f, sort: $s, page: $p, perPage: $pp) { page perPage totalItems totalPages items { %s } } } } }`,
			br.parent, br.field, sh.selection())
		for _, who := range testkit.Identities() {
			for _, lc := range casesFor(br.child) {
				r := s.gql(who, query, lc.vars())
				parents, _ := r.Data[br.parent].(map[string]any)
				if parents == nil {
					t.Fatalf("%s as %s: %v", br.parent, who, r.Errors)
				}
				for _, p := range parents["items"].([]any) {
					pm := p.(map[string]any)
					id := pm["id"].(string)
					ctx := fmt.Sprintf("%s.%s of %s as %s %s", br.parent, br.field, id, who, lc)
					q := lc.rest(fmt.Sprintf("%s = %q", br.rel, id))
					q.Set("expand", strings.Join(sh.rels, ","))
					code, rest := s.rest(who, "/api/collections/"+br.child+"/records", q)
					compared += compareList(t, sh, code, rest, pm[br.field], r, ctx)
				}
			}
		}
	}
	assert.Greater(t, compared, 100, "items compared")
}

// TestParityRuleChange changes rules as the dashboard would: both APIs follow
// at once, relations included (an author the caller may no longer view is
// null in GraphQL exactly where REST's expand drops it).
func TestParityRuleChange(t *testing.T) {
	s := newServer(t)
	users, err := s.app.FindCollectionByNameOrId("users")
	require.NoError(t, err)
	users.ViewRule = types.Pointer(`id = @request.auth.id`)
	require.NoError(t, s.app.Save(users))
	comments, err := s.app.FindCollectionByNameOrId("comments")
	require.NoError(t, err)
	comments.ListRule = types.Pointer(``) // everyone lists every comment
	require.NoError(t, s.app.Save(comments))

	r := s.gql(testkit.Student, `{ posts(sort: "id") { items { id author { id } } } comments(perPage: 200) { totalItems } }`, nil)
	require.Empty(t, r.Errors)
	for _, it := range r.Data["posts"].(map[string]any)["items"].([]any) {
		assert.Nil(t, it.(map[string]any)["author"], "author no longer viewable")
	}
	_, rest := s.rest(testkit.Student, "/api/collections/comments/records", url.Values{"perPage": {"200"}})
	assert.Equal(t, rest["totalItems"], r.Data["comments"].(map[string]any)["totalItems"])
	assert.EqualValues(t, 5, rest["totalItems"], "hidden comment listed by the new rule")

	r = s.gql(testkit.Author, `{ posts(sort: "id") { items { author { id } } } }`, nil)
	n := 0
	for _, it := range r.Data["posts"].(map[string]any)["items"].([]any) {
		if a, _ := it.(map[string]any)["author"].(map[string]any); a != nil {
			assert.Equal(t, testkit.UserAuthor, a["id"])
			n++
		}
	}
	assert.Equal(t, 4, n, "the author still views themself")
	_ = reflect.DeepEqual
}

// TestSchemaFollowsCollections: a field added or a collection created (by a
// migration or in the dashboard) is in the schema on the next request, with
// no restart; a removed one is gone.
func TestSchemaFollowsCollections(t *testing.T) {
	s := newServer(t)
	r := s.gql(testkit.Guest, `{ posts { items { subtitle } } }`, nil)
	require.NotEmpty(t, r.Errors, "no such field yet")

	posts, err := s.app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	posts.Fields.Add(&core.TextField{Name: "subtitle"})
	require.NoError(t, s.app.Save(posts))
	notes := core.NewBaseCollection("notes")
	notes.ListRule = types.Pointer("")
	notes.Fields.Add(&core.TextField{Name: "text"}, &core.RelationField{Name: "post", CollectionId: posts.Id, MaxSelect: 1})
	require.NoError(t, s.app.Save(notes))
	note := core.NewRecord(notes)
	note.Set("text", "a note")
	note.Set("post", testkit.PostPublished)
	require.NoError(t, s.app.Save(note))

	r = s.gql(testkit.Guest, `{ posts(filter: "subtitle = ''", sort: "id") { items { id subtitle notes { items { text } } } } notes { totalItems items { post { id } } } }`, nil)
	require.Empty(t, r.Errors)
	items := r.Data["posts"].(map[string]any)["items"].([]any)
	require.NotEmpty(t, items)
	assert.Equal(t, "", items[0].(map[string]any)["subtitle"])
	assert.EqualValues(t, 1, r.Data["notes"].(map[string]any)["totalItems"])

	posts.Fields.RemoveByName("subtitle")
	require.NoError(t, s.app.Save(posts))
	r = s.gql(testkit.Guest, `{ posts { items { subtitle } } }`, nil)
	require.NotEmpty(t, r.Errors, "the field is gone")
	assert.Contains(t, r.Errors[0].Message, "subtitle")
}
