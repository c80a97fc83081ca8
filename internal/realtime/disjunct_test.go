package realtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPublicDisjuncts(t *testing.T) {
	const involved = `@request.auth.id != "" && (author = @request.auth.id || post.author = @request.auth.id || @request.auth.role = "admin")`
	for _, c := range []struct {
		name, rule string
		want       []string
	}{
		{"the comments' rule", `(status = "visible" && post.status = "published") || (` + involved + `)`,
			[]string{`status = "visible" && post.status = "published"`}},
		{"bare comparisons", `status = "visible" || author = @request.auth.id`, []string{`status = "visible"`}},
		{"several public ones", `status = "visible" || (post.status = "published") || @request.auth.id = author`,
			[]string{`status = "visible"`, `post.status = "published"`}},
		{"a rule of one public condition", `status = "visible"`, []string{`status = "visible"`}},
		{"the whole rule in parentheses", `((status = "visible") || @request.auth.id != "")`, []string{`status = "visible"`}},
		{"@collection is no request", `@collection.posts.status = "published" || @request.auth.id != ""`,
			[]string{`@collection.posts.status = "published"`}},
		{"text needing escapes", `body = "say \"hi\" \\ bye" || @request.auth.id != ""`, []string{`body = "say \"hi\" \\ bye"`}},
		{"numbers and comments", `views > 10 // popular
			|| @request.auth.id != ""`, []string{`views > 10`}},

		// && binds tighter than ||: `A && B || C` is `(A && B) || C`, and
		// `C || A && B` is `C || (A && B)`; no top-level split is sound
		{"&& then ||", `status = "visible" && post.status = "published" || @request.auth.id != ""`, nil},
		{"|| then &&", `status = "visible" || post.status = "published" && @request.auth.id != ""`, nil},
		{"|| inside a group under &&", `(status = "visible" || status = "flagged") && @request.auth.id != ""`, nil},
		{"a conjunction of one group", `(status = "visible") && @request.auth.id != ""`, nil},

		// a disjunct reading any part of the request is never a shortcut
		{"auth", `@request.auth.id != "" || author = @request.auth.id`, nil},
		{"auth on the right", `author = @request.auth.id || (post.author = @request.auth.id)`, nil},
		{"query", `@request.query.token = "x" || (status = "visible" && @request.query.a = "1")`, nil},
		{"headers", `@request.headers.x_token = "secret" || @request.auth.id != ""`, nil},
		{"body", `@request.body.status = "visible" || @request.auth.id != ""`, nil},
		{"method", `@request.method = "GET" || @request.auth.id != ""`, nil},
		{"context", `@request.context = "realtime" || @request.auth.id != ""`, nil},
		{"inside a nested group", `((status = "visible" && (@request.auth.verified = true))) || author = @request.auth.id`, nil},
		{"in a function's arguments", `geoDistance(lon, lat, @request.query.lon, 1) < 5 || @request.auth.id != ""`, nil},
		{"a modifier", `@request.body.title:isset = false || @request.auth.id != ""`, nil},
		{"the request in a literal is a value", `status = "@request.auth.id" || @request.auth.id != ""`, []string{`status = "@request.auth.id"`}},

		{"empty: everyone, nothing to shortcut", ``, nil},
		{"unparsable", `status = "visible" ||`, nil},
		{"unbalanced", `(status = "visible" || @request.auth.id != ""`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := splitPublic(c.rule, 0)
			assert.Equal(t, c.want, got)
			for _, d := range got {
				assert.True(t, readsNoRequest(d), "%q", d)
			}
		})
	}
}

func TestReadsNoRequest(t *testing.T) {
	for rule, want := range map[string]bool{
		`status = "visible"`:                            true,
		`@collection.posts.author = author`:             true,
		`@request.auth.id = ""`:                         false,
		`x = @Request.auth.id`:                          false, // conservative: any case
		`strftime('%Y', created) = "2026"`:              true,
		`strftime('%Y', @request.body.when) = "2026"`:   false,
		`(a = 1 && (b = 2 || @request.method = "GET"))`: false,
	} {
		assert.Equal(t, want, readsNoRequest(rule), "%q", rule)
	}
}
