// Package site serves the demo site (pb_public) next to the API: every path
// that is not a file gets index.html, whose script routes it, except that a
// post that does not exist is answered 404, so crawlers and monitors see it.
package site

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Handler returns the site's catch-all GET handler over public, sending csp
// as the Content-Security-Policy of every page.
func Handler(public fs.FS, csp string) func(*core.RequestEvent) error {
	static := apis.Static(public, true)
	return func(e *core.RequestEvent) error {
		path := e.Request.URL.Path
		// an unknown API path is a JSON 404, never the site's index.html
		if strings.HasPrefix(path, "/api/") {
			return e.NotFoundError("", nil)
		}
		e.Response.Header().Set("Content-Security-Policy", csp)
		if slug, ok := strings.CutPrefix(path, "/posts/"); ok && slug != "" && !strings.Contains(slug, "/") {
			if !published(e.App, slug) {
				page, err := fs.ReadFile(public, "index.html")
				if err != nil {
					return err
				}
				// the page's script shows its own "not found" for the slug
				return e.HTML(http.StatusNotFound, string(page))
			}
		}
		return static(e)
	}
}

// published reports whether a guest may read the post with slug.
func published(app core.App, slug string) bool {
	_, err := app.FindFirstRecordByFilter("posts", `slug = {:slug} && status = "published"`, dbx.Params{"slug": slug})
	return err == nil
}
