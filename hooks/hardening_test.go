package hooks_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

func TestSecurityHeaders(t *testing.T) {
	s := tests.ApiScenario{
		Name:            "guest lists posts and gets the security headers",
		Method:          http.MethodGet,
		URL:             "/api/collections/posts/records",
		TestAppFactory:  fixture.Factory,
		ExpectedStatus:  200,
		ExpectedContent: []string{`"items"`},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			assert.Equal(t, "strict-origin-when-cross-origin", res.Header.Get("Referrer-Policy"))
			assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "SAMEORIGIN", res.Header.Get("X-Frame-Options"))
		},
	}
	s.Test(t)
}

func TestHardening(t *testing.T) {
	student := fixture.Headers(testkit.Student)
	self := "/api/collections/users/records/" + testkit.UserStudent
	scenarios := []tests.ApiScenario{
		{
			Name:   "student saves a website with quotes and brackets: stored percent-encoded",
			Method: http.MethodPatch, URL: self, Headers: student,
			Body:            strings.NewReader(`{"website":"https://evil.example/\"><script>alert(1)</script>?q=\"x\""}`),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"website":"https://evil.example/%22%3E%3Cscript%3Ealert(1)%3C/script%3E?q=%22x%22"`},
		},
		{
			Name:   "student saves a javascript: website: 400 on website",
			Method: http.MethodPatch, URL: self, Headers: student,
			Body:            strings.NewReader(`{"website":"javascript:alert(1)"}`),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"website":{"code":"validation_`},
		},
		{
			Name:   "student sends JSON followed by garbage: 400, nothing written",
			Method: http.MethodPatch, URL: self, Headers: student,
			Body:            strings.NewReader(`{"name":"Changed"} garbage`),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				u, err := app.FindRecordById("users", testkit.UserStudent)
				require.NoError(t, err)
				assert.Equal(t, "Sam Student", u.GetString("name"))
			},
		},
		{
			Name:   "student sends two JSON documents: 400",
			Method: http.MethodPatch, URL: self, Headers: student,
			Body:            strings.NewReader(`{"name":"A"}}`),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
		},
	}
	for _, s := range scenarios {
		s.TestAppFactory = fixture.Factory
		s.Test(t)
	}
}
