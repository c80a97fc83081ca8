package hooks_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/hooks"
	"lectern/internal/testkit"
)

// These tests subscribe through PocketBase's own realtime broker, in process:
// a subscriptions client is registered with the app's broker exactly as
// GET /api/realtime does (with the subscriber's auth record in the client
// store, as the SSE handshake leaves it), and PocketBase's broadcast hooks -
// bound by apis.NewRouter, which every ApiScenario calls - deliver to its
// channel after the access check of the collection's view/list rule.

// rtEvent is one realtime message as a frontend receives it.
type rtEvent struct {
	Topic  string
	Action string
	Record map[string]any
}

func (e rtEvent) id() string { s, _ := e.Record["id"].(string); return s }

// subscriber collects the messages of one realtime client.
type subscriber struct {
	mu     sync.Mutex
	events []rtEvent
	done   chan struct{}
}

// subscribe registers a realtime client for topics ("comments/*",
// "courses/<id>") as the given user ("" for a guest).
func subscribe(t testing.TB, app core.App, userID string, topics ...string) *subscriber {
	t.Helper()
	client := subscriptions.NewDefaultClient()
	if userID != "" {
		client.Set(apis.RealtimeClientAuthKey, findRecord(t, app, "users", userID))
	}
	client.Subscribe(topics...)
	app.SubscriptionsBroker().Register(client)

	s := &subscriber{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for msg := range client.Channel() { // closed by Unregister
			var data struct {
				Action string         `json:"action"`
				Record map[string]any `json:"record"`
			}
			if err := json.Unmarshal(msg.Data, &data); err != nil {
				continue
			}
			s.mu.Lock()
			s.events = append(s.events, rtEvent{Topic: msg.Name, Action: data.Action, Record: data.Record})
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		app.SubscriptionsBroker().Unregister(client.Id())
		<-s.done
	})
	return s
}

func (s *subscriber) snapshot() []rtEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rtEvent(nil), s.events...)
}

// await waits up to two seconds for an event matching ok and returns it.
func (s *subscriber) await(t testing.TB, what string, ok func(rtEvent) bool) rtEvent {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, e := range s.snapshot() {
			if ok(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			require.Failf(t, "realtime event not received", "%s; got %+v", what, s.snapshot())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// quiet returns everything received once nothing could still be in flight:
// broadcasts are queued synchronously before the response is written and
// delivered by goroutines within milliseconds.
func (s *subscriber) quiet() []rtEvent {
	time.Sleep(300 * time.Millisecond)
	return s.snapshot()
}

func (s *subscriber) assertNone(t testing.TB, what string, bad func(rtEvent) bool) {
	t.Helper()
	for _, e := range s.quiet() {
		assert.False(t, bad(e), "%s: unexpected realtime event %+v", what, e)
	}
}

func about(action, id string) func(rtEvent) bool {
	return func(e rtEvent) bool { return e.Action == action && e.id() == id }
}

func TestRealtimeDerivedFields(t *testing.T) {
	var guest, student2 *subscriber
	runScenarios(t, []tests.ApiScenario{
		{
			Name:    "course subscribers receive the new rating after a review",
			Method:  http.MethodPost,
			URL:     reviewsURL,
			Body:    jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 4}),
			Headers: fixture.Headers(testkit.Author),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				enrol(t, app, testkit.CoursePublished2, testkit.UserAuthor)
				guest = subscribe(t, app, "", "courses/"+testkit.CoursePublished2)
				student2 = subscribe(t, app, testkit.UserStudent2, "courses/*")
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"rating":4`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				for _, s := range []*subscriber{guest, student2} {
					e := s.await(t, "course update with the new rating", about("update", testkit.CoursePublished2))
					assert.Equal(t, 4.5, e.Record["ratingAvg"])
					assert.Equal(t, 2.0, e.Record["ratingCount"])
					assert.Equal(t, 2.0, e.Record["enrollmentsCount"])
				}
			},
		},
		{
			Name:    "post subscribers receive the new commentsCount after a comment",
			Method:  http.MethodPost,
			URL:     commentsURL,
			Body:    jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Counted"}),
			Headers: fixture.Headers(testkit.Student),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				guest = subscribe(t, app, "", "posts/*")
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"Counted"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				e := guest.await(t, "post update with the new count", about("update", testkit.PostPublished))
				assert.Equal(t, 4.0, e.Record["commentsCount"])
			},
		},
		{
			Name:    "enrollment owners receive their progress when a lesson is added",
			Method:  http.MethodPost,
			URL:     lessonsURL,
			Body:    jsonBody(map[string]any{"course": testkit.CoursePublished, "title": "More", "position": 3}),
			Headers: fixture.Headers(testkit.Instructor),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				guest = subscribe(t, app, "", "enrollments/*")
				student2 = subscribe(t, app, testkit.UserStudent, "enrollments/"+testkit.EnrollmentStudent)
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"position":3`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				e := student2.await(t, "enrollment update with the new progress", about("update", testkit.EnrollmentStudent))
				assert.Equal(t, 33.0, e.Record["progress"])
				assert.Empty(t, guest.quiet(), "a guest may not view enrollments")
			},
		},
	})

	t.Run("post subscribers receive a scheduled post when it is published", func(t *testing.T) {
		app := fixture.NewApp(t)
		defer app.Cleanup()
		_, err := apis.NewRouter(app) // binds PocketBase's realtime broadcast hooks
		require.NoError(t, err)
		guest := subscribe(t, app, "", "posts/*")

		comeDue(t, app, "posts", testkit.PostScheduled, time.Second)
		n, err := hooks.PublishDue(app, time.Now())
		require.NoError(t, err)
		require.Equal(t, 1, n)

		e := guest.await(t, "published post", about("update", testkit.PostScheduled))
		assert.Equal(t, "published", e.Record["status"])
		assert.NotEmpty(t, e.Record["publishedAt"])
	})
}

