package hooks_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stretchr/testify/assert"

	"lectern/internal/testkit"
)

const commentsURL = "/api/collections/comments/records"

// expectCommentsCount is an AfterTestFunc checking a post's stored
// commentsCount and that it equals a fresh count of its visible comments.
func expectCommentsCount(postID string, want int) func(testing.TB, *tests.TestApp, *http.Response) {
	return func(t testing.TB, app *tests.TestApp, _ *http.Response) {
		assertCommentsCount(t, app, postID, want)
	}
}

func assertCommentsCount(t testing.TB, app core.App, postID string, want int) {
	t.Helper()
	assert.Equal(t, want, findRecord(t, app, "posts", postID).GetInt("commentsCount"), "stored commentsCount of %s", postID)
	assert.Equal(t, want, countRows(t, app, "comments", "post = {:p} AND status = 'visible'", dbx.Params{"p": postID}), "visible comments of %s", postID)
}

// replyWithID saves student's reply to parent on PostPublished under a known id.
func replyWithID(t testing.TB, app core.App, id, parent string) {
	newRecord(t, app, "comments", map[string]any{
		"id": id, "post": testkit.PostPublished, "parent": parent, "author": testkit.UserStudent, "body": "deeper",
	})
}

func TestCommentCreate(t *testing.T) {
	student := fixture.Headers(testkit.Student)
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "student commenting on a published post",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Nice one"}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"author":"` + testkit.UserStudent + `"`, `"status":"visible"`, `"edited":false`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 4),
		},
		{
			Name:            "student commenting with a hidden status has it ignored",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Sneaky", "status": "hidden", "edited": true}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"visible"`, `"edited":false`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 4),
		},
		{
			Name:            "post author adding a hidden comment does not count it",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Note to self", "status": "hidden"}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"hidden"`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 3),
		},
		{
			Name:            "student commenting with markup has it stored as plain text",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "<b>hi</b> &amp; bye<script>alert(1)</script>"}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"hi & bye"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				assert.Equal(t, "hi & bye", createdRecord(t, app, "comments", res).GetString("body"))
			},
		},
		{
			Name:            "student commenting with nothing but markup gets a 400 on body",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "<b></b><script>x</script>"}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"body":{"code":"validation_required"`},
			ExpectedEvents:  createInvalid,
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 3),
		},
		{
			Name:            "student replying to a comment on the same post",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "parent": testkit.CommentReply, "body": "Level two"}),
			Headers:         student,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"parent":"` + testkit.CommentReply + `"`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 4),
		},
		{
			Name:            "student replying to a comment on another post gets a 400 on parent",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "parent": testkit.CommentOther, "body": "Wrong thread"}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"parent":{"code":"validation_parent_other_post"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 3),
		},
		{
			Name:            "student replying to a missing comment gets a 400 on parent",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "parent": "nosuchcomment00", "body": "Into the void"}),
			Headers:         student,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"parent":{"code":"validation_parent_other_post"`},
			ExpectedEvents:  createRefused,
		},
	})

	// Depth: CommentVisible (0) ← CommentReply (1) ← level2 ← level3 ← level 4 (refused).
	const level2, level3 = "clevel200000001", "clevel300000001"
	threaded := func(t testing.TB) *tests.TestApp {
		app := fixture.NewApp(t)
		replyWithID(t, app, level2, testkit.CommentReply)
		replyWithID(t, app, level3, level2)
		return app
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "student replying at depth 3 is allowed",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "parent": level2, "body": "How deep?"}),
			Headers:         student,
			TestAppFactory:  threaded,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"parent":"` + level2 + `"`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 6),
		},
		{
			Name:            "student replying at depth 4 gets a 400 on parent",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "parent": level3, "body": "Too deep"}),
			Headers:         student,
			TestAppFactory:  threaded,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"parent":{"code":"validation_reply_too_deep"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 5),
		},
	})

	var closed []tests.ApiScenario
	for _, post := range []struct{ name, id string }{
		{"draft", testkit.PostDraft}, {"scheduled", testkit.PostScheduled}, {"archived", testkit.PostArchived},
	} {
		closed = append(closed, tests.ApiScenario{
			Name:            "post author commenting on their " + post.name + " post gets a 400 on post",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": post.id, "body": "Too early"}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"post":{"code":"validation_post_not_published"`},
			ExpectedEvents:  createRefused,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "comments", "post = {:p}", dbx.Params{"p": post.id}))
			},
		})
	}
	runScenarios(t, closed)
}

