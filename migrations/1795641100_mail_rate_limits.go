package migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// mailRateLimits caps the requests that make the server send an email. Without
// a rule of their own they fall under "/api/" (600 per 10 s), so one IP could
// have Lectern mail a different address 60 times a second. PocketBase already
// dedupes per account for a couple of minutes; these cap the per-IP volume.
//
// 10 per 15 minutes leaves room for a person who retries a few times and for a
// class behind one school IP asking for verification mails together.
var mailRateLimits = []core.RateLimitRule{
	{Label: "*:requestPasswordReset", MaxRequests: 10, Duration: 900},
	{Label: "*:requestVerification", MaxRequests: 10, Duration: 900},
	{Label: "*:requestEmailChange", MaxRequests: 10, Duration: 900},
	{Label: "*:requestOTP", MaxRequests: 10, Duration: 900},
}

// The rules are added to whatever the operator configured since the settings
// migration; a label the operator already has is left as they set it.
func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		for _, r := range mailRateLimits {
			if !slices.ContainsFunc(s.RateLimits.Rules, func(x core.RateLimitRule) bool { return x.Label == r.Label }) {
				s.RateLimits.Rules = append(s.RateLimits.Rules, r)
			}
		}
		return app.Save(s)
	}, func(app core.App) error {
		s := app.Settings()
		s.RateLimits.Rules = slices.DeleteFunc(s.RateLimits.Rules, func(x core.RateLimitRule) bool {
			return slices.ContainsFunc(mailRateLimits, func(r core.RateLimitRule) bool { return r == x })
		})
		return app.Save(s)
	})
}
