package search

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// stemWords exercise every rule of the Porter steps.
var stemWords = strings.Fields(`
	caresses ponies ties caress cats feed agreed plastered bled motoring sing
	conflated troubled sized hopping tanned falling hissing fizzed failing filing
	happy sky relational conditional rational valenci hesitanci digitizer
	conformabli radicalli differentli vileli analogousli vietnamization
	predication operator feudalism decisiveness hopefulness callousness
	formaliti sensitiviti sensibiliti triplicate formative formalize
	electriciti electrical hopeful goodness revival allowance inference
	airliner gyroscopic adjustable defensible irritant replacement adjustment
	dependent adoption homologou communism activate angulariti homologous
	effective bowdlerize probate rate cease controll roll running runs ran
	kubernetes kuberntes kubernetse generalization generous agreement
	oscillators crying flying dying ied eed bed a an the is go js node
	yelling yearly toying buying playing ey yy yyy feeds seeds needed
`)

var stemSuffixes = []string{
	"", "s", "es", "ies", "sses", "ed", "eed", "ing", "y", "ational", "tional",
	"enci", "anci", "izer", "logi", "bli", "alli", "entli", "eli", "ousli",
	"ization", "ation", "ator", "alism", "iveness", "fulness", "ousness",
	"aliti", "iviti", "biliti", "ical", "ness", "icate", "iciti", "ful",
	"ative", "alize", "al", "ance", "ence", "er", "ic", "able", "ible", "ant",
	"ement", "ment", "ent", "sion", "tion", "ou", "ism", "ate", "iti", "ous",
	"ive", "ize", "e", "ll", "at", "bl", "iz",
}

func TestStemExamples(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"running", "run"},
		{"runs", "run"},
		{"kubernetes", "kubernet"},
		{"caresses", "caress"},
		{"ponies", "poni"},
		{"relational", "relat"},
		{"hopping", "hop"},
		{"go", "go"},
	} {
		if got := Stem(c.in); got != c.want {
			t.Errorf("Stem(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestStemMatchesSQLite checks the Go stemmer word for word against the
// porter tokenizer of the SQLite build PocketBase uses.
func TestStemMatchesSQLite(t *testing.T) {
	words := append([]string{}, stemWords...)
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghijklmnopqrstuvwxyzaeiouy"
	for range 4000 {
		n := 1 + rng.IntN(9)
		var b strings.Builder
		for range n {
			b.WriteByte(letters[rng.IntN(len(letters))])
		}
		b.WriteString(stemSuffixes[rng.IntN(len(stemSuffixes))])
		words = append(words, b.String())
	}
	got := sqliteTokens(t, memFTS(t), words)
	bad := 0
	for i, w := range words {
		if len(got[i]) != 1 {
			t.Fatalf("sqlite tokenized %q as %v", w, got[i])
		}
		if s := Stem(w); s != got[i][0] {
			bad++
			if bad < 20 {
				t.Errorf("Stem(%q) = %q, sqlite %q", w, s, got[i][0])
			}
		}
	}
}