func TestCommentUpdate(t *testing.T) {
	url := commentsURL + "/" + testkit.CommentVisible
	forbidden := requestRefused("OnRecordUpdateRequest")
	unchanged := func(t testing.TB, app *tests.TestApp, _ *http.Response) {
		c := findRecord(t, app, "comments", testkit.CommentVisible)
		assert.Equal(t, "Great post", c.GetString("body"))
		assert.Equal(t, "visible", c.GetString("status"))
		assert.False(t, c.GetBool("edited"))
		assertCommentsCount(t, app, testkit.PostPublished, 3)
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "comment author editing the body marks it edited",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"body": "Great post, <i>really</i>"}),
			Headers:         fixture.Headers(testkit.Student),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"Great post, really"`, `"edited":true`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				c := findRecord(t, app, "comments", testkit.CommentVisible)
				assert.Equal(t, "Great post, really", c.GetString("body"))
				assert.True(t, c.GetBool("edited"))
			},
		},
		{
			Name:            "comment author sending the same body back is not an edit",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"body": "<p>Great post</p>", "status": "visible", "edited": true}),
			Headers:         fixture.Headers(testkit.Student),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"edited":false`},
			AfterTestFunc:   unchanged,
		},
		{
			Name:            "comment author changing the status gets a 403",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"status": "hidden"}),
			Headers:         fixture.Headers(testkit.Student),
			ExpectedStatus:  403,
			ExpectedContent: []string{`"status":403`},
			ExpectedEvents:  forbidden,
			AfterTestFunc:   unchanged,
		},
		{
			Name:            "another student changing the status gets a 403",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"status": "flagged"}),
			Headers:         fixture.Headers(testkit.Student2),
			ExpectedStatus:  403,
			ExpectedContent: []string{`"status":403`},
			ExpectedEvents:  forbidden,
			AfterTestFunc:   unchanged,
		},
		{
			Name:            "another student editing the body gets a 403",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"body": "Defaced"}),
			Headers:         fixture.Headers(testkit.Student2),
			ExpectedStatus:  403,
			ExpectedContent: []string{`"status":403`},
			ExpectedEvents:  forbidden,
			AfterTestFunc:   unchanged,
		},
		{
			Name:            "post author editing someone's body gets a 403",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"body": "Put words in their mouth"}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  403,
			ExpectedContent: []string{`"status":403`},
			ExpectedEvents:  forbidden,
			AfterTestFunc:   unchanged,
		},
		{
			Name:            "post author hiding a comment uncounts it without marking it edited",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"status": "hidden"}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"hidden"`, `"edited":false`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 2),
		},
		{
			Name:            "post author unhiding a comment counts it again",
			Method:          http.MethodPatch,
			URL:             commentsURL + "/" + testkit.CommentHidden,
			Body:            jsonBody(map[string]any{"status": "visible"}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"visible"`, `"edited":false`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 4),
		},
		{
			Name:            "post author flagging a comment uncounts it",
			Method:          http.MethodPatch,
			URL:             commentsURL + "/" + testkit.CommentVisible2,
			Body:            jsonBody(map[string]any{"status": "flagged"}),
			Headers:         fixture.Headers(testkit.Author),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"flagged"`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 2),
		},
		{
			Name:            "admin editing someone's body does not mark it edited",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"body": "[removed by a moderator]"}),
			Headers:         fixture.Headers(testkit.Admin),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"body":"[removed by a moderator]"`, `"edited":false`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.False(t, findRecord(t, app, "comments", testkit.CommentVisible).GetBool("edited"))
				assertCommentsCount(t, app, testkit.PostPublished, 3)
			},
		},
		{
			Name:            "admin hiding a comment uncounts it",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"status": "hidden"}),
			Headers:         fixture.Headers(testkit.Admin),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"status":"hidden"`, `"edited":false`},
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 2),
		},
		{
			Name:    "comment author's edit that loaded the comment before a moderator's hide committed keeps the count exact",
			Method:  http.MethodPatch,
			URL:     url,
			Body:    jsonBody(map[string]any{"body": "Edited while being hidden"}),
			Headers: fixture.Headers(testkit.Student),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				// The hide commits between the edit request's load and its save.
				app.OnRecordUpdateRequest("comments").BindFunc(func(e *core.RecordRequestEvent) error {
					updateRecord(t, e.App, "comments", testkit.CommentVisible, map[string]any{"status": "hidden"})
					return e.Next()
				})
			},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"edited":true`, `"status":"visible"`}, // the edit's copy wins, as PocketBase does
			AfterTestFunc:   expectCommentsCount(testkit.PostPublished, 3),
		},
		{
			Name:            "comment author moving the comment to another post has it ignored",
			Method:          http.MethodPatch,
			URL:             url,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished2, "parent": testkit.CommentOther}),
			Headers:         fixture.Headers(testkit.Student),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"post":"` + testkit.PostPublished + `"`, `"parent":""`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertCommentsCount(t, app, testkit.PostPublished, 3)
				assertCommentsCount(t, app, testkit.PostPublished2, 1)
			},
		},
	})
}

func TestCommentDelete(t *testing.T) {
	runScenarios(t, []tests.ApiScenario{
		{
			Name:           "comment author deleting a visible comment uncounts it",
			Method:         http.MethodDelete,
			URL:            commentsURL + "/" + testkit.CommentVisible2,
			Headers:        fixture.Headers(testkit.Student2),
			ExpectedStatus: 204,
			AfterTestFunc:  expectCommentsCount(testkit.PostPublished, 2),
		},
		{
			Name:           "post author deleting a hidden comment leaves the count",
			Method:         http.MethodDelete,
			URL:            commentsURL + "/" + testkit.CommentHidden,
			Headers:        fixture.Headers(testkit.Author),
			ExpectedStatus: 204,
			AfterTestFunc:  expectCommentsCount(testkit.PostPublished, 3),
		},
		{
			Name:    "comment author deleting a parent deletes its replies and uncounts them",
			Method:  http.MethodDelete,
			URL:     commentsURL + "/" + testkit.CommentVisible,
			Headers: fixture.Headers(testkit.Student),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				replyWithID(t, app, "clevel200000001", testkit.CommentReply)
			},
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				recordGone(t, app, "comments", testkit.CommentReply)
				assert.Zero(t, countRows(t, app, "comments", "parent != ''", nil), "no reply survives its parent")
				assertCommentsCount(t, app, testkit.PostPublished, 1) // CommentVisible2
			},
		},
		{
			Name:           "commenting user deleting their account takes their comments and the replies to them",
			Method:         http.MethodDelete,
			URL:            "/api/collections/users/records/" + testkit.UserStudent,
			Headers:        fixture.Headers(testkit.Student),
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				recordGone(t, app, "comments", testkit.CommentVisible)
				recordGone(t, app, "comments", testkit.CommentHidden)
				recordGone(t, app, "comments", testkit.CommentReply) // student2's reply to student
				assertCommentsCount(t, app, testkit.PostPublished, 1)
				assertCommentsCount(t, app, testkit.PostPublished2, 1)
			},
		},
		{
			Name:           "admin deleting a commenting user updates every post they commented on",
			Method:         http.MethodDelete,
			URL:            "/api/collections/users/records/" + testkit.UserStudent2,
			Headers:        fixture.Headers(testkit.Admin),
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assertCommentsCount(t, app, testkit.PostPublished, 1) // CommentVisible
				assertCommentsCount(t, app, testkit.PostPublished2, 0)
			},
		},
		{
			Name:           "post author deleting the post takes its comments",
			Method:         http.MethodDelete,
			URL:            postsURL + "/" + testkit.PostPublished,
			Headers:        fixture.Headers(testkit.Author),
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "comments", "post = {:p}", dbx.Params{"p": testkit.PostPublished}))
				assertCommentsCount(t, app, testkit.PostPublished2, 1)
			},
		},
	})
}

func TestCommentWriteRollsBackWithItsPost(t *testing.T) {
	// A failing commentsCount refresh must take the comment write down with it.
	failPostSave := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		failUpdatesOf(t, app, "posts")
	}
	runScenarios(t, []tests.ApiScenario{
		{
			Name:            "student commenting while the post cannot be saved stores nothing",
			Method:          http.MethodPost,
			URL:             commentsURL,
			Body:            jsonBody(map[string]any{"post": testkit.PostPublished, "body": "Lost words"}),
			Headers:         fixture.Headers(testkit.Student),
			BeforeTestFunc:  failPostSave,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			ExpectedEvents: map[string]int{
				"OnModelAfterCreateSuccess": 0, "OnRecordAfterCreateSuccess": 0,
				"OnModelAfterUpdateSuccess": 0, "OnRecordAfterUpdateSuccess": 0,
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Zero(t, countRows(t, app, "comments", "body = 'Lost words'", nil))
				assertCommentsCount(t, app, testkit.PostPublished, 3)
			},
		},
		{
			Name:            "post author hiding a comment while the post cannot be saved changes nothing",
			Method:          http.MethodPatch,
			URL:             commentsURL + "/" + testkit.CommentVisible,
			Body:            jsonBody(map[string]any{"status": "hidden"}),
			Headers:         fixture.Headers(testkit.Author),
			BeforeTestFunc:  failPostSave,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			ExpectedEvents:  map[string]int{"OnModelAfterUpdateSuccess": 0, "OnRecordAfterUpdateSuccess": 0},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				assert.Equal(t, "visible", findRecord(t, app, "comments", testkit.CommentVisible).GetString("status"))
				assertCommentsCount(t, app, testkit.PostPublished, 3)
			},
		},
		{
			Name:            "comment author deleting while the post cannot be saved keeps the comment",
			Method:          http.MethodDelete,
			URL:             commentsURL + "/" + testkit.CommentVisible,
			Headers:         fixture.Headers(testkit.Student),
			BeforeTestFunc:  failPostSave,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"data":{}`},
			ExpectedEvents:  map[string]int{"OnModelAfterDeleteSuccess": 0, "OnRecordAfterDeleteSuccess": 0},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				findRecord(t, app, "comments", testkit.CommentVisible)
				findRecord(t, app, "comments", testkit.CommentReply)
				assertCommentsCount(t, app, testkit.PostPublished, 3)
			},
		},
	})
}
