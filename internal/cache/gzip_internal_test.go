package cache

import (
	"bytes"
	"testing"
)

// TestGzipCopyCountsInTheBudget: an entry with a compressed copy weighs
// that copy too, so MaxBytes bounds what the cache really holds.
func TestGzipCopyCountsInTheBudget(t *testing.T) {
	body := bytes.Repeat([]byte(`{"id":"r3c0rd1d","title":"A post about caching"},`), 50)
	chain := []field{{"Content-Type", []string{"application/json"}}}
	with := newEntry(key{1, "/x"}, body, `"e"`, chain, true, []string{"public"})
	without := newEntry(key{1, "/x"}, body, `"e"`, chain, false, []string{"public"})
	if with.gz == nil || without.gz != nil {
		t.Fatalf("gzip variant: with %v, without %v", with.gz != nil, without.gz != nil)
	}
	if len(with.gz.body) == 0 || len(with.gz.body) >= len(body)/2 {
		t.Fatalf("compressed %d bytes to %d", len(body), len(with.gz.body))
	}
	if got, want := with.size(), without.size()+int64(len(with.gz.body)); got < want {
		t.Errorf("size %d with the gzip copy, want at least %d", got, want)
	}
}
