package apidocs

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

var lecternCollections = []string{"users", "topics", "posts", "comments", "courses", "lessons", "enrollments", "reviews"}

// loadDoc parses and validates an OpenAPI document with kin-openapi, which
// validates 3.1 documents against the 3.1 rules (JSON Schema 2020-12).
func loadDoc(t *testing.T, body []byte) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(body)
	require.NoError(t, err, "load")
	require.True(t, doc.IsOpenAPI31OrLater(), "openapi %q", doc.OpenAPI)
	// examples, defaults and patterns are validated by default; unknown
	// formats are refused too
	require.NoError(t, doc.Validate(loader.Context, openapi3.EnableSchemaFormatValidation(), openapi3.EnableMultiError()), "validate")
	return doc
}

// dig walks a decoded JSON value by object keys.
func dig(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object", strings.Join(path[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s: missing", strings.Join(path[:i+1], "."))
		}
	}
	return v
}

func has(v any, path ...string) bool {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(body, &v))
	return v
}

func TestOpenAPIDocumentIsValid31(t *testing.T) {
	s := newServer(t)
	res, body := s.do(t, http.MethodGet, PathOpenAPI, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "application/json")
	doc := loadDoc(t, body)
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	for _, name := range lecternCollections {
		tn := typeName(name)
		assert.NotNil(t, doc.Components.Schemas[tn+"Record"], name)
		assert.NotNil(t, doc.Paths.Find("/api/collections/"+name+"/records"), name)
		assert.NotNil(t, doc.Paths.Find("/api/collections/"+name+"/records/{id}"), name)
	}
	// PocketBase's system collections are not part of the public API
	assert.Nil(t, doc.Components.Schemas["SuperusersRecord"])
	assert.Nil(t, doc.Paths.Find("/api/collections/_superusers/records"))
}

func TestOpenAPIRecordSchemas(t *testing.T) {
	s := newServer(t)
	body := s.get(t, PathOpenAPI)
	v := decode(t, body)
	schemas := dig(t, v, "components", "schemas")
	posts := dig(t, schemas, "PostsRecord", "properties")

	assert.Equal(t, []any{"draft", "scheduled", "published", "archived", ""}, dig(t, posts, "status", "enum"), "optional select: its values or empty")
	assert.Equal(t, float64(200), dig(t, posts, "title", "maxLength"))
	assert.Equal(t, float64(3), dig(t, posts, "title", "minLength"))
	assert.Equal(t, "integer", dig(t, posts, "commentsCount", "type"))
	for _, f := range []string{"commentsCount", "readingMinutes", "author", "id", "created", "updated"} {
		assert.Equal(t, true, dig(t, posts, f, "readOnly"), "posts.%s is server-set", f)
	}
	for _, f := range []string{"title", "status", "publishedAt", "slug"} {
		assert.False(t, has(posts, f, "readOnly"), "posts.%s is writable", f)
	}
	assert.Equal(t, "array", dig(t, posts, "topics", "type"))
	assert.Equal(t, "string", dig(t, posts, "cover", "type"), "a single file is its name")
	assert.Equal(t, "#/components/schemas/UsersRecord", dig(t, posts, "expand", "properties", "author", "$ref"))
	assert.Equal(t, "#/components/schemas/TopicsRecord", dig(t, posts, "expand", "properties", "topics", "items", "$ref"))
	assert.Equal(t, "#/components/schemas/CommentsRecord", dig(t, posts, "expand", "properties", "comments_via_post", "items", "$ref"))
	assert.ElementsMatch(t, []any{"id", "collectionId", "collectionName", "title", "author", "created", "updated"}, dig(t, schemas, "PostsRecord", "required"))

	// dates are described as PocketBase writes them, not claimed as RFC 3339
	assert.NotContains(t, string(body), `"date-time"`)
	assert.Equal(t, datePattern, dig(t, schemas, "Date", "pattern"))
	assert.Contains(t, dig(t, posts, "publishedAt", "pattern"), datePattern[1:])

	courses := dig(t, schemas, "CoursesRecord", "properties")
	assert.Equal(t, "integer", dig(t, courses, "durationDays", "type"))
	assert.Equal(t, float64(1), dig(t, courses, "durationDays", "minimum"))
	assert.Equal(t, "number", dig(t, courses, "ratingAvg", "type"))
	assert.Equal(t, float64(5), dig(t, courses, "ratingAvg", "maximum"))
	assert.Equal(t, "^$|(?:^[A-Z]{3}$)", dig(t, courses, "currency", "pattern"))
	assert.Equal(t, "text/html", dig(t, courses, "description", "contentMediaType"))

	users := dig(t, schemas, "UsersRecord", "properties")
	for _, hidden := range []string{"password", "tokenKey"} {
		assert.False(t, has(users, hidden), "users.%s is hidden", hidden)
	}
	assert.True(t, has(users, "email"))
	assert.NotContains(t, dig(t, schemas, "UsersRecord", "required"), "email", "email is left out of others' records")
	assert.Equal(t, true, dig(t, users, "emailVisibility", "readOnly"))
	assert.Equal(t, true, dig(t, users, "verified", "readOnly"))
	assert.Equal(t, []any{"student", "author", "instructor", "admin", ""}, dig(t, users, "role", "enum"))
	assert.Contains(t, dig(t, users, "expand", "properties"), "posts_via_author")

	enrollments := dig(t, schemas, "EnrollmentsRecord", "properties")
	assert.Equal(t, float64(100), dig(t, enrollments, "progress", "maximum"))
	assert.Equal(t, "#/components/schemas/LessonsRecord", dig(t, enrollments, "expand", "properties", "completedLessons", "items", "$ref"))
}

