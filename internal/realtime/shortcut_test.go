package realtime_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// ruleQueries records, per comment created, how many access checks of its
// broadcast reached the database (bound after PocketBase's broadcast).
func ruleQueries(t *testing.T, app core.App) func(id string) int64 {
	var mu sync.Mutex
	got := map[string]int64{}
	app.OnModelAfterCreateSuccess("comments").Bind(&hook.Handler[*core.ModelEvent]{
		Priority: -99,
		Func: func(e *core.ModelEvent) error {
			n, ok := realtime.MemoQueries(e.App)
			require.True(t, ok, "the broadcast ran without the event app")
			mu.Lock()
			got[fmt.Sprint(e.Model.PK())] = n
			mu.Unlock()
			return e.Next()
		},
	})
	return func(id string) int64 {
		mu.Lock()
		defer mu.Unlock()
		return got[id]
	}
}

// TestPublicCommentOneRuleQuery: the comments' rule is `(visible on a
// published post) || (the caller is involved)`. A visible comment on a
// published post is granted to 20 signed-in readers and 5 guests with one
// rule query (the public disjunct, asked once); a hidden one is still asked
// per identity (the public disjunct fails: one more query than without the
// shortcut), and each reader gets only what PocketBase would give them.
func TestPublicCommentOneRuleQuery(t *testing.T) {
	for _, shortcut := range []bool{true, false} {
		t.Run(fmt.Sprint("shortcut=", shortcut), func(t *testing.T) {
			if !shortcut {
				t.Cleanup(realtime.WithoutShortcut())
			}
			app := packageApp(t)
			queries := ruleQueries(t, app)
			users := readers(t, app, 20)
			var guests, signedIn []*recorder
			for i := range 5 {
				guests = append(guests, subscriber(t, app, fmt.Sprint("guest", i), nil, "comments/*"))
			}
			for i, u := range users {
				signedIn = append(signedIn, subscriber(t, app, fmt.Sprint("reader", i), u, "comments/*"))
			}
			author := subscriber(t, app, "the post's author", authOf(t, app, testkit.Author), "comments/*")
			all := append(append(append([]*recorder{}, guests...), signedIn...), author)

			public := comment(t, app, map[string]any{"post": testkit.PostPublished, "author": users[0].Id, "body": "For all"})
			// a hidden comment by reader 0: its author and the post's author
			// see it, no other reader, no guest
			hidden := comment(t, app, map[string]any{"post": testkit.PostPublished, "author": users[0].Id, "body": "Held", "status": "hidden"})
			fence := comment(t, app, map[string]any{"post": testkit.PostPublished, "author": users[1].Id, "body": "Fence"})

			for _, r := range all {
				assert.Contains(t, receivedIDs(t, r, fence), public, r.name)
			}
			time.Sleep(50 * time.Millisecond) // leave time for a stray event
			assert.Contains(t, receivedIDs(t, signedIn[0], fence), hidden, "its author")
			assert.Contains(t, receivedIDs(t, author, fence), hidden, "the post's author")
			for _, r := range append(append([]*recorder{}, guests...), signedIn[1:]...) {
				assert.NotContains(t, receivedIDs(t, r, fence), hidden, "leak: %s received a hidden comment", r.name)
			}

			// 21 signed-in identities (the readers, the post's author) and
			// the guests' one
			if shortcut {
				assert.Equal(t, int64(1), queries(public), "one rule query for every reader of a public comment")
				assert.Equal(t, int64(1+1+21), queries(hidden), "the public disjunct, then each identity's own")
			} else {
				assert.Equal(t, int64(1+21), queries(public))
				assert.Equal(t, int64(1+21), queries(hidden))
			}
		})
	}
}
