package text

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestSlugify(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"Hello, World!", "hello-world"},
		{"Ünïcödé", "unicode"},
		{"Crème brûlée à Paris", "creme-brulee-a-paris"},
		{"__a__b__", "a-b"},
		{"snake_case_title", "snake-case-title"},
		{"  --Leading and trailing--  ", "leading-and-trailing"},
		{"Tom & Jerry", "tom-and-jerry"},
		{"Go 1.27: what's new?", "go-1-27-whats-new"}, // gosimple drops apostrophes
		{"Привет мир", "privet-mir"},
		{"ALL CAPS", "all-caps"},
		{"a\x00b\xffc", "a-bc"}, // NUL separates, an invalid byte has no transliteration
		{"😀🎉🔥", ""},
		{"", ""},
		{"   ", ""},
		{"!!!---???", ""},
		{"already-a-slug", "already-a-slug"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := Slugify(tc.in)
			assert.Equal(t, tc.want, got)
			assert.True(t, got == "" || ValidSlug(got), "invalid slug %q", got)
		})
	}
}

func TestSlugifyAnyScriptMatchesPattern(t *testing.T) {
	// Whatever the transliteration gives for these, it must be a valid slug
	// or empty.
	for _, in := range []string{"日本語", "한국어", "العربية", "ελληνικά", "ﷺ", "½ ⅓ ™ ©", "\u200b\u200d", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"} {
		got := Slugify(in)
		assert.True(t, got == "" || slugPattern.MatchString(got), "Slugify(%q) = %q", in, got)
	}
}

func TestSlugifyLength(t *testing.T) {
	words := strings.Repeat("lorem ipsum dolor sit amet ", 12) // ~300 chars
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"300 char title", words[:300], ""},
		{"single long word", strings.Repeat("a", 300), strings.Repeat("a", 80)},
		{"boundary exactly at 80", strings.Repeat("a", 80) + " b", strings.Repeat("a", 80)},
		{"cut back to last dash", strings.Repeat("a", 70) + " " + strings.Repeat("b", 20), strings.Repeat("a", 70)},
		{"exactly 80", strings.Repeat("a", 39) + " " + strings.Repeat("b", 40), strings.Repeat("a", 39) + "-" + strings.Repeat("b", 40)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Slugify(tc.in)
			assert.LessOrEqual(t, len(got), maxSlugLen)
			assert.Regexp(t, slugPattern, got)
			if tc.want != "" {
				assert.Equal(t, tc.want, got)
			}
		})
	}
	got := Slugify(words[:300])
	assert.True(t, strings.HasPrefix(words, strings.ReplaceAll(got, "-", " ")), "cut must fall on a word boundary: %q", got)
}

func TestValidSlug(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a", true},
		{"hello-world", true},
		{"abc123-4-x", true},
		{strings.Repeat("a", 200), true},
		{strings.Repeat("a", 201), false},
		{"", false},
		{"-a", false},
		{"a-", false},
		{"a--b", false},
		{"A", false},
		{"a_b", false},
		{"a b", false},
		{"é", false},
		{"-", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, ValidSlug(tc.in))
			assert.Equal(t, slugPattern.MatchString(tc.in) && len(tc.in) <= 200, ValidSlug(tc.in), "agrees with the regexp")
		})
	}
}

func TestWithSuffix(t *testing.T) {
	tests := []struct {
		name string
		base string
		n    int
		want string
	}{
		{"simple", "hello-world", 2, "hello-world-2"},
		{"big n", "post", 1234, "post-1234"},
		{"trim base", strings.Repeat("a", 80), 2, strings.Repeat("a", 78) + "-2"},
		{"trim mid word", strings.Repeat("a", 75) + "-" + strings.Repeat("b", 10), 10, strings.Repeat("a", 75) + "-b-10"},
		{"trailing dash trimmed", strings.Repeat("a", 77) + "-bbb", 2, strings.Repeat("a", 77) + "-2"},
		{"trailing dash trimmed two digit n", strings.Repeat("a", 76) + "-bbb", 10, strings.Repeat("a", 76) + "-10"},
		{"empty base", "", 3, "3"},
		{"n below 2", "post", 0, "post-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := WithSuffix(tc.base, tc.n)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len(got), maxSlugLen)
			assert.True(t, ValidSlug(got), "invalid slug %q", got)
		})
	}
}