func TestOpenAPIRequestBodies(t *testing.T) {
	s := newServer(t)
	v := decode(t, s.get(t, PathOpenAPI))
	schemas := dig(t, v, "components", "schemas")

	create := dig(t, schemas, "PostsCreate", "properties")
	for _, f := range []string{"commentsCount", "readingMinutes", "author", "created", "updated", "cover"} {
		assert.False(t, has(create, f), "PostsCreate.%s", f)
	}
	assert.True(t, has(create, "title"))
	assert.Equal(t, []any{"title"}, dig(t, schemas, "PostsCreate", "required"))
	form := dig(t, schemas, "PostsCreateForm", "properties")
	assert.Equal(t, "binary", dig(t, form, "cover", "format"), "files go up as multipart parts")
	assert.Contains(t, dig(t, v, "paths", "/api/collections/posts/records", "post", "requestBody", "content"), "multipart/form-data")
	assert.NotContains(t, dig(t, v, "paths", "/api/collections/comments/records", "post", "requestBody", "content"), "multipart/form-data", "no file field, no multipart body")

	// fixed fields: chosen on create, absent from update
	assert.ElementsMatch(t, []any{"post", "body"}, dig(t, schemas, "CommentsCreate", "required"))
	cu := dig(t, schemas, "CommentsUpdate", "properties")
	for _, f := range []string{"post", "parent", "author", "edited"} {
		assert.False(t, has(cu, f), "CommentsUpdate.%s", f)
	}
	assert.True(t, has(cu, "status"))
	eu := dig(t, schemas, "EnrollmentsUpdate", "properties")
	assert.True(t, has(eu, "completedLessons+"), "list modifiers are documented")
	assert.False(t, has(eu, "progress"))

	uc := dig(t, schemas, "UsersCreate", "properties")
	assert.True(t, has(uc, "password"))
	assert.True(t, has(uc, "email"))
	assert.False(t, has(uc, "verified"))
	assert.False(t, has(uc, "emailVisibility"))
	assert.Subset(t, dig(t, schemas, "UsersCreate", "required"), []any{"email", "password", "passwordConfirm", "name"})
	uu := dig(t, schemas, "UsersUpdate", "properties")
	assert.False(t, has(uu, "email"), "email changes go through request-email-change")
	assert.True(t, has(uu, "oldPassword"))
}

