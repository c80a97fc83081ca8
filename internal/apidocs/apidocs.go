// Package apidocs serves Lectern's API reference, generated at run time from
// the live collections: an OpenAPI 3.1 document (GET /api/openapi.json), a
// Swagger UI page served from the binary (GET /api/docs) and TypeScript types
// for the PocketBase JS SDK (GET /api/types.d.ts and `lectern types`).
//
// The generated texts are cached and dropped whenever a collection is
// created, changed or deleted (the dashboard included), so the reference
// follows the schema without a restart.
package apidocs

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"lectern/hooks"
)

// SwaggerUIVersion is the vendored swagger-ui-dist release (assets/VENDOR.md).
const SwaggerUIVersion = "5.35.0"

//go:embed assets/docs.html assets/docs.js assets/docs.css assets/swagger-ui.css assets/swagger-ui-bundle.js assets/LICENSE assets/NOTICE assets/swagger-ui-bundle.js.LICENSE.txt
var assets embed.FS

// contentSecurityPolicy keeps the docs page to this origin: a stray
// reference to a CDN or a font host would be blocked by the browser too.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

// Register binds the reference routes and the cache invalidation to app.
func Register(app core.App) { register(app) }

func register(app core.App) *service {
	s := newService(app)
	invalidate := func(e *core.CollectionEvent) error {
		s.invalidate()
		return e.Next()
	}
	app.OnCollectionAfterCreateSuccess().BindFunc(invalidate)
	app.OnCollectionAfterUpdateSuccess().BindFunc(invalidate)
	app.OnCollectionAfterDeleteSuccess().BindFunc(invalidate)

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		s.setRouter(se.Router)
		se.Router.GET(PathOpenAPI, s.serveOpenAPI)
		se.Router.GET(PathTypes, s.serveTypes)
		se.Router.GET(PathDocs, s.serveDocs)
		se.Router.GET(PathDocs+"/{file}", s.serveAsset)
		// the README links /api/: answer with where to go rather than a bare 404
		se.Router.GET("/api/{$}", serveIndex)
		se.Router.GET("/api", serveIndex)
		return se.Next()
	})
	return s
}

// service holds the cache of one app.
type service struct {
	app core.App

	mu         sync.Mutex
	generation uint64 // bumped by every invalidation
	cached     *generated
	router     *router.Router[*core.RequestEvent]
}

type generated struct {
	generation  uint64
	openapi     []byte
	openapiETag string
	types       []byte
	typesETag   string
}

func newService(app core.App) *service { return &service{app: app} }

func (s *service) invalidate() {
	s.mu.Lock()
	s.generation++
	s.cached = nil
	s.mu.Unlock()
}

func (s *service) setRouter(r *router.Router[*core.RequestEvent]) {
	s.mu.Lock()
	s.router = r
	s.generation++
	s.cached = nil
	s.mu.Unlock()
}

// hasRoute reports whether the served router has method+path. It is asked
// at generation time, after every OnServe handler has added its routes.
func (s *service) hasRoute(method, p string) bool {
	r := s.router
	if r == nil {
		return false
	}
	return r.HasRoute(method, p) || r.HasRoute("", p)
}

// current returns the generated texts, building them if a collection
// changed since the last build.
func (s *service) current() (*generated, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && s.cached.generation == s.generation {
		return s.cached, nil
	}
	collections, err := s.app.FindAllCollections()
	if err != nil {
		return nil, fmt.Errorf("load collections: %w", err)
	}
	version := SchemaVersion(collections)
	doc, err := BuildOpenAPI(collections, Options{
		HasRoute:   s.hasRoute,
		MaxPerPage: hooks.MaxPerPage,
		Version:    version,
	})
	if err != nil {
		return nil, fmt.Errorf("build openapi: %w", err)
	}
	types := []byte(BuildTypeScript(collections, version))
	s.cached = &generated{
		generation:  s.generation,
		openapi:     doc,
		openapiETag: etag(doc),
		types:       types,
		typesETag:   etag(types),
	}
	return s.cached, nil
}

// SchemaVersion is a short hash of the collections' definitions: it changes
// exactly when the schema (fields, rules, options) does.
func SchemaVersion(collections []*core.Collection) string {
	h := sha256.New()
	for _, c := range collections {
		raw, _ := json.Marshal(c)
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// PocketBaseVersion is the version of the PocketBase module in the binary.
func PocketBaseVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/pocketbase/pocketbase" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// ---

func (s *service) serveOpenAPI(e *core.RequestEvent) error {
	g, err := s.current()
	if err != nil {
		return e.InternalServerError("", err)
	}
	return serveGenerated(e, g.openapi, g.openapiETag, "application/json")
}

func (s *service) serveTypes(e *core.RequestEvent) error {
	g, err := s.current()
	if err != nil {
		return e.InternalServerError("", err)
	}
	e.Response.Header().Set("Content-Disposition", `inline; filename="lectern-types.d.ts"`)
	return serveGenerated(e, g.types, g.typesETag, "text/plain; charset=utf-8")
}

// serveGenerated answers with body, or 304 when the client holds this version.
func serveGenerated(e *core.RequestEvent, body []byte, tag, contentType string) error {
	h := e.Response.Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", "no-cache") // revalidate: the schema may change any time
	if match := e.Request.Header.Get("If-None-Match"); match != "" && strings.Contains(match, tag) {
		e.Response.WriteHeader(http.StatusNotModified)
		return nil
	}
	return e.Blob(http.StatusOK, contentType, body)
}

func (s *service) serveDocs(e *core.RequestEvent) error {
	page, err := assets.ReadFile("assets/docs.html")
	if err != nil {
		return e.InternalServerError("", err)
	}
	h := e.Response.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	return e.HTML(http.StatusOK, string(page))
}

var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
	"":     "text/plain; charset=utf-8", // LICENSE, NOTICE
}

func (s *service) serveAsset(e *core.RequestEvent) error {
	name := e.Request.PathValue("file")
	if name == "docs.html" || strings.Contains(name, "/") {
		return e.NotFoundError("", nil)
	}
	f, err := assets.Open("assets/" + name)
	if err != nil {
		return e.NotFoundError("", nil)
	}
	defer f.Close()
	rs, ok := f.(interface {
		fs.File
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if !ok {
		return e.NotFoundError("", nil)
	}
	h := e.Response.Header()
	if ct, ok := assetTypes[path.Ext(name)]; ok {
		h.Set("Content-Type", ct)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", assetETag(name))
	http.ServeContent(e.Response, e.Request, name, time.Time{}, rs)
	return nil
}

var assetETags sync.Map // name → ETag of the embedded content

func assetETag(name string) string {
	if v, ok := assetETags.Load(name); ok {
		return v.(string)
	}
	b, _ := assets.ReadFile("assets/" + name)
	tag := etag(b)
	assetETags.Store(name, tag)
	return tag
}

// serveIndex answers /api/ with links to what a newcomer looks for.
func serveIndex(e *core.RequestEvent) error {
	return e.JSON(http.StatusOK, map[string]any{
		"name":    "Lectern API",
		"message": "Records are under /api/collections/{collection}/records; the reference is at /api/docs.",
		"links": map[string]string{
			"docs":    PathDocs,
			"openapi": PathOpenAPI,
			"types":   PathTypes,
			"health":  "/api/health",
		},
	})
}
