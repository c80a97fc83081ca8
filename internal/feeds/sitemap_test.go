package feeds

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSitemapPage(t *testing.T) {
	cases := []struct {
		path string
		n    int
		ok   bool
	}{
		{"/sitemap-1.xml", 1, true},
		{"/sitemap-42.xml", 42, true},
		{"/sitemap-0.xml", 0, false},
		{"/sitemap-01.xml", 0, false},
		{"/sitemap-.xml", 0, false},
		{"/sitemap-1.xml.gz", 0, false},
		{"/sitemap-1a.xml", 0, false},
		{"/sitemap--1.xml", 0, false},
		{"/sitemap-+1.xml", 0, false},
		{"/sitemap-1234567890.xml", 0, false},
		{"/sitemap.xml", 0, false},
		{"/x/sitemap-1.xml", 0, false},
	}
	for _, c := range cases {
		n, ok := sitemapPage(c.path)
		assert.Equal(t, c.ok, ok, c.path)
		if c.ok {
			assert.Equal(t, c.n, n, c.path)
		}
	}
}

func TestPageCount(t *testing.T) {
	cases := []struct{ total, per, want int }{
		{0, 50000, 1},
		{1, 50000, 1},
		{50000, 50000, 1},
		{50001, 50000, 2},
		{100000, 50000, 2},
		{100001, 50000, 3},
		{5, 2, 3},
		{5, 1, 5},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, pageCount(c.total, c.per), "%d URLs at %d a page", c.total, c.per)
	}
}