func TestOpenAPIOperations(t *testing.T) {
	s := newServer(t)
	v := decode(t, s.get(t, PathOpenAPI))
	paths := dig(t, v, "paths")
	op := func(path, method string) map[string]any {
		t.Helper()
		return dig(t, paths, path, method).(map[string]any)
	}

	list := op("/api/collections/posts/records", "get")
	desc := list["description"].(string)
	assert.Contains(t, desc, "Anyone for published posts")
	assert.Contains(t, desc, "Rule: `status = \"published\" ||")
	assert.Contains(t, desc, "**200**")
	var params []string
	for _, p := range list["parameters"].([]any) {
		params = append(params, strings.TrimPrefix(p.(map[string]any)["$ref"].(string), "#/components/parameters/"))
	}
	assert.Equal(t, []string{"page", "perPage", "sort", "filter", "expand", "fields", "skipTotal"}, params)
	// a larger perPage is clamped, not refused: the cap is on the answer's perPage
	assert.False(t, has(v, "components", "parameters", "perPage", "schema", "maximum"))
	assert.Equal(t, float64(200), dig(t, v, "components", "schemas", "PostsListResult", "properties", "perPage", "maximum"))
	assert.Equal(t, "#/components/schemas/PostsListResult", dig(t, list, "responses", "200", "content", "application/json", "schema", "$ref"))
	assert.ElementsMatch(t, []any{"page", "perPage", "totalItems", "totalPages", "items"}, dig(t, v, "components", "schemas", "PostsListResult", "required"))

	assert.Contains(t, op("/api/collections/topics/records", "post")["description"], "Admins.")
	assert.Contains(t, op("/api/collections/users/records", "get")["description"], "Admins (role admin)")
	assert.Contains(t, op("/api/collections/enrollments/records/{id}", "delete")["description"], "Admins.")
	assert.Contains(t, op("/api/collections/users/records/{id}", "get")["description"], "(Empty rule.)")

	update := op("/api/collections/comments/records/{id}", "patch")
	assert.Contains(t, update["responses"], "403", "the comment hooks refuse some changes with 403")
	assert.Contains(t, update["responses"], "404")
	assert.Contains(t, update["description"], "**403**")
	assert.Contains(t, op("/api/collections/posts/records/{id}", "get")["responses"], "404")
	assert.Equal(t, float64(404), dig(t, op("/api/collections/posts/records/{id}", "get"), "responses", "404", "content", "application/json", "example", "status"), "each error answer has an example of its own status")
	assert.Equal(t, "Failed to create record.", dig(t, op("/api/collections/posts/records", "post"), "responses", "400", "content", "application/json", "example", "message"))
	assert.Contains(t, dig(t, op("/api/collections/posts/records", "post"), "responses", "400", "content", "application/json", "example", "data"), "title")
	assert.Contains(t, op("/api/collections/posts/records/{id}", "delete")["responses"], "204")
	// a token that fails verification is a 401 on every API route but sign-in
	for _, path := range []string{"/api/collections/posts/records", "/api/realtime", "/api/collections/users/auth-refresh"} {
		for _, o := range dig(t, v, "paths", path).(map[string]any) {
			assert.Contains(t, dig(t, o, "responses", "401", "description"), "token_expired", path)
		}
	}
	assert.Contains(t, op("/api/courses/{id}/syllabus", "get")["description"], "never a body")
	assert.NotContains(t, op("/api/collections/users/auth-with-password", "post")["responses"], "401",
		"signing in is how a stale token is replaced")
	assert.Contains(t, op("/api/collections/reviews/records", "post")["responses"], "400")
	assert.NotContains(t, op("/api/collections/posts/records", "get")["responses"], "403", "no locked rule, no 403")

	assert.Equal(t, []any{"users-auth"}, dig(t, paths, "/api/collections/users/auth-refresh", "post", "tags"))
	for _, p := range []string{"auth-with-password", "auth-refresh", "auth-methods", "request-password-reset", "confirm-password-reset", "request-verification", "confirm-verification", "request-email-change", "confirm-email-change"} {
		assert.Contains(t, paths, "/api/collections/users/"+p)
	}
	assert.Equal(t, "#/components/schemas/UsersAuthResponse", dig(t, paths, "/api/collections/users/auth-with-password", "post", "responses", "200", "content", "application/json", "schema", "$ref"))
	assert.Contains(t, dig(t, paths, "/api/realtime", "get", "responses", "200", "content"), "text/event-stream")
	assert.Contains(t, dig(t, paths, "/api/realtime"), "post")
	assert.Contains(t, dig(t, v, "components", "schemas"), "CommentsRealtimeEvent")
	assert.ElementsMatch(t, []any{"status", "message", "data"}, dig(t, v, "components", "schemas", "Error", "required"))

	// this package's routes are in the router; search and feeds are not in this test app
	for _, p := range []string{PathOpenAPI, PathDocs, PathTypes} {
		assert.Contains(t, paths, p)
	}
	for _, p := range []string{"/api/search", "/feed.xml", "/sitemap.xml"} {
		assert.NotContains(t, paths, p)
	}
}

