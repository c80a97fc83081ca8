package hooks_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"

	"lectern/internal/testkit"
)

// Control and bidi-override characters never reach storage, whichever way
// the text arrives; clean text is stored as sent.
func TestTextFieldsLoseControlCharacters(t *testing.T) {
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "a post title with an RLO spoof and an ESC sequence",
			Method:          http.MethodPost,
			URL:             "/api/collections/posts/records",
			Body:            jsonBody(map[string]any{"title": "Hi \u202egnp.exe \x1b[31mred", "body": "<p>b\u2066ody\u2069</p>"}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"title":"Hi gnp.exe [31mred"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				r := createdRecord(t, app, "posts", res)
				assert.Equal(t, "Hi gnp.exe [31mred", r.GetString("title"))
				assert.Equal(t, "<p>body</p>", r.GetString("body"))
				assert.Equal(t, "hi-gnp-exe-31mred", r.GetString("slug"))
			},
		},
		{
			Name:            "a display name with NUL and a bidi isolate",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + testkit.UserStudent,
			Body:            jsonBody(map[string]any{"name": "\u2067admin\u2069\x00 Ann"}),
			Headers:         fixture.Headers(testkit.Student),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"name":"admin Ann"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				u, err := app.FindRecordById("users", testkit.UserStudent)
				if assert.NoError(t, err) {
					assert.Equal(t, "admin Ann", u.GetString("name"))
				}
			},
		},
		{
			Name:            "an entity-encoded override in a comment is decoded to plain text, then stripped",
			Method:          http.MethodPost,
			URL:             "/api/collections/comments/records",
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Hi &#x202e;gnp.exe &#8238;x"}),
			Headers:         fixture.Headers(testkit.Student),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"Hi gnp.exe x"`},
		},
		{
			Name:            "a comment keeps its newlines and right-to-left text",
			Method:          http.MethodPost,
			URL:             "/api/collections/comments/records",
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "שלום\nsecond line\u202d"}),
			Headers:         fixture.Headers(testkit.Student),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"שלום\nsecond line"`},
		},
	})
}
