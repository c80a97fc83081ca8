package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// These tests open real SSE connections to a test server, subscribe with a
// fixture identity's token and options as the JS SDK does, write through the
// REST API, and look at every event each connection receives.

// message is one record event with the whole record as the client got it.
type message struct {
	Topic, Action string
	Record        map[string]any
}

func (m message) id() string { s, _ := m.Record["id"].(string); return s }

func (m message) String() string {
	return fmt.Sprintf("%s %s %v", m.Action, m.id(), m.Record["status"])
}

// watcher is one SSE connection that keeps every record message.
type watcher struct {
	name string
	mu   sync.Mutex
	msgs []message
}

// topic builds a subscription as the SDK sends it: topic?options={...}.
func topic(name string, query map[string]string) string {
	if len(query) == 0 {
		return name
	}
	b, _ := json.Marshal(map[string]any{"query": query})
	return name + "?options=" + url.QueryEscape(string(b))
}

// fenceTopic receives the fences and nothing else.
var fenceTopic = topic("comments/*", map[string]string{"filter": `body = "Fence"`})

// watch connects as identity and subscribes to subs and the fences.
func watch(t *testing.T, base, name, identity string, subs ...string) *watcher {
	t.Helper()
	subs = append(subs, fenceTopic)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/realtime", nil)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	w := &watcher{name: name}
	hello := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer res.Body.Close()
		readSSE(res.Body, hello, func(topic, action string, record map[string]any) {
			w.mu.Lock()
			w.msgs = append(w.msgs, message{topic, action, record})
			w.mu.Unlock()
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	var clientID string
	select {
	case clientID = <-hello:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no PB_CONNECT", name)
	}
	call(t, base, http.MethodPost, "/api/realtime", identity, map[string]any{"clientId": clientID, "subscriptions": subs}, http.StatusNoContent)
	return w
}

// call sends a JSON request as identity and checks the status.
func call(t *testing.T, base, method, path, identity string, body any, status int) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if h := fixture.Headers(identity); h != nil {
		req.Header.Set("Authorization", h["Authorization"])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, status, res.StatusCode, "%s %s: %s", method, path, out)
}

// until waits for the create of collection/id (a fence written after the
// writes under test: events arrive in write order, so once it is there
// nothing earlier is still coming) and returns the messages before it.
func (w *watcher) until(t *testing.T, id string) []message {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		msgs := append([]message(nil), w.msgs...)
		w.mu.Unlock()
		for i, m := range msgs {
			if m.Action == "create" && m.id() == id {
				return msgs[:i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: fence %s not received; got %v", w.name, id, msgs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fence writes a visible comment on the published post that every
// comments/* subscriber may see.
func fence(t *testing.T, base string) string {
	t.Helper()
	id := fmt.Sprintf("fence%010d", time.Now().UnixNano()%1e10)
	call(t, base, http.MethodPost, "/api/collections/comments/records", testkit.Admin,
		map[string]any{"id": id, "post": testkit.PostPublished, "body": "Fence"}, http.StatusOK)
	return id
}

func only(msgs []message, id string) []message {
	var out []message
	for _, m := range msgs {
		if m.id() == id {
			out = append(out, m)
		}
	}
	return out
}

func TestHidingACommentDeletesItFromThoseWhoSawIt(t *testing.T) {
	app := newApp(t)
	base := serve(t, app)
	onPost := map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished)}
	expand := map[string]string{"filter": onPost["filter"], "expand": "author,post"}
	fields := map[string]string{"fields": "id,body,status"}
	comment := testkit.CommentVisible2 // student2's, on the author's post

	w := map[string]*watcher{
		"guest (post page)":       watch(t, base, "guest (post page)", testkit.Guest, topic("comments/*", expand)),
		"guest (one comment)":     watch(t, base, "guest (one comment)", testkit.Guest, topic("comments/"+comment, nil)),
		"guest (fields)":          watch(t, base, "guest (fields)", testkit.Guest, topic("comments/*", fields)),
		"guest (other post)":      watch(t, base, "guest (other post)", testkit.Guest, topic("comments/*", map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished2)})),
		"student":                 watch(t, base, "student", testkit.Student, topic("comments/*", onPost)),
		"comment author":          watch(t, base, "comment author", testkit.Student2, topic("comments/*", onPost)),
		"post author (moderates)": watch(t, base, "post author (moderates)", testkit.Author, topic("comments/*", onPost)),
		"admin":                   watch(t, base, "admin", testkit.Admin, topic("comments/*", nil)),
		"superuser":               watch(t, base, "superuser", testkit.Superuser, topic("comments/*", onPost)),
	}

	// the post's author hides the comment through the API
	call(t, base, http.MethodPatch, "/api/collections/comments/records/"+comment, testkit.Author, map[string]any{"status": "hidden"}, http.StatusOK)
	end := fence(t, base)

	for _, name := range []string{"guest (post page)", "guest (one comment)", "guest (fields)", "student"} {
		t.Run(name+" gets a delete with the comment as it saw it", func(t *testing.T) {
			got := only(w[name].until(t, end), comment)
			require.Len(t, got, 1, "%v", got)
			m := got[0]
			assert.Equal(t, "delete", m.Action)
			assert.Equal(t, "visible", m.Record["status"], "the old state, never the new one")
			assert.Equal(t, "Agreed", m.Record["body"])
			assert.True(t, strings.HasPrefix(m.Topic, "comments/"), "on the subscription's own topic: %s", m.Topic)
		})
	}
	t.Run("the delete is shaped by the subscription's options", func(t *testing.T) {
		m := only(w["guest (post page)"].until(t, end), comment)[0]
		exp, _ := m.Record["expand"].(map[string]any)
		author, _ := exp["author"].(map[string]any)
		assert.Equal(t, "Sky Student", author["name"], "expand=author")
		assert.NotContains(t, author, "email", "hidden from a guest")
		post, _ := exp["post"].(map[string]any)
		assert.Equal(t, testkit.PostPublished, post["id"], "expand=post")

		m = only(w["guest (fields)"].until(t, end), comment)[0]
		assert.ElementsMatch(t, []string{"id", "body", "status"}, keys(m.Record), "fields=id,body,status")
	})
	for _, name := range []string{"comment author", "post author (moderates)", "admin", "superuser"} {
		t.Run(name+" keeps it and gets the update", func(t *testing.T) {
			got := only(w[name].until(t, end), comment)
			require.Len(t, got, 1, "%v", got)
			assert.Equal(t, "update", got[0].Action)
			assert.Equal(t, "hidden", got[0].Record["status"])
		})
	}
	t.Run("a subscriber that never saw it gets nothing", func(t *testing.T) {
		assert.Empty(t, only(w["guest (other post)"].until(t, end), comment))
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestHiddenCommentsChangingStaySilentAndComingBackIsAnUpdate(t *testing.T) {
	app := newApp(t)
	base := serve(t, app)
	guest := watch(t, base, "guest", testkit.Guest, "comments/*")
	student := watch(t, base, "student", testkit.Student, "comments/*") // the hidden comment's own author

	// already hidden: flagging it changes nothing a guest could see
	call(t, base, http.MethodPatch, "/api/collections/comments/records/"+testkit.CommentHidden, testkit.Author, map[string]any{"status": "flagged"}, http.StatusOK)
	// shown again: an update, as PocketBase sends (the page adds an unknown id)
	call(t, base, http.MethodPatch, "/api/collections/comments/records/"+testkit.CommentHidden, testkit.Author, map[string]any{"status": "visible"}, http.StatusOK)
	// and hidden again at once: the delete comes after that update, never before
	call(t, base, http.MethodPatch, "/api/collections/comments/records/"+testkit.CommentHidden, testkit.Author, map[string]any{"status": "hidden"}, http.StatusOK)
	end := fence(t, base)

	var order []string
	for _, m := range only(guest.until(t, end), testkit.CommentHidden) {
		order = append(order, m.Action+" "+fmt.Sprint(m.Record["status"]))
	}
	assert.Equal(t, []string{"update visible", "delete visible"}, order, "guest")

	order = nil
	for _, m := range only(student.until(t, end), testkit.CommentHidden) {
		order = append(order, m.Action+" "+fmt.Sprint(m.Record["status"]))
	}
	assert.Equal(t, []string{"update flagged", "update visible", "update hidden"}, order, "the comment's author sees it throughout")
}

func TestFilterThatStopsMatchingIsADelete(t *testing.T) {
	app := newApp(t)
	base := serve(t, app)
	keep := watch(t, base, "keep", testkit.Student, topic("comments/*", map[string]string{"filter": `body ~ "Great"`}))
	all := watch(t, base, "all", testkit.Student, "comments/*")

	// the comment's author edits it so that it no longer matches the filter
	call(t, base, http.MethodPatch, "/api/collections/comments/records/"+testkit.CommentVisible, testkit.Student, map[string]any{"body": "Fine post"}, http.StatusOK)
	end := fence(t, base)

	got := only(keep.until(t, end), testkit.CommentVisible)
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "delete", got[0].Action, "the record left the filtered view")
	assert.Equal(t, "Great post", got[0].Record["body"], "as it last matched")

	got = only(all.until(t, end), testkit.CommentVisible)
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "update", got[0].Action, "an unfiltered subscription still sees it")
	assert.Equal(t, "Fine post", got[0].Record["body"])
}

func TestPostsAndCoursesBackToDraft(t *testing.T) {
	app := newApp(t)
	base := serve(t, app)
	guestOne := watch(t, base, "guest (the post and the course)", testkit.Guest, "posts/"+testkit.PostPublished2, "courses/"+testkit.CoursePublished2)
	guestAll := watch(t, base, "guest (lists)", testkit.Guest, "posts/*", "courses/*")
	student := watch(t, base, "student", testkit.Student, "posts/*", "courses/*")
	author2 := watch(t, base, "author2", testkit.Author2, "posts/*", "courses/*")
	instr2 := watch(t, base, "instructor2", testkit.Instr2, "posts/*", "courses/*")

	call(t, base, http.MethodPatch, "/api/collections/posts/records/"+testkit.PostPublished2, testkit.Author2, map[string]any{"status": "draft"}, http.StatusOK)
	call(t, base, http.MethodPatch, "/api/collections/courses/records/"+testkit.CoursePublished2, testkit.Instr2, map[string]any{"status": "draft"}, http.StatusOK)
	end := fence(t, base)

	type want struct{ post, course string } // action for each
	for w, exp := range map[*watcher]want{
		guestOne: {"delete", "delete"},
		guestAll: {"delete", "delete"},
		student:  {"delete", "delete"},
		author2:  {"update", "delete"}, // keeps the post (its own), loses the course
		instr2:   {"delete", "update"},
	} {
		msgs := w.until(t, end)
		for id, action := range map[string]string{testkit.PostPublished2: exp.post, testkit.CoursePublished2: exp.course} {
			got := only(msgs, id)
			require.Len(t, got, 1, "%s %s: %v", w.name, id, got)
			assert.Equal(t, action, got[0].Action, "%s %s", w.name, id)
			status := "draft" // an update carries the new state
			if action == "delete" {
				status = "published" // a delete the state it was seen in
			}
			assert.Equal(t, status, got[0].Record["status"], "%s %s", w.name, id)
		}
	}
}

func TestVisibilityChecksCostNothingWithoutSubscribers(t *testing.T) {
	app := newApp(t)
	base := serve(t, app)
	// twenty guests on the same post page, one on posts only
	var guests []*watcher
	sub := topic("comments/*", map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished)})
	for i := range 20 {
		guests = append(guests, watch(t, base, fmt.Sprintf("guest%d", i), testkit.Guest, sub))
	}
	watch(t, base, "posts", testkit.Guest, "posts/"+testkit.PostPublished)

	before := realtime.ViewChecks()
	call(t, base, http.MethodPatch, "/api/collections/lessons/records/"+testkit.LessonFree, testkit.Instructor, map[string]any{"title": "Intro again"}, http.StatusOK)
	assert.Equal(t, int64(0), realtime.ViewChecks()-before, "an update of a collection nobody subscribes to")

	before = realtime.ViewChecks()
	call(t, base, http.MethodPatch, "/api/collections/comments/records/"+testkit.CommentVisible2, testkit.Author, map[string]any{"status": "hidden"}, http.StatusOK)
	end := fence(t, base)
	// the twenty guests ask the same questions before the write: the rule,
	// then each of the two filters (their page's and the fence's); after it
	// the rule is the event's, shared with PocketBase's broadcast, and fails
	// before any filter; a create asks nothing
	assert.Equal(t, int64(3), realtime.ViewChecks()-before, "checks of the hide and of the fence's create")
	for _, g := range guests {
		got := only(g.until(t, end), testkit.CommentVisible2)
		require.Len(t, got, 1, "%s: %v", g.name, got)
		assert.Equal(t, "delete", got[0].Action)
	}
}

