package search

import (
	"net/url"
	"strings"
	"testing"

	validation "github.com/pocketbase/ozzo-validation/v4"
)

func TestParseParams(t *testing.T) {
	cases := []struct {
		name  string
		query string
		check func(t *testing.T, p Params)
		bad   string // the parameter named in the error, "" when valid
	}{
		{"defaults", "q=go", func(t *testing.T, p Params) {
			if p.Page != 1 || p.PerPage != DefaultPerPage || p.Type != "" {
				t.Errorf("got %+v", p)
			}
		}, ""},
		{"perPage at the maximum", "q=go&perPage=100", func(t *testing.T, p Params) {
			if p.PerPage != MaxPerPage {
				t.Errorf("perPage = %d", p.PerPage)
			}
		}, ""},
		{"perPage above the maximum", "q=go&perPage=101", nil, "perPage"},
		{"perPage huge", "q=go&perPage=99999999999999999999999", nil, "perPage"},
		{"perPage not a number", "q=go&perPage=ten", nil, "perPage"},
		{"page above the maximum", "q=go&page=501", nil, "page"},
		{"page not a number", "q=go&page=1.5", nil, "page"},
		{"fields picks hit keys", "q=go&fields=type,id,snippet", func(t *testing.T, p Params) {
			if p.Fields != "type,id,snippet" {
				t.Errorf("fields = %q", p.Fields)
			}
		}, ""},
		{"fields with nested paths, stars and modifiers", "q=go&fields=*,record.*,record.body:excerpt(100,true)", func(t *testing.T, p Params) {
			if p.Fields == "" {
				t.Error("fields dropped")
			}
		}, ""},
		{"empty fields is the default", "q=go&fields=", func(t *testing.T, p Params) {
			if p.Fields != "" {
				t.Errorf("fields = %q", p.Fields)
			}
		}, ""},
		{"fields naming a record field at the root", "q=go&fields=title", nil, "fields"},
		{"fields with an unknown modifier", "q=go&fields=snippet:shout()", nil, "fields"},
		{"fields with bad modifier arguments", "q=go&fields=record.body:excerpt(x)", nil, "fields"},
		{"fields with a star prefix", "q=go&fields=*.title", nil, "fields"},
		{"fields too long", "q=go&fields=id" + strings.Repeat(",id", 500), nil, "fields"},
		{"fields with an unclosed quote", "q=go&fields=id,'type", nil, "fields"},
		{"course filter implies courses", "q=go&level=beginner", func(t *testing.T, p Params) {
			if p.Type != "courses" || p.Level != "beginner" {
				t.Errorf("got %+v", p)
			}
		}, ""},
		{"minRating decimal", "q=go&minRating=4.5", func(t *testing.T, p Params) {
			if !p.HasRating || p.MinRating != 4.5 || p.Type != "courses" {
				t.Errorf("got %+v", p)
			}
		}, ""},
		{"missing q", "", nil, "q"},
		{"bad type", "q=go&type=users", nil, "type"},
		{"bad page", "q=go&page=0", nil, "page"},
		{"bad perPage", "q=go&perPage=-1", nil, "perPage"},
		{"bad mode", "q=go&mode=x", nil, "mode"},
		{"bad level", "q=go&level=x", nil, "level"},
		{"bad minRating", "q=go&minRating=5.1", nil, "minRating"},
		{"conflicting type", "q=go&type=lessons&mode=online", nil, "type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParseParams(v)
			if c.bad == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				c.check(t, p)
				return
			}
			errs, ok := err.(validation.Errors)
			if !ok || errs[c.bad] == nil {
				t.Fatalf("error %v does not name %s", err, c.bad)
			}
		})
	}
}

func testVocab(terms map[string]int) *vocab {
	v := &vocab{byLen: map[int][]vocabTerm{}}
	for term, docs := range terms {
		r := []rune(term)
		v.byLen[len(r)] = append(v.byLen[len(r)], vocabTerm{term: term, runes: r, docs: docs})
	}
	return v
}

func TestCandidates(t *testing.T) {
	v := testVocab(map[string]int{
		"kubernet": 10, "run": 50, "stream": 5, "streak": 3, "pod": 9, "deploy": 4, "node": 7,
		"cluster": 6, "clutter": 1, "2024": 3,
	})
	word := func(s string) Word { n := Normalize(s); return Word{Text: s, Norm: n, Stem: Stem(n)} }
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"kuberntes", []string{"kubernet"}},  // 9 letters: 2 edits allowed
		{"kubernetse", []string{"kubernet"}}, // transposition
		{"kubernetes", nil},                  // its own stem is not a candidate
		{"podz", nil},                        // 4 letters: never corrected
		{"straem", []string{"stream"}},       // 6 letters, 1 edit (transposition)
		{"strem", []string{"stream"}},        // 5 letters, 1 edit
		{"clustre", []string{"cluster"}},     // nearest wins over clutter (2 edits)
		{"2025x", nil},                       // digits are not corrected
		{"zzzzzzzz", nil},
	} {
		var got []string
		for _, cand := range v.candidates(word(c.in)) {
			got = append(got, cand.term)
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("candidates(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaxTypoEdits(t *testing.T) {
	for n, want := range map[int]int{3: 0, 4: 0, 5: 1, 7: 1, 8: 2, 20: 2} {
		if got := maxTypoEdits(n); got != want {
			t.Errorf("maxTypoEdits(%d) = %d, want %d", n, got, want)
		}
	}
}
