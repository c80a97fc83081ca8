package hooks

import (
	"github.com/pocketbase/pocketbase/core"
)

const defaultRole = "student"

func registerUsers(app core.App) {
	// Nobody raises their own role: only admins and superusers set it.
	app.OnRecordCreateRequest("users").BindFunc(func(e *core.RecordRequestEvent) error {
		if !callerOf(e.RequestEvent).admin() {
			e.Record.Set("role", defaultRole)
		}
		return e.Next()
	})
	app.OnRecordUpdateRequest("users").BindFunc(func(e *core.RecordRequestEvent) error {
		if !callerOf(e.RequestEvent).admin() {
			e.Record.Set("role", e.Record.Original().GetString("role"))
		}
		return e.Next()
	})

	// Model level, so OAuth2 sign-ups, the dashboard and the seeder agree:
	// every user has a role and nobody's email is public.
	normalize := func(e *core.RecordEvent) error {
		if e.Record.GetString("role") == "" {
			e.Record.Set("role", defaultRole)
		}
		e.Record.SetEmailVisibility(false)
		return e.Next()
	}
	app.OnRecordCreate("users").BindFunc(normalize)
	app.OnRecordUpdate("users").BindFunc(normalize)
}
