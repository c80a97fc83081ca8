package hooks

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
)

// registerRetryAfter gives PocketBase's 429s a Retry-After header, which it
// doesn't send: without it a client can only guess when to try again. It
// wraps the limiter, both the global one and the per-collection ones that
// run as route middlewares (their errors come back through this one).
func registerRetryAfter(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Priority: apis.DefaultRateLimitMiddlewarePriority - 1,
			Func: func(e *core.RequestEvent) error {
				err := e.Next()
				var apiErr *router.ApiError
				if errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
					e.Response.Header().Set("Retry-After", strconv.FormatInt(retryAfter(e), 10))
				}
				return err
			},
		})
		return se.Next()
	})
}

// retryAfter is the window, in seconds, of the rule that refused the request:
// PocketBase's limiter counts in fixed windows of a rule's duration, so the
// window is the longest a client has to wait. Collection rules (posts:create,
// *:auth…) are matched inside PocketBase by tags this middleware cannot see;
// for them the longest window of all rules is used, which never tells a
// client to come back too soon.
func retryAfter(e *core.RequestEvent) int64 {
	limits := e.App.Settings().RateLimits
	audience := []string{core.RateLimitRuleAudienceAll, core.RateLimitRuleAudienceGuest}
	if e.Auth != nil {
		audience[1] = core.RateLimitRuleAudienceAuth
	}
	labels := []string{e.Request.Method + " " + e.Request.URL.Path, e.Request.URL.Path}
	if rule, ok := limits.FindRateLimitRule(labels, audience...); ok && rule.Duration > 0 {
		return rule.Duration
	}
	var longest int64 = 1
	for _, r := range limits.Rules {
		longest = max(longest, r.Duration)
	}
	return longest
}