func TestRealtimeFollowsViewRules(t *testing.T) {
	var guest, author, student2 *subscriber
	runScenarios(t, []tests.ApiScenario{
		{
			Name:    "guest subscribed to comments receives a visible comment",
			Method:  http.MethodPost,
			URL:     commentsURL,
			Body:    jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Hello all"}),
			Headers: fixture.Headers(testkit.Student),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				guest = subscribe(t, app, "", "comments/*")
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"Hello all"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				id := createdRecord(t, app, "comments", res).Id
				e := guest.await(t, "visible comment create", about("create", id))
				assert.Equal(t, "Hello all", e.Record["body"])
			},
		},
		{
			Name:    "guest subscribed to comments does not receive a hidden one, its post author does",
			Method:  http.MethodPost,
			URL:     commentsURL,
			Body:    jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Moderator note", "status": "hidden"}),
			Headers: fixture.Headers(testkit.Author),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				guest = subscribe(t, app, "", "comments/*")
				student2 = subscribe(t, app, testkit.UserStudent2, "comments/*")
				author = subscribe(t, app, testkit.UserAuthor, "comments/*")
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"hidden"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				id := createdRecord(t, app, "comments", res).Id
				author.await(t, "hidden comment create for the post author", about("create", id))
				assert.Empty(t, guest.quiet(), "guest")
				assert.Empty(t, student2.quiet(), "another student")
			},
		},
		{
			Name:    "guest subscribed to comments receives nothing for a comment refused on a draft",
			Method:  http.MethodPost,
			URL:     commentsURL,
			Body:    jsonBody(map[string]any{"post": testkit.PostDraft, "body": "Too early"}),
			Headers: fixture.Headers(testkit.Author),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				guest = subscribe(t, app, "", "comments/*", "posts/*")
				author = subscribe(t, app, testkit.UserAuthor, "comments/*", "posts/*")
			},
			ExpectedStatus:  400,
			ExpectedContent: []string{`"post":{"code":"validation_post_not_published"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Empty(t, guest.quiet(), "guest")
				assert.Empty(t, author.quiet(), "author")
			},
		},
		{
			Name:    "guest subscribed to comments does not receive an edit on a post taken back to draft",
			Method:  http.MethodPatch,
			URL:     commentsURL + "/" + testkit.CommentOther,
			Body:    jsonBody(map[string]any{"body": "Edited while unpublished"}),
			Headers: fixture.Headers(testkit.Student2),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				updateRecord(t, app, "posts", testkit.PostPublished2, map[string]any{"status": "draft"})
				guest = subscribe(t, app, "", "comments/*")
				student2 = subscribe(t, app, testkit.UserStudent2, "comments/*")
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"edited":true`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				student2.await(t, "own comment update", about("update", testkit.CommentOther))
				assert.Empty(t, guest.quiet(), "guest")
			},
		},
		{
			Name:    "guest subscribed to comments receives the delete of a visible comment only",
			Method:  http.MethodDelete,
			URL:     commentsURL + "/" + testkit.CommentVisible,
			Headers: fixture.Headers(testkit.Student),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				// CommentReply goes with its parent; make it hidden first
				updateRecord(t, app, "comments", testkit.CommentReply, map[string]any{"status": "hidden"})
				guest = subscribe(t, app, "", "comments/*")
			},
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				guest.await(t, "visible comment delete", about("delete", testkit.CommentVisible))
				guest.assertNone(t, "hidden reply delete", about("delete", testkit.CommentReply))
			},
		},
		{
			Name:    "guest subscribed to comments and posts gets the new count and no update of a hidden comment (internal/realtime adds the delete; its tests cover it)",
			Method:  http.MethodPatch,
			URL:     commentsURL + "/" + testkit.CommentVisible2,
			Body:    jsonBody(map[string]any{"status": "hidden"}),
			Headers: fixture.Headers(testkit.Author),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				guest = subscribe(t, app, "", "comments/*", "posts/"+testkit.PostPublished)
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"hidden"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				e := guest.await(t, "post update with the new count", about("update", testkit.PostPublished))
				assert.Equal(t, 2.0, e.Record["commentsCount"])
				guest.assertNone(t, "hidden comment update", about("update", testkit.CommentVisible2))
			},
		},
	})
}

