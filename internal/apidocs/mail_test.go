package apidocs

import (
	"net/http"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stretchr/testify/assert"
)

func TestOpenAPIDocumentsTheMailRoutes(t *testing.T) {
	ok := func(e *core.RequestEvent) error { return e.NoContent(http.StatusNoContent) }
	s := newServer(t, func(se *core.ServeEvent) {
		for _, r := range mailRoutes {
			se.Router.POST(r.path, ok)
		}
	})
	body := s.get(t, PathOpenAPI)
	v := decode(t, body)
	for _, r := range mailRoutes {
		post := dig(t, v, "paths", r.path, "post")
		assert.Equal(t, []any{"mail"}, dig(t, post, "tags"), r.path)
		assert.Contains(t, dig(t, post, "responses"), "429", r.path)
	}
	assert.Contains(t, dig(t, v, "paths", PathNewsletterSubscribe, "post", "responses"), "202")
	assert.Contains(t, dig(t, v, "paths", PathContact, "post", "responses"), "503")
	assert.Contains(t, dig(t, v, "paths", PathNewsletterUnsubscribe, "post", "requestBody", "content"), "application/x-www-form-urlencoded")
	loadDoc(t, body)

	// not routed: not documented
	plain := decode(t, newServer(t).get(t, PathOpenAPI))
	assert.NotContains(t, dig(t, plain, "paths"), PathContact)
}
