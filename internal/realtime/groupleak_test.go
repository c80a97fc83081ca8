package realtime_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// packageApp is a fixture app with this package and PocketBase's broadcast
// hooks bound, without an HTTP server.
func packageApp(t *testing.T) core.App {
	t.Helper()
	app := newApp(t)
	_, err := apis.NewRouter(app)
	require.NoError(t, err)
	return app
}

// receivedIDs waits until r has the create of fence and returns the ids of
// the records whose events it received.
func receivedIDs(t *testing.T, r *recorder, fence string) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ids []string
		seen := false
		for _, m := range r.messages() {
			for _, part := range strings.Split(m, `"id":"`)[1:] {
				id, _, _ := strings.Cut(part, `"`)
				ids = append(ids, id)
				seen = seen || id == fence
			}
		}
		if seen {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no event of %s; got %v", r.name, fence, r.messages())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func comment(t *testing.T, app core.App, data map[string]any) string {
	t.Helper()
	return save(t, app, "comments", "", data).Id
}

// TestGroupsKeepIdentitiesApart: clients with the very same topic string
// share one broadcast only when they hold the same auth record state, and
// share a filter answer only when the database is asked the same question.
// Each case is a memo hit waiting to happen if a key lost a part of the
// identity: the id (two users), the role (two connections of one user
// holding different versions of the record), signed in or not.
func TestGroupsKeepIdentitiesApart(t *testing.T) {
	app := packageApp(t)
	hidden := withOptions("comments/*", map[string]string{"filter": `status = "hidden"`})
	// a filter through a relation: PocketBase joins posts under their list
	// rule, which reads the caller's id and role, so the filter's answer
	// depends on who asks
	onDraft := withOptions("comments/*", map[string]string{"filter": `post.status = "draft"`})

	student := authOf(t, app, testkit.Student)
	// the same user, a version of the record saying admin: the rules read
	// @request.auth.role from the database (a join on the id), so PocketBase
	// answers it as the student it is, and so must its group
	asAdmin := student.Clone()
	asAdmin.Set("role", "admin")

	guest := subscriber(t, app, "guest", nil, hidden)
	s1 := subscriber(t, app, "student", student, hidden)
	s1admin := subscriber(t, app, "student holding an admin version", asAdmin, hidden)
	s2 := subscriber(t, app, "student2", authOf(t, app, testkit.Student2), hidden)
	admin := subscriber(t, app, "admin", authOf(t, app, testkit.Admin), hidden)
	draftGuest := subscriber(t, app, "guest: on draft", nil, onDraft)
	draftS2 := subscriber(t, app, "student2: on draft", authOf(t, app, testkit.Student2), onDraft)
	draftA2 := subscriber(t, app, "author2: on draft", authOf(t, app, testkit.Author2), onDraft)
	draftAdmin := subscriber(t, app, "admin: on draft", authOf(t, app, testkit.Admin), onDraft)

	// a hidden comment by student2: seen by its author, the post's author
	// and admins, never by a guest or another student
	h := comment(t, app, map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent2, "body": "Held", "status": "hidden"})
	// student2's comment on a post taken back to draft: student2 may still
	// see the comment (its author) but not the post, so the filter says no
	save(t, app, "posts", testkit.PostPublished2, map[string]any{"status": "draft"})
	save(t, app, "comments", testkit.CommentOther, map[string]any{"body": "Edited on a draft"})
	fence := comment(t, app, map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent2, "body": "Fence", "status": "hidden"})

	assert.Contains(t, receivedIDs(t, admin, fence), h)
	assert.Contains(t, receivedIDs(t, s2, fence), h, "its author")
	assert.Contains(t, receivedIDs(t, draftA2, testkit.CommentOther), testkit.CommentOther, "the draft post's author")
	assert.Contains(t, receivedIDs(t, draftAdmin, testkit.CommentOther), testkit.CommentOther)
	time.Sleep(100 * time.Millisecond) // the writes' events are all queued by now; leave time for a stray one
	for _, r := range []*recorder{guest, s1, s1admin, draftGuest, draftS2} {
		assert.Empty(t, r.messages(), "leak: %s received another identity's event", r.name)
	}
}

// TestRoleChangeBetweenEvents: a user promoted then demoted between events
// gets, at each event, the answer of its role then; nothing of one event's
// groups or memos survives into the next.
func TestRoleChangeBetweenEvents(t *testing.T) {
	app := packageApp(t)
	hidden := withOptions("comments/*", map[string]string{"filter": `status = "hidden"`})
	student := authOf(t, app, testkit.Student)
	r := subscriber(t, app, "student", student, hidden)
	admin := subscriber(t, app, "admin", authOf(t, app, testkit.Admin), hidden)

	held := func(body string) string {
		return comment(t, app, map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent2, "body": body, "status": "hidden"})
	}
	before := held("Before")
	save(t, app, "users", testkit.UserStudent, map[string]any{"role": "admin"}) // PocketBase updates the connection's auth
	during := held("During")
	save(t, app, "users", testkit.UserStudent, map[string]any{"role": "student"})
	after := held("After")

	receivedIDs(t, admin, after)
	got := receivedIDs(t, r, during)
	time.Sleep(50 * time.Millisecond)
	got = append(got, receivedIDs(t, r, during)...)
	assert.NotContains(t, got, before, "leak: the comment held before the promotion")
	assert.Contains(t, got, during)
	assert.NotContains(t, got, after, "leak: the comment held after the demotion")
}

// TestFilterQueriesOncePerQuestion: with the README's live post filter, 40
// guests and 5 students ask the database one filter question between them
// (the filter reads nothing of the caller); with `post.status = "published"`
// (joined under the posts' list rule, which reads the caller's id and role)
// every user asks their own.
func TestFilterQueriesOncePerQuestion(t *testing.T) {
	app := packageApp(t)
	var mu sync.Mutex
	var filterQueries []int64
	app.OnModelAfterCreateSuccess("comments").Bind(&hook.Handler[*core.ModelEvent]{
		Priority: -99, // bound after PocketBase's broadcast: runs once it returned
		Func: func(e *core.ModelEvent) error {
			n, ok := realtime.FilterQueries(e.App)
			require.True(t, ok, "the broadcast ran without the event app")
			mu.Lock()
			filterQueries = append(filterQueries, n)
			mu.Unlock()
			return e.Next()
		},
	})
	users := readers(t, app, 5)
	post := withOptions("comments/*", map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished)})
	// through the posts' list rule, which reads the caller's id and role
	published := withOptions("comments/*", map[string]string{"filter": `post.status = "published"`})
	var recs []*recorder
	for i := range 40 {
		recs = append(recs, subscriber(t, app, fmt.Sprint("guest", i), nil, post))
	}
	for i, u := range users {
		recs = append(recs, subscriber(t, app, fmt.Sprint("reader", i), u, post))
	}
	id := comment(t, app, map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "Live"})
	for _, r := range recs {
		assert.Contains(t, receivedIDs(t, r, id), id, r.name)
	}
	for i, u := range users {
		recs = append(recs, subscriber(t, app, fmt.Sprint("reader on published", i), u, published))
	}
	id = comment(t, app, map[string]any{"post": testkit.PostPublished, "author": testkit.UserStudent, "body": "Live again"})
	for _, r := range recs {
		assert.Contains(t, receivedIDs(t, r, id), id, r.name)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, filterQueries, 2)
	assert.Equal(t, int64(1), filterQueries[0], "one filter question for 45 subscribers")
	assert.Equal(t, int64(1+5), filterQueries[1], "the shared one, and one per user for the filter whose join reads the caller")
}
