package graphql_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

// volatile fields differ between two otherwise identical writes.
var volatile = map[string]bool{"id": true, "created": true, "updated": true, "publishedAt": true}

// TestParityMutations sends each write over REST to one copy of the fixture
// and over GraphQL to another, as the same role: the same answer (status,
// message and field errors, or the same record), the same stored state.
func TestParityMutations(t *testing.T) {
	cases := []struct {
		name, who, collection, op, id string
		data                          map[string]any
	}{
		{"author creating a post forging author and counters", testkit.Author, "posts", "create", "",
			map[string]any{"title": "A new post", "body": "<p>Hi<script>x()</script></p>", "status": "published", "author": testkit.UserAuthor2, "commentsCount": 99}},
		{"student creating a post", testkit.Student, "posts", "create", "", map[string]any{"title": "Not allowed", "body": "<p>x</p>"}},
		{"guest commenting", testkit.Guest, "comments", "create", "", map[string]any{"post": testkit.PostPublished, "body": "hello"}},
		{"student commenting on a draft", testkit.Student, "comments", "create", "", map[string]any{"post": testkit.PostDraft, "body": "early"}},
		{"student replying too deep or right", testkit.Student, "comments", "create", "", map[string]any{"post": testkit.PostPublished, "parent": testkit.CommentReply, "body": "<b>reply</b>"}},
		{"student reviewing again, rating 9", testkit.Student, "reviews", "create", "", map[string]any{"course": testkit.CoursePublished, "rating": 9}},
		{"student editing own comment", testkit.Student, "comments", "update", testkit.CommentVisible, map[string]any{"body": "Edited words"}},
		{"student2 editing another's comment", testkit.Student2, "comments", "update", testkit.CommentVisible, map[string]any{"body": "hijack"}},
		{"student hiding a comment", testkit.Student, "comments", "update", testkit.CommentVisible2, map[string]any{"status": "hidden"}},
		{"author hiding a comment on own post", testkit.Author, "comments", "update", testkit.CommentVisible2, map[string]any{"status": "hidden"}},
		{"instructor duplicating a lesson position", testkit.Instructor, "lessons", "create", "", map[string]any{"course": testkit.CoursePublished, "title": "Dup", "position": 1}},
		{"student completing another course's lesson", testkit.Student, "enrollments", "update", testkit.EnrollmentStudent, map[string]any{"completedLessons": []string{testkit.LessonOther}}},
		{"student enrolling in a published course", testkit.Student, "enrollments", "create", "", map[string]any{"course": testkit.CoursePublished2}},
		{"number as a string", testkit.Instructor, "courses", "create", "", map[string]any{"title": "Typed", "durationDays": "many"}},
		{"student deleting a post", testkit.Student, "posts", "delete", testkit.PostPublished, nil},
		{"admin deleting a comment", testkit.Admin, "comments", "delete", testkit.CommentVisible, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			restSrv, gqlSrv := newServer(t), newServer(t)
			coll, err := restSrv.app.FindCollectionByNameOrId(c.collection)
			require.NoError(t, err)
			sh := shapeOf(restSrv.app, coll)
			typ := strings.ToUpper(singularOfForTest(c.collection)[:1]) + singularOfForTest(c.collection)[1:]

			// REST
			path := "/api/collections/" + c.collection + "/records"
			method := map[string]string{"create": http.MethodPost, "update": http.MethodPatch, "delete": http.MethodDelete}[c.op]
			if c.id != "" {
				path += "/" + c.id
			}
			var body []byte
			if c.data != nil {
				body, _ = json.Marshal(c.data)
			}
			restCode, restRaw := restSrv.do(method, path, c.who, body, map[bool]string{true: "application/json"}[body != nil])
			t.Logf("REST %d %.160s", restCode, restRaw)
			var rest map[string]any
			_ = json.Unmarshal(restRaw, &rest)

			// GraphQL
			var query string
			vars := map[string]any{"id": c.id, "d": c.data}
			switch c.op {
			case "create":
				query = fmt.Sprintf(`mutation($d: JSON!) { r: create%s(data: $d) { %s } }`, typ, sh.selection())
				delete(vars, "id")
			case "update":
				query = fmt.Sprintf(`mutation($id: ID!, $d: JSON!) { r: update%s(id: $id, data: $d) { %s } }`, typ, sh.selection())
			case "delete":
				query = fmt.Sprintf(`mutation($id: ID!) { r: delete%s(id: $id) }`, typ)
				delete(vars, "d")
			}
			r := gqlSrv.gql(c.who, query, vars)

			if restCode >= 400 {
				require.NotEmpty(t, r.Errors, "REST answered %d %s", restCode, restRaw)
				assert.Nil(t, r.Data["r"])
				e := r.Errors[0]
				assert.EqualValues(t, restCode, e.Extensions["status"])
				assert.Equal(t, rest["message"], e.Message)
				assert.Equal(t, rest["data"], e.Extensions["data"], "the same field errors")
			} else {
				require.Empty(t, r.Errors, "REST answered %d", restCode)
				switch c.op {
				case "delete":
					assert.Equal(t, http.StatusNoContent, restCode)
					assert.Equal(t, true, r.Data["r"])
				default:
					got, ok := r.Data["r"].(map[string]any)
					require.True(t, ok, "a record: %#v", r.Data["r"])
					for _, f := range sh.scalars {
						if !volatile[f] {
							assert.Equal(t, rest[f], got[f], "field %s", f)
						}
					}
					for _, rel := range sh.rels {
						if sh.multi[rel] {
							continue
						}
						var gotID any
						if m, ok := got[rel].(map[string]any); ok {
							gotID = m["id"]
						}
						if rest[rel] != "" && gotID != nil {
							assert.Equal(t, rest[rel], gotID, "relation %s", rel)
						}
					}
				}
			}

			// the same stored state in both copies
			assert.Equal(t, snapshot(t, restSrv.app, c.collection), snapshot(t, gqlSrv.app, c.collection), "stored %s", c.collection)
		})
	}
}

