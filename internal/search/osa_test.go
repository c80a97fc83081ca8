package search

import (
	"math/rand/v2"
	"testing"
)

func TestOSA(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"kubernetes", "kubernetes", 0},
		{"kubernetse", "kubernetes", 1}, // transposition
		{"kuberntes", "kubernetes", 1},  // deletion
		{"kubernet", "kubernt", 1},
		{"kubernets", "kubernet", 1},
		{"ca", "abc", 3}, // OSA, not Damerau: no edit of a transposed pair
		{"abcdef", "badcfe", 3},
		{"héllo", "hello", 1}, // runes, not bytes
		{"flaw", "lawn", 2},
		{"sitting", "kitten", 3},
	} {
		if got := OSA(c.a, c.b); got != c.want {
			t.Errorf("OSA(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := OSA(c.b, c.a); got != c.want {
			t.Errorf("OSA(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.want)
		}
	}
}

// osaReference is the textbook full-matrix OSA, the oracle for the
// optimized and bounded versions.
func osaReference(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func TestWithinOSAAgreesWithReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() []rune {
		r := make([]rune, rng.IntN(9))
		for i := range r {
			r[i] = rune('a' + rng.IntN(4)) // a small alphabet makes near words common
		}
		return r
	}
	for range 20000 {
		a, b := word(), word()
		want := osaReference(a, b)
		if got := OSA(string(a), string(b)); got != want {
			t.Fatalf("OSA(%q, %q) = %d, want %d", string(a), string(b), got, want)
		}
		for k := 0; k <= 3; k++ {
			if got := WithinOSA(a, b, k); got != (want <= k) {
				t.Fatalf("WithinOSA(%q, %q, %d) = %v, distance %d", string(a), string(b), k, got, want)
			}
		}
	}
}
