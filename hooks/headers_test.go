package hooks_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"
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