// snapshot is a collection's rows without the fields two identical writes
// never share (ids and times of new rows), sorted.
func snapshot(t *testing.T, app core.App, collection string) []string {
	t.Helper()
	recs, err := app.FindAllRecords(collection)
	require.NoError(t, err)
	var out []string
	for _, r := range recs {
		m := map[string]any{}
		for k, v := range r.FieldsData() {
			if volatile[k] {
				continue
			}
			m[k] = v
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// TestMutationInput: data written inline in the query is read like variables;
// data that is not an object is refused before any request.
func TestMutationInput(t *testing.T) {
	s := newServer(t)
	r := s.gql(testkit.Student, `mutation { c: createComment(data: {post: "`+testkit.PostPublished+`", body: "Inline <i>words</i>", status: "hidden"}) { body status author { id } post { id } } }`, nil)
	require.Empty(t, r.Errors)
	c := r.Data["c"].(map[string]any)
	assert.Equal(t, "Inline words", c["body"], "plain text, as REST stores it")
	assert.Equal(t, testkit.UserStudent, c["author"].(map[string]any)["id"], "server-set author")
	assert.Equal(t, testkit.PostPublished, c["post"].(map[string]any)["id"])

	r = s.gql(testkit.Student, `mutation { createComment(data: "body") { id } }`, nil)
	require.NotEmpty(t, r.Errors)
	assert.EqualValues(t, 400, r.Errors[0].Extensions["status"])

	// mutations are measured like queries
	r = s.gql(testkit.Student, `mutation { createComment(data: {}) { post { comments(perPage: 200) { items { post { comments(perPage: 200) { totalItems } } } } } } }`, nil)
	require.NotEmpty(t, r.Errors)
	assert.Contains(t, r.Errors[0].Message, "may load")
}
