package apidocs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	absoluteURL = regexp.MustCompile(`(?i)\b(?:https?:)?//[a-z0-9.-]+`)
	linkAttr    = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)
)

func TestDocsPageIsSelfContained(t *testing.T) {
	s := newServer(t)
	res, body := s.do(t, http.MethodGet, PathDocs, "", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
	csp := res.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'self'")
	assert.Contains(t, csp, "script-src 'self'")
	assert.Contains(t, csp, "connect-src 'self'")

	page := string(body)
	assert.Empty(t, absoluteURL.FindAllString(page, -1), "the page names no other host (no CDN, no fonts)")
	assert.NotContains(t, page, "<script>", "no inline script: the CSP forbids it")
	assert.NotContains(t, page, "@import")

	links := linkAttr.FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, links)
	var assetsSeen []string
	for _, l := range links {
		u := l[1]
		require.True(t, strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"), "same-origin path: %q", u)
		if strings.HasPrefix(u, PathDocs+"/") {
			assetsSeen = append(assetsSeen, strings.TrimPrefix(u, PathDocs+"/"))
		}
	}
	assert.ElementsMatch(t, []string{"swagger-ui.css", "docs.css", "swagger-ui-bundle.js", "docs.js"}, assetsSeen)

	types := map[string]string{"swagger-ui.css": "text/css", "docs.css": "text/css", "swagger-ui-bundle.js": "text/javascript", "docs.js": "text/javascript"}
	for _, name := range assetsSeen {
		res, body := s.do(t, http.MethodGet, PathDocs+"/"+name, "", "")
		require.Equal(t, http.StatusOK, res.StatusCode, name)
		assert.Contains(t, res.Header.Get("Content-Type"), types[name], name)
		assert.NotEmpty(t, body, name)
		if strings.HasSuffix(name, ".css") {
			for _, u := range regexp.MustCompile(`url\(([^)]*)\)`).FindAllStringSubmatch(string(body), -1) {
				assert.True(t, strings.HasPrefix(strings.Trim(u[1], `"'`), "data:"), "%s loads only data: URLs, got %.60s", name, u[1])
			}
			assert.NotContains(t, string(body), "@import", name)
		}
		tag := res.Header.Get("ETag")
		require.NotEmpty(t, tag)
		res, _ = s.do(t, http.MethodGet, PathDocs+"/"+name, "", "", "If-None-Match", tag)
		assert.Equal(t, http.StatusNotModified, res.StatusCode, name)
	}

	_, init := s.do(t, http.MethodGet, PathDocs+"/docs.js", "", "")
	assert.Contains(t, string(init), `url: "`+PathOpenAPI+`"`)
	assert.Contains(t, string(init), "validatorUrl: null", "Swagger UI must not send the document to validator.swagger.io")
	_, bundle := s.do(t, http.MethodGet, PathDocs+"/swagger-ui-bundle.js", "", "")
	assert.Contains(t, string(bundle), "SwaggerUIBundle")

	for name, want := range map[string]string{"LICENSE": "Apache License", "NOTICE": "SmartBear"} {
		res, body := s.do(t, http.MethodGet, PathDocs+"/"+name, "", "")
		assert.Equal(t, http.StatusOK, res.StatusCode, name)
		assert.True(t, strings.Contains(string(body), want), "%s holds %q", name, want)
	}
	for _, name := range []string{"nope.js", "docs.html", "VENDOR.md", "vendor.sh"} {
		res, _ := s.do(t, http.MethodGet, PathDocs+"/"+name, "", "")
		assert.Equal(t, http.StatusNotFound, res.StatusCode, name)
	}
}

func TestVendoredSwaggerUIIsRecorded(t *testing.T) {
	notes, err := os.ReadFile("assets/VENDOR.md")
	require.NoError(t, err)
	assert.Contains(t, string(notes), "swagger-ui-dist "+SwaggerUIVersion)
	for _, name := range []string{"swagger-ui.css", "swagger-ui-bundle.js"} {
		b, err := assets.ReadFile("assets/" + name)
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		assert.Contains(t, string(notes), "| "+name+" | "+hex.EncodeToString(sum[:])+" |", "%s is the recorded upstream file", name)
	}
}

// /api/ (linked from the README) is an index of where to go, not a bare 404.
func TestAPIIndex(t *testing.T) {
	s := newServer(t)
	for _, url := range []string{"/api/", "/api"} {
		var v struct {
			Links map[string]string `json:"links"`
		}
		require.NoError(t, json.Unmarshal(s.get(t, url), &v), url)
		assert.Equal(t, map[string]string{"docs": "/api/docs", "openapi": "/api/openapi.json", "types": "/api/types.d.ts", "health": "/api/health"}, v.Links, url)
	}
	res, _ := s.do(t, http.MethodGet, "/api/nosuchthing", "", "")
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "only the index itself")
}
