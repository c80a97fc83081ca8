package hooks

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
)

// PocketBase's loadAuthToken middleware leaves e.Auth nil when the
// Authorization header carries a token that fails verification, so an expired
// session silently becomes a guest: lists answer 200 with fewer rows, creates a
// 400 with empty data. A frontend cannot tell "sign in again" from "not
// allowed". registerTokenCheck answers such requests with a 401 that says what
// is wrong with the token, on every API route (records, realtime, Lectern's
// own). Requests without the header stay guests.
//
// The sign-in routes are the exception: they are how a client recovers from a
// stale token, and the JS SDK sends whatever its authStore holds, expired or
// not, with every request, including authWithPassword.

// tokenProblem is why a token failed verification, as the client is told.
type tokenProblem struct {
	code    string
	message string
}

var (
	tokenMalformed = tokenProblem{"token_malformed",
		"The Authorization header does not hold a valid auth token. Send a token from an auth-with-* route, or no header."}
	tokenExpired = tokenProblem{"token_expired",
		"The auth token has expired. Sign in again (or call auth-refresh before it expires)."}
	tokenBadSignature = tokenProblem{"token_signature_invalid",
		"The auth token's signature is invalid: it was altered, or the account's password or token key changed since it was issued. Sign in again."}
	tokenUnknownRecord = tokenProblem{"token_record_not_found",
		"The auth token's account no longer exists. Sign in with another account."}
	tokenWrongCollection = tokenProblem{"token_collection_invalid",
		"The auth token names a collection that is not an auth collection of this server."}
	tokenWrongType = tokenProblem{"token_type_invalid",
		"The Authorization header holds a file or email token, not an auth token."}
)

// signInActions are the record auth routes that accept a stale token and
// treat the caller as a guest (their last path segment).
var signInActions = map[string]bool{
	"auth-methods":           true,
	"auth-with-password":     true,
	"auth-with-oauth2":       true,
	"auth-with-otp":          true,
	"request-otp":            true,
	"request-password-reset": true,
	"confirm-password-reset": true,
	"request-verification":   true,
	"confirm-verification":   true,
	"confirm-email-change":   true,
}

func registerTokenCheck(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		// the default priority (0) runs after PocketBase's loadAuthToken
		// (and after the rate limiter, so bad tokens still count)
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			if e.Auth != nil || !TokenChecked(e.Request.URL.Path) {
				return e.Next()
			}
			token := authToken(e.Request)
			if token == "" {
				return e.Next()
			}
			p, err := checkToken(e.App, token)
			if err != nil {
				return fmt.Errorf("check auth token: %w", err)
			}
			if p == nil {
				// verified now (a race with loadAuthToken): let the route decide
				return e.Next()
			}
			e.Response.Header().Set("WWW-Authenticate",
				fmt.Sprintf(`Bearer error="invalid_token", error_description=%q`, p.code))
			return apis.NewUnauthorizedError(p.message, validation.Errors{
				"token": validation.NewError(p.code, p.message),
			})
		})
		return se.Next()
	})
}

// authToken is the token PocketBase reads from the request (its
// getAuthTokenFromRequest is unexported). An HTTP Basic header, as a proxy
// guarding a staging site makes browsers send, is no PocketBase token: such
// requests stay guests, as before.
func authToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 6 && strings.EqualFold(h[:6], "Basic ") {
		return ""
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return h[7:]
	}
	return h
}

// TokenChecked reports whether a request to path that carries an
// Authorization header failing verification is refused with a 401: every API
// route but the sign-in ones. The OpenAPI document uses it too.
func TokenChecked(path string) bool {
	if !strings.HasPrefix(path, "/api/") || path == "/api/oauth2-redirect" {
		return false
	}
	if path == "/api/metrics" {
		// its own bearer scheme: a scraper's LECTERN_METRICS_TOKEN is no
		// auth token (internal/metrics answers 401/403 itself)
		return false
	}
	if !strings.HasPrefix(path, "/api/collections/") {
		return true
	}
	return !signInActions[path[strings.LastIndexByte(path, '/')+1:]]
}

// BadTokenCodes are the codes of data.token in a bad token's 401, for docs.
func BadTokenCodes() []string {
	var codes []string
	for _, p := range []tokenProblem{tokenExpired, tokenBadSignature, tokenUnknownRecord, tokenWrongCollection, tokenWrongType, tokenMalformed} {
		codes = append(codes, p.code)
	}
	return codes
}

// checkToken repeats core.App.FindAuthRecordByToken step by step to tell the
// client which step failed. It returns nil, nil for a token that verifies.
func checkToken(app core.App, token string) (*tokenProblem, error) {
	claims, err := security.ParseUnverifiedJWT(token)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return &tokenExpired, nil
	case err != nil:
		return &tokenMalformed, nil
	}
	id, _ := claims[core.TokenClaimId].(string)
	collectionID, _ := claims[core.TokenClaimCollectionId].(string)
	tokenType, _ := claims[core.TokenClaimType].(string)
	if id == "" || collectionID == "" || tokenType == "" {
		return &tokenMalformed, nil
	}
	if tokenType != core.TokenTypeAuth {
		return &tokenWrongType, nil
	}
	collection, err := app.FindCachedCollectionByNameOrId(collectionID)
	if err != nil || !collection.IsAuth() {
		return &tokenWrongCollection, nil
	}
	record, err := app.FindRecordById(collection, id)
	if errors.Is(err, sql.ErrNoRows) {
		return &tokenUnknownRecord, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := security.ParseJWT(token, record.TokenKey()+collection.AuthToken.Secret); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return &tokenExpired, nil
		}
		return &tokenBadSignature, nil
	}
	return nil, nil
}
