package hooks

import (
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/authrules"
)

// registerAuthRules binds internal/authrules to the record list and view
// routes: a signed-in caller's list and view rules reach PocketBase with
// @request.auth.<field> comparisons already decided from the caller's
// current record, so they need no join of the users table (see the
// package's doc and README "Signed-in reads").
func registerAuthRules(app core.App) {
	authrules.Register(app)
}