func TestOpenAPIListsLecternRoutesWhenRouted(t *testing.T) {
	ok := func(e *core.RequestEvent) error { return e.NoContent(http.StatusNoContent) }
	s := newServer(t, func(se *core.ServeEvent) {
		se.Router.GET("/api/search", ok)
		se.Router.GET("/feed.xml", ok)
		se.Router.GET("/topics/{slug}/feed.xml", ok)
	})
	body := s.get(t, PathOpenAPI)
	v := decode(t, body)
	paths := dig(t, v, "paths")
	assert.Contains(t, paths, "/api/search")
	assert.Contains(t, paths, "/feed.xml")
	assert.Contains(t, paths, "/topics/{slug}/feed.xml")
	assert.NotContains(t, paths, "/atom.xml")
	search := dig(t, v, "components", "schemas", "SearchResult", "properties")
	for _, k := range []string{"page", "perPage", "totalItems", "totalPages", "items", "facets", "correctedQuery", "approximate", "approximateRanking"} {
		assert.Contains(t, search, k)
	}
	loadDoc(t, body)
}

// TestResponsesMatchSchemas checks the document against what the server
// really answers: each response body must validate against its schema.
func TestResponsesMatchSchemas(t *testing.T) {
	s := newServer(t)
	doc := loadDoc(t, s.get(t, PathOpenAPI))
	schema := func(name string) *openapi3.Schema {
		ref := doc.Components.Schemas[name]
		require.NotNil(t, ref, name)
		return ref.Value
	}
	validate := func(t *testing.T, name string, body []byte) {
		t.Helper()
		var value any
		require.NoError(t, json.Unmarshal(body, &value))
		require.NoError(t, schema(name).VisitJSON(value, openapi3.EnableJSONSchema2020()), "%s: %s", name, body)
	}

	scenarios := []struct {
		name, identity, method, url, body string
		status                            int
		schema                            string
	}{
		{"guest listing posts with expands", "", "GET", "/api/collections/posts/records?expand=author,topics,comments_via_post", "", 200, "PostsListResult"},
		{"author listing own drafts", testkit.Author, "GET", "/api/collections/posts/records?filter=status%3D%22draft%22", "", 200, "PostsListResult"},
		{"guest viewing a post", "", "GET", "/api/collections/posts/records/" + testkit.PostPublished + "?expand=author", "", 200, "PostsRecord"},
		{"guest viewing a profile", "", "GET", "/api/collections/users/records/" + testkit.UserAuthor, "", 200, "UsersRecord"},
		{"student viewing own profile", testkit.Student, "GET", "/api/collections/users/records/" + testkit.UserStudent, "", 200, "UsersRecord"},
		{"admin listing users", testkit.Admin, "GET", "/api/collections/users/records?expand=posts_via_author", "", 200, "UsersListResult"},
		{"guest listing topics", "", "GET", "/api/collections/topics/records", "", 200, "TopicsListResult"},
		{"guest listing comments with replies", "", "GET", "/api/collections/comments/records?expand=post,parent,author,comments_via_parent", "", 200, "CommentsListResult"},
		{"guest listing courses", "", "GET", "/api/collections/courses/records?expand=instructor,topics", "", 200, "CoursesListResult"},
		{"guest listing lessons", "", "GET", "/api/collections/lessons/records?expand=course", "", 200, "LessonsListResult"},
		{"student listing enrollments", testkit.Student, "GET", "/api/collections/enrollments/records?expand=course,completedLessons,user", "", 200, "EnrollmentsListResult"},
		{"guest listing reviews with skipTotal", "", "GET", "/api/collections/reviews/records?expand=course,user&skipTotal=1", "", 200, "ReviewsListResult"},
		{"author creating a post", testkit.Author, "POST", "/api/collections/posts/records?expand=author", `{"title":"Typed","body":"<p>x</p>","status":"published"}`, 200, "PostsRecord"},
		{"student commenting", testkit.Student, "POST", "/api/collections/comments/records", `{"post":"` + testkit.PostPublished + `","body":"Nice"}`, 200, "CommentsRecord"},
		{"guest viewing a draft", "", "GET", "/api/collections/posts/records/" + testkit.PostDraft, "", 404, "Error"},
		{"student reviewing with rating 9", testkit.Student, "POST", "/api/collections/reviews/records", `{"course":"` + testkit.CoursePublished2 + `","rating":9}`, 400, "Error"},
		{"guest listing posts with a bad filter", "", "GET", "/api/collections/posts/records?filter=nope%3D%3D", "", 400, "Error"},
		{"student signing in", "", "POST", "/api/collections/users/auth-with-password", `{"identity":"student@lectern.test","password":"` + testkit.Password + `"}`, 200, "UsersAuthResponse"},
		{"guest listing auth methods", "", "GET", "/api/collections/users/auth-methods", "", 200, "AuthMethods"},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if sc.body != "" && sc.method == "POST" && sc.status == 200 && strings.Contains(sc.url, "/records") {
				name := typeName(strings.Split(sc.url, "/")[3]) + "Create"
				validate(t, name, []byte(sc.body)) // what we send is a valid create body too
			}
			res, body := s.do(t, sc.method, sc.url, sc.identity, sc.body)
			require.Equal(t, sc.status, res.StatusCode, "%s", body)
			validate(t, sc.schema, body)
		})
	}

	// the schemas do reject what the server never sends
	var rec map[string]any
	_, body := s.do(t, "GET", "/api/collections/posts/records/"+testkit.PostPublished, "", "")
	require.NoError(t, json.Unmarshal(body, &rec))
	rec["status"] = "live"
	assert.Error(t, schema("PostsRecord").VisitJSON(rec, openapi3.EnableJSONSchema2020()), "an unknown select value")
	rec["status"], rec["publishedAt"] = "published", "2026-05-01T09:30:00Z"
	assert.Error(t, schema("PostsRecord").VisitJSON(rec, openapi3.EnableJSONSchema2020()), "RFC 3339 is not how PocketBase writes dates")
	assert.Error(t, schema("PostsCreate").VisitJSON(map[string]any{"status": "draft"}, openapi3.EnableJSONSchema2020()), "title is required")
}
