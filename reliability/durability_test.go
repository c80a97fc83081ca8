package reliability

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/testkit"
)

// TestSyncModeCost measures what SQLite's synchronous=FULL would cost Lectern
// against PocketBase's default synchronous=NORMAL (both in WAL mode): comment
// creates per second through the app's model layer (hooks, transaction,
// commentsCount recount of the post) on a test app, alternating the pragma on
// the app's write connection in rounds so machine load hits both alike.
//
// Why it matters: in WAL mode NORMAL survives a process crash (the kill -9
// test) but may lose the last transactions on power loss or an OS crash; FULL
// fsyncs the WAL on every commit and keeps them. LECTERN_SYNC_ROUNDS and
// LECTERN_SYNC_CREATES size the run.
func TestSyncModeCost(t *testing.T) {
	skipShort(t)
	rounds := envInt(t, "LECTERN_SYNC_ROUNDS", 10)
	perRound := envInt(t, "LECTERN_SYNC_CREATES", 100)

	f, err := testkit.Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(f.Dir) })
	app := f.NewApp(t)
	defer app.Cleanup()
	comments, err := app.FindCollectionByNameOrId("comments")
	if err != nil {
		t.Fatal(err)
	}

	setSync := func(mode string, want int) {
		t.Helper()
		if _, err := app.NonconcurrentDB().NewQuery("PRAGMA synchronous = " + mode).Execute(); err != nil {
			t.Fatal(err)
		}
		var got int
		if err := app.NonconcurrentDB().NewQuery("PRAGMA synchronous").Row(&got); err != nil || got != want {
			t.Fatalf("synchronous = %d (%v), want %d", got, err, want)
		}
	}
	create := func(n int) time.Duration {
		began := time.Now()
		for i := range n {
			r := core.NewRecord(comments)
			r.Load(map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": fmt.Sprintf("sync bench %d", i)})
			if err := app.Save(r); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(began)
	}

	var mode string
	if err := app.NonconcurrentDB().NewQuery("PRAGMA journal_mode").Row(&mode); err != nil {
		t.Fatal(err)
	}
	create(20) // warm up
	// Per-round figures and medians: the machine's load swings more than
	// the difference measured, a median over alternating rounds resists it.
	var normalMS, fullMS, ratios []float64
	for i := range rounds {
		setSync("NORMAL", 1)
		dn := create(perRound)
		setSync("FULL", 2)
		df := create(perRound)
		setSync("FULL", 2) // still FULL: the pool kept its one write connection
		n, f := 1000*dn.Seconds()/float64(perRound), 1000*df.Seconds()/float64(perRound)
		normalMS, fullMS, ratios = append(normalMS, n), append(fullMS, f), append(ratios, f/n)
		t.Logf("round %d: NORMAL %.2f ms/create, FULL %.2f ms/create", i+1, n, f)
	}
	setSync("NORMAL", 1)
	mn, mf := median(normalMS), median(fullMS)
	report(t, "sync", "| journal | rounds × creates | NORMAL ms/create (creates/s) | FULL ms/create (creates/s) | FULL / NORMAL time (median of rounds) |",
		fmt.Sprintf("| %s | %d × %d | %.2f (%.0f/s) | %.2f (%.0f/s) | %.2f× |", mode, rounds, perRound, mn, 1000/mn, mf, 1000/mf, median(ratios)))
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
