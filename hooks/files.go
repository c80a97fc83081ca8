package hooks

import (
	"errors"

	"github.com/pocketbase/pocketbase/core"
)

// CacheControlPrivateFile is sent with a file of a record guests may not
// view: a shared cache (CDN, proxy) must never keep it, and neither should
// the browser, which would show it again from its cache to whoever uses the
// same profile after the owner signed out.
const CacheControlPrivateFile = "private, no-store"

// registerFiles makes a file answer only to callers who may view its record.
//
// PocketBase checks the view rule only for fields marked Protected; for the
// others (every Lectern file field: covers, avatars) it serves the file to
// whoever knows the URL, so a draft post's cover was public although the
// draft was not. Marking the fields Protected would make every public cover
// need a file token, and uncacheable by a CDN. Instead, each download runs
// the record's view rule through PocketBase's own check: first as a guest —
// if a guest may view the record, the file is served exactly as before
// (PocketBase's long public Cache-Control) — otherwise as the caller, who is
// whoever the Authorization header or a file token (?token=, from
// pb.files.getToken(): an <img> cannot send a header) names. Anyone else gets
// the 404 a missing file gets.
//
// Thumbs go through the same hook: PocketBase triggers it for the original
// and for ?thumb= alike, with the record loaded.
func registerFiles(app core.App) {
	app.OnFileDownloadRequest().BindFunc(func(e *core.FileDownloadRequestEvent) error {
		info, err := e.RequestInfo()
		if err != nil {
			return e.InternalServerError("Failed to load request info.", err)
		}
		rule := e.Record.Collection().ViewRule

		// The rule sees the request as PocketBase's protected-file check
		// shows it (@request.context = "protectedFile").
		asGuest := *info
		asGuest.Context = core.RequestInfoContextProtectedFile
		asGuest.Auth = nil
		public, err := e.App.CanAccessRecord(e.Record, &asGuest, rule)
		if err != nil {
			return fileNotFound(e, err)
		}
		if public {
			return e.Next()
		}

		who := fileCaller(e)
		if who == nil {
			return fileNotFound(e, nil)
		}
		asCaller := asGuest
		asCaller.Auth = who
		ok, err := e.App.CanAccessRecord(e.Record, &asCaller, rule)
		if err != nil || !ok {
			return fileNotFound(e, err)
		}
		e.Response.Header().Set("Cache-Control", CacheControlPrivateFile)
		return e.Next()
	})
}

// fileCaller is the auth record a file request speaks for: a valid file
// token in ?token= first (what an <img> can carry), else the Authorization
// header's. A superuser's file token counts only where no superuser IP
// allowlist is set: PocketBase's allowlist middleware vets the header, not
// the token, and Lectern does not re-implement its IP matching.
func fileCaller(e *core.FileDownloadRequestEvent) *core.Record {
	if token := e.Request.URL.Query().Get("token"); token != "" {
		r, err := e.App.FindAuthRecordByToken(token, core.TokenTypeFile)
		if err == nil && r != nil && (!r.IsSuperuser() || len(e.App.Settings().SuperuserIPs) == 0) {
			return r
		}
	}
	return e.Auth
}

// fileNotFound answers as PocketBase does for a file that does not exist:
// the same status and body, and the X-Frame-Options header PocketBase
// removes only once it has found the file (so the two 404s are
// indistinguishable).
func fileNotFound(e *core.FileDownloadRequestEvent, cause error) error {
	e.Response.Header().Set("X-Frame-Options", "SAMEORIGIN")
	if cause == nil {
		cause = errors.New("the caller may not view the file's record")
	}
	return e.NotFoundError("", cause)
}
