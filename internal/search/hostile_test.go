package search_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/testkit"
)

// TestSearchHostileInput sends FTS5 syntax, SQL, control bytes, oversized
// and malformed parameters: every one is answered with a 200 (the text
// searched as plain words) or a 400 naming the parameter — never a 500.
func TestSearchHostileInput(t *testing.T) {
	accepted := []string{
		`"kubernetes"`, `kubernetes*`, `^kubernetes`, `title:kubernetes`, `{title body}: kubernetes`,
		`-title:kubernetes`, `NEAR(kubernetes pods)`, `NEAR(kubernetes pods, 99999999999999)`,
		`kubernetes NEAR/2 pods`, `kubernetes AND`, `OR kubernetes`, `NOT kubernetes`, `AND OR NOT`,
		`(kubernetes OR pods) AND NOT deployments`, `"unterminated`, `a"b`, `kubernetes + pods`,
		`'; DROP TABLE posts; --`, `' OR 1=1 --`, `{:ftsMatch}`, `[[id]] {{posts}}`, `rowid:1 rank:2`,
		`_search_fts:x`, `<script>alert(1)</script>`, `日本語`, "e\u0301te\u0301", "kubernetes\u202e",
		`\x00`, `%00`, `kubernetes` + strings.Repeat(" ", 150), strings.Repeat("k", 200),
	}
	var scenarios []tests.ApiScenario
	for _, q := range accepted {
		scenarios = append(scenarios, tests.ApiScenario{
			Name:            "guest searching " + q + " gets plain words",
			Method:          http.MethodGet,
			URL:             "/api/search?q=" + url.QueryEscape(q),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"page":1`, `"items":`},
			TestAppFactory:  newApp,
		})
	}

	badQ := map[string]string{
		"only punctuation":      `*`,
		"only quotes":           `""`,
		"only parentheses":      `()`,
		"only a caret":          `^`,
		"only a percent sign":   `%`,
		"only an underscore":    `_`,
		"only spaces":           `   `,
		"only an emoji":         `🚀`,
		"a NUL byte":            "go\x00lang",
		"a control character":   "go\x01",
		"an escape sequence":    "\x1b[31mred",
		"invalid UTF-8":         "go\xff",
		"a lone surrogate half": "\xed\xa0\x80",
		"10 KB":                 strings.Repeat("kubernetes ", 1000),
		"one byte too many":     strings.Repeat("k", 201),
		"13 words":              strings.Repeat("go ", 13),
	}
	for name, q := range badQ {
		scenarios = append(scenarios, bad("guest searching "+name, "/api/search?q="+url.QueryEscape(q), "q"))
	}
	scenarios = append(scenarios,
		bad("guest without q", "/api/search", "q"),
		bad("guest with an empty q", "/api/search?q=", "q"),
	)

	badParams := []struct{ name, query, param string }{
		{"an unknown type", "type=users", "type"},
		{"an upper-case type", "type=POSTS", "type"},
		{"a system collection as type", "type=_superusers", "type"},
		{"page 0", "page=0", "page"},
		{"a negative page", "page=-1", "page"},
		{"a fractional page", "page=1.5", "page"},
		{"a word as page", "page=abc", "page"},
		{"a page past the limit", "page=501", "page"},
		{"a huge page", "page=99999999999999999999", "page"},
		{"perPage 0", "perPage=0", "perPage"},
		{"a negative perPage", "perPage=-5", "perPage"},
		{"perPage in exponent form", "perPage=1e3", "perPage"},
		{"a word as perPage", "perPage=all", "perPage"},
		{"a hugely negative perPage", "perPage=-99999999999999999999", "perPage"},
		{"perPage just past the limit", "perPage=101", "perPage"},
		{"a huge perPage", "perPage=99999999999999999999", "perPage"},
		{"fields naming the answer's keys", "fields=items.id", "fields"},
		{"fields naming a record field at the root", "fields=title", "fields"},
		{"fields with an unknown modifier", "fields=snippet:upper()", "fields"},
		{"an unknown mode", "mode=remote", "mode"},
		{"an upper-case mode", "mode=ONLINE", "mode"},
		{"an unknown level", "level=expert", "level"},
		{"minRating above 5", "minRating=6", "minRating"},
		{"a negative minRating", "minRating=-1", "minRating"},
		{"minRating NaN", "minRating=NaN", "minRating"},
		{"minRating Inf", "minRating=Inf", "minRating"},
		{"minRating out of float range", "minRating=1e400", "minRating"},
		{"a word as minRating", "minRating=five", "minRating"},
		{"posts with a course filter", "type=posts&mode=online", "type"},
		{"lessons with a course filter", "type=lessons&minRating=3", "type"},
	}
	for _, b := range badParams {
		scenarios = append(scenarios, bad("guest searching with "+b.name, "/api/search?q=kubernetes&"+b.query, b.param))
	}

	ignored := []string{
		"expand=../../etc", "expand=author.author.author", "fields=",
		"sort=-title", "filter=1=1", "type[]=posts", "skipTotal=1", "q=second",
	}
	for _, extra := range ignored {
		scenarios = append(scenarios, tests.ApiScenario{
			Name:            "guest searching with " + extra + " is answered",
			Method:          http.MethodGet,
			URL:             "/api/search?q=kubernetes&" + extra,
			Headers:         fixture.Headers(testkit.Guest),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"items":`},
			TestAppFactory:  newApp,
		})
	}
	if len(scenarios) < 40 {
		t.Fatalf("hostile corpus has %d cases", len(scenarios))
	}
	run(t, scenarios)
}
