// Package hooks binds Lectern's domain rules to the PocketBase app: one file per
// collection or concern, each thin, calling pure functions from internal/.
package hooks

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// MaxPerPage caps list requests: a larger perPage is clamped, not refused, so a
// frontend asking for "everything" gets a page it can page through.
const MaxPerPage = 200

// Register binds every Lectern hook to app. Order matters only for the request
// guards, which run before the per-collection hooks.
func Register(app core.App) {
	registerPerPageCap(app)
	registerTokenCheck(app)
	registerRetryAfter(app)
	registerSyllabus(app)
	registerSecurityHeaders(app)
	registerGuards(app)
	registerFilterGuard(app)
	registerAuthRules(app)
	registerTextClean(app)
	registerUsers(app)
	registerTopics(app)
	registerPosts(app)
	// one announcer: a course changed by a review and an enrollment in one
	// transaction is announced once
	parents := newAnnouncer(app)
	registerComments(app, parents)
	registerCourses(app)
	registerLessons(app)
	registerEnrollments(app, parents)
	registerReviews(app, parents)
	registerScheduler(app)
	registerFiles(app)
}

// ---

// caller describes who sent a request, as the rules see it.
type caller struct {
	superuser bool
	id        string // the users record id ("" for guests and superusers)
	role      string
}

func callerOf(e *core.RequestEvent) caller {
	if e.Auth == nil {
		return caller{}
	}
	if e.Auth.IsSuperuser() {
		return caller{superuser: true}
	}
	if e.Auth.Collection().Name != "users" {
		return caller{}
	}
	return caller{id: e.Auth.Id, role: e.Auth.GetString("role")}
}

// admin reports whether the caller may run the site: a superuser or an admin user.
func (c caller) admin() bool { return c.superuser || c.role == "admin" }

// InTx runs fn, which must call e.Next(), inside one transaction so the record
// write and its derived effects commit or roll back together. e.App is restored
// afterwards: PocketBase's after-success hooks (realtime among them) must not
// run against the finished transaction.
func InTx(e *core.RecordEvent, fn func(tx core.App) error) error {
	orig := e.App
	defer func() { e.App = orig }()
	return orig.RunInTransaction(func(tx core.App) error {
		e.App = tx
		return fn(tx)
	})
}

// changed reports whether a field differs from the stored record (always true on create).
func changed(r *core.Record, field string) bool {
	if r.IsNew() {
		return true
	}
	return r.GetString(field) != r.Original().GetString(field)
}

// registerPerPageCap clamps perPage on record lists to MaxPerPage (PocketBase
// allows 1000): big pages are the cheapest way to make a public server slow.
func registerPerPageCap(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			r := e.Request
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/collections/") &&
				strings.HasSuffix(r.URL.Path, "/records") {
				q := r.URL.Query()
				if n, err := strconv.Atoi(q.Get("perPage")); err == nil && n > MaxPerPage {
					q.Set("perPage", strconv.Itoa(MaxPerPage))
					r.URL.RawQuery = q.Encode()
				}
			}
			return e.Next()
		})
		return se.Next()
	})
}

// registerSecurityHeaders adds what PocketBase doesn't send by default
// (it already sets X-Content-Type-Options and X-Frame-Options): links from the
// site leak only its origin to other hosts.
func registerSecurityHeaders(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			e.Response.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
			return e.Next()
		})
		return se.Next()
	})
}
