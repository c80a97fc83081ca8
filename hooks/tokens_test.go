package hooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/stretchr/testify/require"

	"lectern/internal/testkit"
)

// badTokens builds one token per way a token can fail verification, each
// otherwise well formed for the fixture's author.
func badTokens(t *testing.T) map[string]string {
	app := fixture.NewApp(t)
	defer app.Cleanup()
	author, err := app.FindRecordById("users", testkit.UserAuthor)
	require.NoError(t, err)
	users := author.Collection()
	posts, err := app.FindCollectionByNameOrId("posts")
	require.NoError(t, err)
	key := author.TokenKey() + users.AuthToken.Secret
	claims := func(id, collectionID, typ string) jwt.MapClaims {
		return jwt.MapClaims{core.TokenClaimId: id, core.TokenClaimCollectionId: collectionID, core.TokenClaimType: typ, core.TokenClaimRefreshable: true}
	}
	sign := func(c jwt.MapClaims, key string, d time.Duration) string {
		tok, err := security.NewJWT(c, key, d)
		require.NoError(t, err)
		return tok
	}
	file, err := author.NewFileToken()
	require.NoError(t, err)
	return map[string]string{
		"expired":          sign(claims(author.Id, users.Id, core.TokenTypeAuth), key, -time.Minute),
		"bad signature":    sign(claims(author.Id, users.Id, core.TokenTypeAuth), "not the key", time.Hour),
		"unknown record":   sign(claims("nosuchuser0001", users.Id, core.TokenTypeAuth), key, time.Hour),
		"wrong collection": sign(claims(testkit.PostPublished, posts.Id, core.TokenTypeAuth), key, time.Hour),
		"no collection":    sign(claims(author.Id, "nosuchcoll0001", core.TokenTypeAuth), key, time.Hour),
		"file token":       file,
		"garbled":          "not-a-token",
		"bearer garbled":   "Bearer not.a.token",
	}
}

func TestBadTokenIs401(t *testing.T) {
	toks := badTokens(t)
	codes := map[string]string{
		"expired": "token_expired", "bad signature": "token_signature_invalid",
		"unknown record": "token_record_not_found", "wrong collection": "token_collection_invalid",
		"no collection": "token_collection_invalid", "file token": "token_type_invalid",
		"garbled": "token_malformed", "bearer garbled": "token_malformed",
	}
	messages := map[string]string{
		"token_expired":            "has expired",
		"token_signature_invalid":  "signature is invalid",
		"token_record_not_found":   "no longer exists",
		"token_collection_invalid": "not an auth collection",
		"token_type_invalid":       "not an auth token",
		"token_malformed":          "does not hold a valid auth token",
	}
	// one of Lectern's own routes, as search, graphql and mail register them
	lecternRoute := func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		e.Router.GET("/api/lectern-own", func(re *core.RequestEvent) error {
			return re.JSON(http.StatusOK, map[string]bool{"guest": re.Auth == nil})
		})
	}
	routes := []struct {
		name, method, url, body string
		before                  func(testing.TB, *tests.TestApp, *core.ServeEvent)
	}{
		{"listing posts", http.MethodGet, "/api/collections/posts/records", "", nil},
		{"viewing a post", http.MethodGet, "/api/collections/posts/records/" + testkit.PostPublished, "", nil},
		{"creating a post", http.MethodPost, "/api/collections/posts/records", `{"title":"Stale session"}`, nil},
		{"subscribing to realtime", http.MethodPost, "/api/realtime", `{"clientId":"x","subscriptions":["posts"]}`, nil},
		{"refreshing auth", http.MethodPost, "/api/collections/users/auth-refresh", "", nil},
		{"calling a Lectern route", http.MethodGet, "/api/lectern-own", "", lecternRoute},
	}
	var scenarios []tests.ApiScenario
	for kind, tok := range toks {
		code := codes[kind]
		for _, r := range routes {
			scenarios = append(scenarios, tests.ApiScenario{
				Name:           kind + " token " + r.name,
				Method:         r.method,
				URL:            r.url,
				Body:           strings.NewReader(r.body),
				Headers:        map[string]string{"Authorization": tok, "Content-Type": "application/json"},
				BeforeTestFunc: r.before,
				ExpectedStatus: http.StatusUnauthorized,
				ExpectedContent: []string{
					`"status":401`, `"code":"` + code + `"`, messages[code],
				},
				ExpectedEvents: map[string]int{"*": 0},
				TestAppFactory: fixture.Factory,
			})
		}
	}
	scenarios = append(scenarios,
		tests.ApiScenario{
			Name: "no header: a guest list", Method: http.MethodGet, URL: "/api/collections/posts/records",
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"totalItems":2`},
			ExpectedEvents: map[string]int{"*": 0, "OnRecordsListRequest": 1, "OnRecordEnrich": 2},
			TestAppFactory: fixture.Factory,
		},
		tests.ApiScenario{
			Name: "empty header: a guest", Method: http.MethodGet, URL: "/api/lectern-own",
			Headers: map[string]string{"Authorization": ""}, BeforeTestFunc: lecternRoute,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"guest":true`},
			TestAppFactory: fixture.Factory,
		},
		tests.ApiScenario{
			Name: "HTTP Basic credentials of a proxy: a guest", Method: http.MethodGet, URL: "/api/lectern-own",
			Headers: map[string]string{"Authorization": "Basic c3RhZ2luZzpzZWNyZXQ="}, BeforeTestFunc: lecternRoute,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"guest":true`},
			TestAppFactory: fixture.Factory,
		},
		tests.ApiScenario{
			Name: "valid token: signed in", Method: http.MethodGet, URL: "/api/lectern-own",
			Headers: fixture.Headers(testkit.Author), BeforeTestFunc: lecternRoute,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"guest":false`},
			TestAppFactory: fixture.Factory,
		},
		tests.ApiScenario{
			// the SDK sends its stale token with the sign-in itself
			Name: "expired token signing in again", Method: http.MethodPost,
			URL:            "/api/collections/users/auth-with-password",
			Body:           strings.NewReader(`{"identity":"author@lectern.test","password":"` + testkit.Password + `"}`),
			Headers:        map[string]string{"Authorization": toks["expired"], "Content-Type": "application/json"},
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":`, `"id":"` + testkit.UserAuthor + `"`},
			TestAppFactory: fixture.Factory,
		},
		tests.ApiScenario{
			Name: "garbled token listing auth methods", Method: http.MethodGet,
			URL:            "/api/collections/users/auth-methods",
			Headers:        map[string]string{"Authorization": "not-a-token"},
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"password":`},
			TestAppFactory: fixture.Factory,
		},
	)
	for _, s := range scenarios {
		s.Test(t)
	}
}
