package search

// OSA returns the optimal string alignment distance between a and b, counted
// in runes: the fewest insertions, deletions, substitutions and transpositions
// of two adjacent runes that turn a into b, no substring being edited twice
// (so a transposition counts as one edit: "kubernetse" is 1 from
// "kubernetes").
func OSA(a, b string) int {
	return osaRunes([]rune(a), []rune(b), -1)
}

// WithinOSA reports whether OSA(a, b) <= k. It stops as soon as every cell
// of a row exceeds k, so comparing a word against a large vocabulary costs
// little more than the length check for most entries.
func WithinOSA(a, b []rune, k int) bool {
	if k < 0 {
		return false
	}
	d := len(a) - len(b)
	if d > k || -d > k {
		return false
	}
	return osaRunes(a, b, k) <= k
}

// osaRunes computes the distance; with k >= 0 it may return any value > k as
// soon as the result is known to exceed k.
func osaRunes(a, b []rune, k int) int {
	if len(a) == 0 {
		return len(b)
	}
	if len(b) == 0 {
		return len(a)
	}
	// Three rows: the one before the previous is needed for transpositions.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if k >= 0 && rowMin > k {
			// A transposition reaches back two rows, so a row whose every
			// cell exceeds k can still lead to k only through the previous
			// row; both exceeding k settles it.
			prevMin := prev[0]
			for _, v := range prev {
				prevMin = min(prevMin, v)
			}
			if prevMin > k {
				return k + 1
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