func TestRecordsLeavingWithTheRecordTheirRuleReads(t *testing.T) {
	app := newApp(t)
	base := serve(t, app)
	onPost2 := topic("comments/*", map[string]string{"filter": fmt.Sprintf("post = %q", testkit.PostPublished2), "expand": "author"})
	guest := watch(t, base, "guest", testkit.Guest, onPost2, "lessons/*")
	guestOne := watch(t, base, "guest (one lesson)", testkit.Guest, "lessons/"+testkit.LessonFree)
	commenter := watch(t, base, "student2 (wrote the comment)", testkit.Student2, onPost2)
	student := watch(t, base, "student (enrolled)", testkit.Student, "lessons/*")
	instructor := watch(t, base, "instructor", testkit.Instructor, "lessons/*")

	// the post goes back to draft: its comments leave the guest's page
	call(t, base, http.MethodPatch, "/api/collections/posts/records/"+testkit.PostPublished2, testkit.Author2, map[string]any{"status": "draft"}, http.StatusOK)
	// the course goes back to draft: its free preview leaves the guests
	call(t, base, http.MethodPatch, "/api/collections/courses/records/"+testkit.CoursePublished, testkit.Instructor, map[string]any{"status": "draft"}, http.StatusOK)
	// the student cancels: the paid lesson leaves them
	call(t, base, http.MethodPatch, "/api/collections/enrollments/records/"+testkit.EnrollmentStudent, testkit.Student, map[string]any{"status": "cancelled"}, http.StatusOK)
	end := fence(t, base)

	got := only(guest.until(t, end), testkit.CommentOther)
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "delete", got[0].Action)
	assert.Equal(t, "Nice", got[0].Record["body"])
	exp, _ := got[0].Record["expand"].(map[string]any)
	author, _ := exp["author"].(map[string]any)
	assert.Equal(t, testkit.UserStudent2, author["id"], "shaped by the subscription's expand")
	assert.Empty(t, only(commenter.until(t, end), testkit.CommentOther), "its author still sees it: nothing to tell")

	for _, w := range []*watcher{guest, guestOne} {
		got := only(w.until(t, end), testkit.LessonFree)
		require.Len(t, got, 1, "%s: %v", w.name, got)
		assert.Equal(t, "delete", got[0].Action, w.name)
		assert.Equal(t, "Intro", got[0].Record["title"], w.name)
	}
	assert.Empty(t, only(guest.until(t, end), testkit.LessonPaid), "a lesson the guest never saw")

	msgs := student.until(t, end)
	got = only(msgs, testkit.LessonPaid)
	require.Len(t, got, 1, "%v", msgs)
	assert.Equal(t, "delete", got[0].Action, "the cancelled student loses the paid lesson")
	// the free preview went with the course's draft only for those without
	// an enrollment: the student's (active then) kept it until the cancel
	got = only(msgs, testkit.LessonFree)
	require.Len(t, got, 1, "%v", msgs)
	assert.Equal(t, "delete", got[0].Action, "and the preview of a course now draft")

	assert.Empty(t, instructor.until(t, end), "the instructor sees every lesson throughout")
}