func TestRealtimeSkipsRolledBackWrites(t *testing.T) {
	var guest, instructor *subscriber
	failOn := func(collection string) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
		return func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
			enrol(t, app, testkit.CoursePublished2, testkit.UserAuthor)
			guest = subscribe(t, app, "", "courses/*", "reviews/*", "comments/*", "posts/*")
			instructor = subscribe(t, app, testkit.UserInstr2, "courses/*", "reviews/*", "enrollments/*")
			failUpdatesOf(t, app, collection)
		}
	}
	// nothing checks that no event came, then proves both subscribers are
	// live with a write that does commit.
	nothing := func(t testing.TB, app *tests.TestApp, _ *http.Response) {
		assert.Empty(t, guest.quiet(), "guest")
		assert.Empty(t, instructor.quiet(), "instructor")
		updateRecord(t, app, "reviews", testkit.ReviewOther, map[string]any{"body": "control"})
		for _, s := range []*subscriber{guest, instructor} {
			s.await(t, "control review update", about("update", testkit.ReviewOther))
			// whatever the failed write might have queued was sent before the control
			for _, e := range s.snapshot() {
				assert.True(t, about("update", testkit.ReviewOther)(e), "unexpected realtime event %+v", e)
			}
		}
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "subscribers receive nothing for a review whose course update failed",
			Method:          http.MethodPost,
			URL:             reviewsURL,
			Body:            jsonBody(map[string]any{"course": testkit.CoursePublished2, "rating": 1}),
			Headers:         fixture.Headers(testkit.Author),
			BeforeTestFunc:  failOn("courses"),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			AfterTestFunc:   nothing,
		},
		{
			Name:            "subscribers receive nothing for a comment whose post update failed",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Lost"}),
			Headers:         fixture.Headers(testkit.Author),
			BeforeTestFunc:  failOn("posts"),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			AfterTestFunc:   nothing,
		},
		{
			Name:            "subscribers receive nothing for a comment delete whose post update failed",
			Method:          http.MethodDelete,
			URL:             commentsURL + "/" + testkit.CommentVisible, // and its reply, by cascade
			Headers:         fixture.Headers(testkit.Student),
			BeforeTestFunc:  failOn("posts"),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			AfterTestFunc:   nothing,
		},
		{
			Name:            "subscribers receive nothing for an enrollment cancel whose course update failed",
			Method:          http.MethodPatch,
			URL:             enrollmentsURL + "/" + testkit.EnrollmentOther,
			Body:            jsonBody(map[string]any{"status": "cancelled"}),
			Headers:         fixture.Headers(testkit.Student2),
			BeforeTestFunc:  failOn("courses"),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			AfterTestFunc:   nothing,
		},
	})
}
