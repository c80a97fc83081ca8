package feeds

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

type urlSet struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL `xml:"url"`
}

// sitemapURL has no lastmod: the only date a row keeps, updated, moves on
// writes the page does not show (a recounted comment, an enrollment), and
// search engines ignore a lastmod that is not consistently accurate.
type sitemapURL struct {
	Loc string `xml:"loc"`
}

type sitemapIndex struct {
	XMLName  xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
	Sitemaps []sitemapRef `xml:"sitemap"`
}

type sitemapRef struct {
	Loc string `xml:"loc"`
}

// The sitemap lists the home page, then published posts, then published
// courses, each oldest first: new items go to the end, so the earlier pages
// of a split sitemap stay as they were.

// sitemapPerPage is SitemapMaxURLs, at least 1.
func sitemapPerPage() int {
	if SitemapMaxURLs < 1 {
		return 1
	}
	return SitemapMaxURLs
}

// pageCount is how many sitemap documents total URLs need at perPage each.
func pageCount(total, perPage int) int {
	if total <= 0 {
		return 1
	}
	return (total + perPage - 1) / perPage
}

// sitemapTotal is the number of URLs: the home page, posts and courses.
func sitemapTotal(fp fingerprint) int {
	return 1 + fp.count("posts") + fp.count("courses")
}

func (s *service) handleSitemap(e *core.RequestEvent) error {
	perPage := sitemapPerPage()
	doc := document{key: "sitemap/" + strconv.Itoa(perPage), tables: sitemapTables, contentType: ContentTypeSitemap}
	return s.serve(e, doc, nil, func(st site, fp fingerprint) (*shown, error) {
		pages := pageCount(sitemapTotal(fp), perPage)
		if pages <= 1 {
			urls, err := loadSitemapURLs(e.App, st, 0, perPage)
			if err != nil {
				return nil, err
			}
			return shownURLs(urls), nil
		}
		index := sitemapIndex{Sitemaps: make([]sitemapRef, pages)}
		for i := range index.Sitemaps {
			index.Sitemaps[i].Loc = st.url + "/sitemap-" + strconv.Itoa(i+1) + ".xml"
		}
		d := newDigest()
		d.add("index", strconv.Itoa(pages))
		return &shown{digest: d.sum(), render: func() ([]byte, error) {
			var buf bytes.Buffer
			err := writeXML(&buf, index)
			return buf.Bytes(), err
		}}, nil
	})
}

// shownURLs is a urlset document of urls, digested by its locations.
func shownURLs(urls []sitemapURL) *shown {
	d := newDigest()
	d.add("urlset", strconv.Itoa(len(urls)))
	for _, u := range urls {
		d.add(u.Loc)
	}
	return &shown{digest: d.sum(), render: func() ([]byte, error) {
		var buf bytes.Buffer
		err := writeXML(&buf, urlSet{URLs: urls})
		return buf.Bytes(), err
	}}
}

// sitemapPage parses "/sitemap-{n}.xml" (n ≥ 1, no leading zero).
func sitemapPage(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "/sitemap-")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, ".xml")
	if !ok || digits == "" || len(digits) > 9 || digits[0] == '0' {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// sitemapPages is a router middleware serving /sitemap-{n}.xml: a ServeMux
// wildcard must be a whole segment, and a "/{file}" route would shadow the
// static site's root files. Everything else passes through.
func (s *service) sitemapPages(e *core.RequestEvent) error {
	if m := e.Request.Method; m != http.MethodGet && m != http.MethodHead {
		return e.Next()
	}
	n, ok := sitemapPage(e.Request.URL.Path)
	if !ok {
		return e.Next()
	}
	perPage := sitemapPerPage()
	doc := document{
		key:    "sitemap-" + strconv.Itoa(n) + "/" + strconv.Itoa(perPage),
		tables: sitemapTables, contentType: ContentTypeSitemap,
	}
	check := func(fp fingerprint) error {
		// Pages exist only while /sitemap.xml is an index.
		if pages := pageCount(sitemapTotal(fp), perPage); pages <= 1 || n > pages {
			return e.NotFoundError("Sitemap page not found.", nil)
		}
		return nil
	}
	return s.serve(e, doc, check, func(st site, _ fingerprint) (*shown, error) {
		urls, err := loadSitemapURLs(e.App, st, (n-1)*perPage, perPage)
		if err != nil {
			return nil, err
		}
		return shownURLs(urls), nil
	})
}

// loadSitemapURLs returns up to limit URLs of the sitemap sequence starting
// at offset (0 is the home page).
func loadSitemapURLs(app core.App, st site, offset, limit int) ([]sitemapURL, error) {
	urls := make([]sitemapURL, 0, min(limit, 1024))
	if offset == 0 {
		urls = append(urls, sitemapURL{Loc: st.home()})
		limit--
	} else {
		offset--
	}
	if limit <= 0 {
		return urls, nil
	}
	var rows []struct {
		Kind int    `db:"kind"`
		Slug string `db:"slug"`
	}
	err := app.DB().NewQuery(`SELECT kind, slug FROM (
			SELECT 0 AS kind, slug, publishedAt AS p, id FROM posts WHERE status = 'published'
			UNION ALL
			SELECT 1 AS kind, slug, publishedAt AS p, id FROM courses WHERE status = 'published'
		) ORDER BY kind, p, id LIMIT {:limit} OFFSET {:offset}`).
		Bind(dbx.Params{"limit": limit, "offset": offset}).All(&rows)
	if err != nil {
		return nil, fmt.Errorf("load sitemap rows: %w", err)
	}
	for _, r := range rows {
		if r.Slug == "" {
			continue // no page to point at
		}
		u := sitemapURL{Loc: st.link("posts", r.Slug)}
		if r.Kind == 1 {
			u.Loc = st.link("courses", r.Slug)
		}
		urls = append(urls, u)
	}
	return urls, nil
}
