package apidocs

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/search"
)

func TestTypesEndpointAndCommandAgree(t *testing.T) {
	s := newServer(t)
	res, served := s.do(t, http.MethodGet, PathTypes, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/plain")
	assert.NotEmpty(t, res.Header.Get("ETag"))

	out := filepath.Join(t.TempDir(), "nested", "lectern-types.d.ts")
	cmd := NewTypesCommand(s.app)
	cmd.SetArgs([]string{"--out", out})
	var stderr bytes.Buffer
	cmd.SetErr(&stderr)
	require.NoError(t, cmd.Execute())
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, string(served), string(written))
	assert.Contains(t, stderr.String(), out)

	cmd = NewTypesCommand(s.app)
	cmd.SetArgs(nil)
	var stdout bytes.Buffer
	cmd.SetOut(&stdout)
	require.NoError(t, cmd.Execute())
	assert.Equal(t, string(served), stdout.String())
}

func TestTypesDescribeTheSchema(t *testing.T) {
	s := newServer(t)
	ts := string(s.get(t, PathTypes))
	block := func(name string) string {
		t.Helper()
		start := strings.Index(ts, "export type "+name+" = {")
		require.GreaterOrEqual(t, start, 0, name)
		end := strings.Index(ts[start:], "\n};")
		return ts[start : start+end]
	}

	assert.Contains(t, ts, `import type PocketBase from "pocketbase";`)
	assert.Contains(t, ts, `export type PostsStatusOptions = "draft" | "scheduled" | "published" | "archived";`)
	assert.Contains(t, ts, `export type UsersRoleOptions = "student" | "author" | "instructor" | "admin";`)

	posts := block("PostsRecord")
	assert.Contains(t, posts, "\n  title: string;")
	assert.Contains(t, posts, "\n  author: RecordIdString;")
	// every field the server always writes is required in the response type
	assert.Contains(t, posts, "\n  topics: RecordIdString[];")
	assert.Contains(t, posts, "\n  status: PostsStatusOptions | \"\";")
	assert.Contains(t, posts, "\n  slug: string;")
	assert.NotContains(t, posts[:strings.Index(posts, "\n  expand?")], "?: ", "no optional field but expand")
	assert.Contains(t, posts, "\n  expand?: ")
	// the header names the file the README's command writes
	assert.Contains(t, ts, "--out src/lectern.d.ts")
	assert.Contains(t, ts, `import type { TypedPocketBase } from "./lectern";`)
	assert.Contains(t, posts, "\n  collectionName: \"posts\";")
	assert.Contains(t, posts, "\n  created: IsoDateString;")
	assert.Contains(t, posts, "expand?: { author?: UsersRecord; topics?: TopicsRecord[]; comments_via_post?: CommentsRecord[] };")

	create := block("PostsCreate")
	assert.Contains(t, create, "\n  title: string;")
	assert.Contains(t, create, "\n  cover?: FileUpload;")
	for _, server := range []string{"commentsCount", "readingMinutes", "author", "created", "updated", "collectionName"} {
		assert.NotContains(t, create, "\n  "+server+"?", server)
		assert.NotContains(t, create, "\n  "+server+":", server)
	}
	update := block("PostsUpdate")
	assert.NotContains(t, update, "\n  title: ", "every update field is optional")
	assert.Contains(t, update, "\n  title?: string;")

	assert.NotContains(t, block("CommentsUpdate"), "\n  post?", "a fixed field is not in the update input")
	assert.Contains(t, block("CommentsCreate"), "\n  post: RecordIdString;")
	assert.Contains(t, block("EnrollmentsUpdate"), "\n  \"completedLessons+\"?: RecordIdString | RecordIdString[];")

	users := block("UsersRecord")
	assert.Contains(t, users, "\n  email?: string;")
	assert.NotContains(t, users, "password")
	assert.NotContains(t, users, "tokenKey")
	uc := block("UsersCreate")
	assert.Contains(t, uc, "\n  password: string;")
	assert.Contains(t, uc, "\n  email: string;")
	assert.NotContains(t, uc, "verified")

	assert.Contains(t, ts, `collection(idOrName: "posts"): TypedRecordService<PostsRecord, PostsCreate, PostsUpdate>;`)
	assert.Contains(t, ts, "collection<M = RecordModel>(idOrName: string): RecordService<M>;")
	assert.Contains(t, ts, "export interface TypedPocketBase extends PocketBase {")

	// GET /api/search: a slim hit's record is a Pick of the record without its body
	assert.Contains(t, ts, "export type SearchHit = PostsSearchHit | CoursesSearchHit | LessonsSearchHit;")
	assert.Contains(t, ts, "export type PostsSearchRecord = Pick<PostsRecord, ")
	slim := ts[strings.Index(ts, "export type PostsSearchRecord"):]
	slim = slim[:strings.Index(slim, "\n")]
	for _, f := range search.SlimRecordFields("posts") {
		assert.Contains(t, slim, `"`+f+`"`)
	}
	assert.NotContains(t, slim, `"body"`)
	assert.Contains(t, block("SearchParams"), "\n  perPage?: number;")
	assert.Contains(t, block("SearchParams"), "\n  level?: CoursesLevelOptions;")
	assert.Contains(t, block("PostsSearchHit"), "\n  type: \"posts\";")
	assert.Contains(t, ts, "export type SearchResult<H = SearchHit> = {")
}
