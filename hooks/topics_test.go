package hooks_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"

	"lectern/internal/testkit"
)

const topicsURL = "/api/collections/topics/records"

func TestTopicSlugs(t *testing.T) {
	admin := fixture.Headers(testkit.Admin)
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "admin creating a topic gets a slug from the name",
			Method:          http.MethodPost,
			URL:             topicsURL,
			Body:            jsonBody(map[string]any{"name": "Web Security"}),
			Headers:         admin,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"web-security"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, "web-security", createdRecord(t, app, "topics", res).GetString("slug"))
			},
		},
		{
			Name:            "admin creating a topic with a non-ASCII name gets it transliterated",
			Method:          http.MethodPost,
			URL:             topicsURL,
			Body:            jsonBody(map[string]any{"name": "Ünïcödé"}),
			Headers:         admin,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"unicode"`},
		},
		{
			Name:            "admin creating an emoji-only topic gets the topic fallback slug",
			Method:          http.MethodPost,
			URL:             topicsURL,
			Body:            jsonBody(map[string]any{"name": "🦀"}),
			Headers:         admin,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"topic"`},
		},
		{
			Name:            "admin creating a topic whose slug collides gets -2",
			Method:          http.MethodPost,
			URL:             topicsURL,
			Body:            jsonBody(map[string]any{"name": "Go!"}),
			Headers:         admin,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"go-2"`},
		},
		{
			Name:    "admin creating a topic whose slug collides twice gets -3",
			Method:  http.MethodPost,
			URL:     topicsURL,
			Body:    jsonBody(map[string]any{"name": "GO"}),
			Headers: admin,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				assert.Equal(t, "go-2", newRecord(t, app, "topics", map[string]any{"name": "Go?"}).GetString("slug"))
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"go-3"`},
		},
		{
			Name:            "admin sending a slug for a new topic has it ignored (server field)",
			Method:          http.MethodPost,
			URL:             topicsURL,
			Body:            jsonBody(map[string]any{"name": "Databases", "slug": "my-slug"}),
			Headers:         admin,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"databases"`},
		},
		{
			Name:            "superuser sending a slug for a new topic has it ignored too",
			Method:          http.MethodPost,
			URL:             topicsURL,
			Body:            jsonBody(map[string]any{"name": "Databases", "slug": "Not Valid"}),
			Headers:         fixture.Headers(testkit.Superuser),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"databases"`},
		},
		{
			Name:            "admin renaming a topic keeps its slug",
			Method:          http.MethodPatch,
			URL:             topicsURL + "/" + testkit.TopicGo,
			Body:            jsonBody(map[string]any{"name": "Golang"}),
			Headers:         admin,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"name":"Golang"`, `"slug":"go"`},
		},
		{
			Name:            "admin changing a topic's slug has it ignored",
			Method:          http.MethodPatch,
			URL:             topicsURL + "/" + testkit.TopicGo,
			Body:            jsonBody(map[string]any{"slug": "golang"}),
			Headers:         admin,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"slug":"go"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, "go", findRecord(t, app, "topics", testkit.TopicGo).GetString("slug"))
			},
		},
		{
			Name:            "admin creating a topic with a taken name gets a 400 on name",
			Method:          http.MethodPost,
			URL:             topicsURL,
			Body:            jsonBody(map[string]any{"name": "Go"}),
			Headers:         admin,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"name":{"code":"validation_not_unique"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, 1, countRows(t, app, "topics", "name = 'Go'", nil))
			},
		},
	})

	t.Run("a topic whose slug was cleared by Go code re-derives it", func(t *testing.T) {
		app := fixture.NewApp(t)
		defer app.Cleanup()
		topic := updateRecord(t, app, "topics", testkit.TopicGo, map[string]any{"name": "Go Language", "slug": ""})
		assert.Equal(t, "go-language", topic.GetString("slug"))
	})
}
