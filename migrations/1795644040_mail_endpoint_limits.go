package migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// mailEndpointLimits caps, per IP, the public endpoints that make Lectern send
// mail or store a message (PocketBase's rate limiter, path labels). Without
// them they fall under "/api/" (600 per 10 s).
//
// Subscribing: 10 per 10 minutes is a person fixing a typo several times;
// each address also gets at most one confirmation mail an hour (internal/mail).
// Contact: 5 per 10 minutes is a person writing several messages.
var mailEndpointLimits = []core.RateLimitRule{
	{Label: "POST /api/newsletter/subscribe", MaxRequests: 10, Duration: 600},
	{Label: "POST /api/contact", MaxRequests: 5, Duration: 600},
}

func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		for _, r := range mailEndpointLimits {
			if !slices.ContainsFunc(s.RateLimits.Rules, func(x core.RateLimitRule) bool { return x.Label == r.Label }) {
				s.RateLimits.Rules = append(s.RateLimits.Rules, r)
			}
		}
		return app.Save(s)
	}, func(app core.App) error {
		s := app.Settings()
		s.RateLimits.Rules = slices.DeleteFunc(s.RateLimits.Rules, func(x core.RateLimitRule) bool {
			return slices.ContainsFunc(mailEndpointLimits, func(r core.RateLimitRule) bool { return r == x })
		})
		return app.Save(s)
	})
}
