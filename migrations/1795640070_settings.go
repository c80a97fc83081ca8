package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Site settings a fresh install should have. An operator changes them later in
// the dashboard (Settings → Application / Rate limiting) or through
// PATCH /api/settings; this migration runs once, so their edits stay.
func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		s.Meta.AppName = "Lectern"

		// Per client IP. Labels are PocketBase's: "<collection>:<action>" or a path prefix.
		s.RateLimits.Enabled = true
		s.RateLimits.Rules = []core.RateLimitRule{
			// password guessing: 20 sign-in attempts a minute
			{Label: "*:auth", MaxRequests: 20, Duration: 60},
			// account farming: 50 sign-ups an hour (a class signing up together still fits)
			{Label: "users:create", MaxRequests: 50, Duration: 3600},
			// comment and review floods: a person writes a few a minute at most
			{Label: "comments:create", Audience: "@auth", MaxRequests: 20, Duration: 60},
			{Label: "reviews:create", Audience: "@auth", MaxRequests: 10, Duration: 60},
			{Label: "*:create", MaxRequests: 60, Duration: 10},
			{Label: "/api/batch", MaxRequests: 3, Duration: 1},
			{Label: "/api/", MaxRequests: 600, Duration: 10},
		}

		return app.Save(s)
	}, func(app core.App) error {
		s := app.Settings()
		s.RateLimits.Enabled = false
		return app.Save(s)
	})
}
