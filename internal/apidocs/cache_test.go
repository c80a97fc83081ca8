package apidocs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheServesOneBuildUntilTheSchemaChanges(t *testing.T) {
	s := newServer(t)
	first, err := s.svc.current()
	require.NoError(t, err)
	again, err := s.svc.current()
	require.NoError(t, err)
	assert.Same(t, first, again, "no collection change, no rebuild")

	// saving a record is not a schema change
	topic := core.NewRecord(mustFind(t, s.app, "topics"))
	topic.Set("name", "Rust")
	require.NoError(t, s.app.Save(topic))
	again, err = s.svc.current()
	require.NoError(t, err)
	assert.Same(t, first, again)

	posts := mustFind(t, s.app, "posts")
	posts.Fields.Add(&core.TextField{Name: "subtitle", Max: 120})
	require.NoError(t, s.app.Save(posts))
	rebuilt, err := s.svc.current()
	require.NoError(t, err)
	assert.NotSame(t, first, rebuilt)
}

func TestReferenceFollowsCollectionChanges(t *testing.T) {
	s := newServer(t)
	res, before := s.do(t, http.MethodGet, PathOpenAPI, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	tag := res.Header.Get("ETag")
	require.NotEmpty(t, tag)
	res, _ = s.do(t, http.MethodGet, PathOpenAPI, "", "", "If-None-Match", tag)
	assert.Equal(t, http.StatusNotModified, res.StatusCode, "unchanged document, 304")
	assert.False(t, has(decode(t, before), "components", "schemas", "PostsRecord", "properties", "subtitle"))

	// add a field, as the dashboard would
	posts := mustFind(t, s.app, "posts")
	posts.Fields.Add(&core.TextField{Name: "subtitle", Max: 120})
	require.NoError(t, s.app.Save(posts))

	res, after := s.do(t, http.MethodGet, PathOpenAPI, "", "", "If-None-Match", tag)
	require.Equal(t, http.StatusOK, res.StatusCode, "the old ETag no longer matches")
	assert.NotEqual(t, tag, res.Header.Get("ETag"))
	v := decode(t, after)
	assert.Equal(t, float64(120), dig(t, v, "components", "schemas", "PostsRecord", "properties", "subtitle", "maxLength"))
	assert.True(t, has(v, "components", "schemas", "PostsCreate", "properties", "subtitle"))
	assert.NotEqual(t, dig(t, decode(t, before), "info", "version"), dig(t, v, "info", "version"), "the schema version changes")
	assert.Contains(t, string(s.get(t, PathTypes)), "subtitle?: string;")

	// a rule change rewrites the description; a locked rule documents the 403
	posts = mustFind(t, s.app, "posts")
	posts.DeleteRule = nil
	require.NoError(t, s.app.Save(posts))
	del := dig(t, decode(t, s.get(t, PathOpenAPI)), "paths", "/api/collections/posts/records/{id}", "delete").(map[string]any)
	assert.Contains(t, del["description"], "superusers only")
	assert.Contains(t, del["responses"], "403")

	// a new collection appears, a deleted one goes
	glossary := core.NewBaseCollection("glossary")
	glossary.ListRule = ptr("")
	glossary.Fields.Add(&core.TextField{Name: "term", Required: true})
	require.NoError(t, s.app.Save(glossary))
	v = decode(t, s.get(t, PathOpenAPI))
	assert.True(t, has(v, "paths", "/api/collections/glossary/records"))
	assert.True(t, has(v, "components", "schemas", "GlossaryRecord"))
	assert.Contains(t, dig(t, v, "paths", "/api/collections/glossary/records", "get", "description"), "anyone")
	assert.Contains(t, string(s.get(t, PathTypes)), `collection(idOrName: "glossary")`)
	loadDoc(t, s.get(t, PathOpenAPI))

	require.NoError(t, s.app.Delete(glossary))
	v = decode(t, s.get(t, PathOpenAPI))
	assert.False(t, has(v, "paths", "/api/collections/glossary/records"))
	assert.NotContains(t, string(s.get(t, PathTypes)), "glossary")
}

func mustFind(t *testing.T, app core.App, name string) *core.Collection {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(name)
	require.NoError(t, err)
	return c
}

func ptr(s string) *string { return &s }

// TestConcurrentReadsDuringSchemaChanges: readers racing a schema change get
// a complete document, and once the change is saved every reader sees it.
func TestConcurrentReadsDuringSchemaChanges(t *testing.T) {
	s := newServer(t)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				res, body := s.do(t, http.MethodGet, PathOpenAPI, "", "")
				if res.StatusCode != http.StatusOK || !json.Valid(body) {
					errs <- fmt.Sprintf("status %d, %d bytes", res.StatusCode, len(body))
				}
			}
		}()
	}
	for i := 0; i < 3; i++ {
		posts := mustFind(t, s.app, "posts")
		posts.Fields.Add(&core.TextField{Name: fmt.Sprintf("extra%d", i)})
		require.NoError(t, s.app.Save(posts))
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	props := dig(t, decode(t, s.get(t, PathOpenAPI)), "components", "schemas", "PostsRecord", "properties")
	for i := 0; i < 3; i++ {
		assert.Contains(t, props, fmt.Sprintf("extra%d", i))
	}
}
