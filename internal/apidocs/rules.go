package apidocs

import (
	"fmt"
	"strings"
)

// The actions of a collection's API rules.
const (
	actionList   = "list"
	actionView   = "view"
	actionCreate = "create"
	actionUpdate = "update"
	actionDelete = "delete"
)

// Rule fragments as the migrations spell them (migrations/rules.go), so the
// hints below can name the exact rule they were written for.
const (
	signedIn  = `@request.auth.id != "" && @request.auth.collectionName = "users"`
	admin     = `@request.auth.role = "admin"`
	published = `status = "published"`
)

// hint is a plain-English reading of one rule. It is shown only while the live
// rule is still the one it was written for: a rule edited in the dashboard
// gets the raw expression and no hint rather than a stale explanation.
type hint struct {
	rule string
	who  string
}

var (
	postOwner   = `(@request.auth.id != "" && author = @request.auth.id) || ` + admin
	courseOwner = `(@request.auth.id != "" && instructor = @request.auth.id) || ` + admin

	commentInvolved = `@request.auth.id != "" && (author = @request.auth.id || post.author = @request.auth.id || ` + admin + `)`
	commentVisible  = `(status = "visible" && post.status = "published") || (` + commentInvolved + `)`

	lessonEnrolled = `(@request.auth.enrollments_via_user.course ?= course && @request.auth.enrollments_via_user.status ?!= "cancelled")`
	lessonRead     = `(freePreview = true && course.status = "published") || (@request.auth.id != "" && (course.instructor = @request.auth.id || ` + admin + ` || ` + lessonEnrolled + `))`
	lessonWrite    = `@request.auth.id != "" && (course.instructor = @request.auth.id || ` + admin + `)`

	enrollmentRead = `@request.auth.id != "" && (user = @request.auth.id || course.instructor = @request.auth.id || ` + admin + `)`
	selfOrAdmin    = `@request.auth.id != "" && (user = @request.auth.id || ` + admin + `)`

	reviewRead = `course.status = "published" || (@request.auth.id != "" && (user = @request.auth.id || course.instructor = @request.auth.id || ` + admin + `))`
)

// hints is keyed by "collection:action".
var hints = map[string]hint{
	"users:list":   {admin, "Admins (role admin). Anyone else gets 200 with no items."},
	"users:view":   {"", "Anyone: a user is a public profile (what expand=author needs); email is left out unless it is the caller's own."},
	"users:create": {"", "Anyone (open sign-up). role is always student unless an admin creates the user."},
	"users:update": {`id = @request.auth.id || ` + admin, "The user themself or an admin. Only admins change role (anyone else's value is ignored)."},
	"users:delete": {`id = @request.auth.id || ` + admin, "The user themself or an admin. Refused (400) while the user still authors posts or teaches courses; their comments, enrollments and reviews go with them."},

	"topics:list":   {"", "Anyone."},
	"topics:view":   {"", "Anyone."},
	"topics:create": {admin, "Admins."},
	"topics:update": {admin, "Admins."},
	"topics:delete": {admin, "Admins."},

	"posts:list":   {published + ` || ` + postOwner, "Anyone for published posts; drafts, scheduled and archived posts only for their author and admins."},
	"posts:view":   {published + ` || ` + postOwner, "Anyone for a published post; a draft, scheduled or archived post only for its author and admins."},
	"posts:create": {`@request.auth.role = "author" || @request.auth.role = "instructor" || ` + admin, "Users with role author, instructor or admin; the caller becomes the author."},
	"posts:update": {postOwner, "The post's author or an admin."},
	"posts:delete": {postOwner, "The post's author or an admin. Its comments go with it."},

	"comments:list":   {commentVisible, "Anyone for visible comments on published posts; hidden and flagged comments only for the comment's author, the post's author and admins."},
	"comments:view":   {commentVisible, "Anyone for a visible comment on a published post; a hidden or flagged one only for its author, the post's author and admins."},
	"comments:create": {signedIn, "Any signed-in user, on a published post; the caller becomes the author."},
	"comments:update": {`@request.auth.id != "" && (` + commentVisible + `)`, "Signed-in users who can see the comment get past the rule; then the body is the comment author's (or an admin's) to change and the status the post author's or an admin's: any other change is a 403."},
	"comments:delete": {commentInvolved, "The comment's author, the post's author or an admin. Its replies go with it."},

	"courses:list":   {published + ` || ` + courseOwner, "Anyone for published courses; drafts, scheduled and archived courses only for their instructor and admins."},
	"courses:view":   {published + ` || ` + courseOwner, "Anyone for a published course; a draft, scheduled or archived course only for its instructor and admins."},
	"courses:create": {`@request.auth.role = "instructor" || ` + admin, "Users with role instructor or admin; the caller becomes the instructor."},
	"courses:update": {courseOwner, "The course's instructor or an admin."},
	"courses:delete": {courseOwner, "The course's instructor or an admin. Its lessons, enrollments and reviews go with it."},

	"lessons:list":   {lessonRead, "Anyone for free-preview lessons of published courses; other lessons only for users enrolled in the course (active or completed), its instructor and admins."},
	"lessons:view":   {lessonRead, "Anyone for a free-preview lesson of a published course; any other lesson only for users enrolled in the course (active or completed), its instructor and admins."},
	"lessons:create": {lessonWrite, "The course's instructor and admins."},
	"lessons:update": {lessonWrite, "The course's instructor and admins."},
	"lessons:delete": {lessonWrite, "The course's instructor and admins."},

	"enrollments:list":   {enrollmentRead, "The enrolled user, the course's instructor and admins."},
	"enrollments:view":   {enrollmentRead, "The enrolled user, the course's instructor and admins."},
	"enrollments:create": {signedIn, "Any signed-in user, on a published course, once per course; the caller becomes the user."},
	"enrollments:update": {selfOrAdmin, "The enrolled user or an admin."},
	"enrollments:delete": {admin, "Admins."},

	"reviews:list":   {reviewRead, "Anyone for reviews of published courses; otherwise the reviewer, the course's instructor and admins."},
	"reviews:view":   {reviewRead, "Anyone for a review of a published course; otherwise the reviewer, the course's instructor and admins."},
	"reviews:create": {signedIn, "Signed-in users with an active or completed enrollment in the course, once per course; the caller becomes the user."},
	"reviews:update": {selfOrAdmin, "The review's author or an admin."},
	"reviews:delete": {selfOrAdmin, "The review's author or an admin."},
}

// answer is a response a Lectern hook gives beyond what the rules give.
type answer struct {
	status int
	when   string
}

// hookAnswers lists, per "collection:action", the refusals Lectern's hooks
// add (DATA_MODEL.md); they are merged into the operation's responses.
var hookAnswers = map[string][]answer{
	"users:create":       {{400, "a taken email, a too short password, or a passwordConfirm that does not match"}},
	"users:delete":       {{400, "deleting a user who still authors posts or teaches courses (a required relation)"}},
	"topics:create":      {{400, "a taken name"}},
	"posts:create":       {{400, "a taken or malformed explicit slug, or status scheduled without a future publishedAt"}},
	"posts:update":       {{400, "a taken or malformed explicit slug, or status scheduled without a future publishedAt"}},
	"comments:create":    {{400, "a comment on a post that is not published, a parent on another post or deeper than 3 replies, or an empty or too long body"}},
	"comments:update":    {{403, "the change when the caller may not make it: only the comment's author (or an admin) changes the body, only the post's author or an admin the status"}},
	"courses:create":     {{400, "a price with more than 2 decimals, a currency that is not 3 letters, or status scheduled without a future publishedAt"}},
	"courses:update":     {{400, "a price with more than 2 decimals, a currency that is not 3 letters, or status scheduled without a future publishedAt"}},
	"lessons:create":     {{400, "a position already taken in the course (on position and course)"}},
	"lessons:update":     {{400, "a position already taken in the course (on position and course)"}},
	"enrollments:create": {{400, "a course that is not published, or a second enrollment in the same course (on course)"}},
	"enrollments:update": {{400, "completedLessons holding a lesson of another course"}},
	"reviews:create":     {{400, "a review without an active or completed enrollment in the course, a second review of it (on course), or a rating that is not an integer 1–5"}},
	"reviews:update":     {{400, "a rating that is not an integer 1–5"}},
}

// fieldNotes are what Lectern's hooks do with a field beyond the schema and
// the guards' policy, keyed by "collection.field"; they are added to the
// field's description in the document and the types.
var fieldNotes = map[string]string{
	"comments.body":      "Plain text: markup is stripped on the server.",
	"comments.status":    "Moderation: only the post's author or an admin chooses it (anyone else's new comment is visible; their change is a 403).",
	"enrollments.status": "A client moves between active and cancelled; the server sets completed when progress reaches 100 (a client's completed is ignored).",
	"reviews.body":       "Plain text: markup is stripped on the server.",
}

// whoMayCall describes, in words, who gets through an action's rule.
func whoMayCall(collection, action string, rule *string) string {
	var b strings.Builder
	b.WriteString("**Who may call it:** ")
	switch {
	case rule == nil:
		b.WriteString("superusers only (the rule is locked: anyone else gets a 403).")
		return b.String()
	case *rule == "":
		if h, ok := hints[collection+":"+action]; ok && h.rule == "" {
			b.WriteString(h.who)
		} else {
			b.WriteString("anyone, signed in or not.")
		}
		b.WriteString(" (Empty rule.)")
		return b.String()
	}
	if h, ok := hints[collection+":"+action]; ok && h.rule == *rule {
		b.WriteString(h.who)
	} else {
		b.WriteString("callers the rule below lets through.")
		if ok {
			b.WriteString(" (The rule was changed from Lectern's default.)")
		}
	}
	fmt.Fprintf(&b, "\n\nRule: `%s`", *rule)
	switch action {
	case actionList:
		b.WriteString("\n\nThe rule filters rows: a record it does not let through is left out of the page, never an error.")
	case actionView, actionUpdate, actionDelete:
		b.WriteString("\n\nA record the rule does not let through is a 404, as if it did not exist.")
	case actionCreate:
		b.WriteString("\n\nA create the rule refuses is a 400 \"Failed to create record.\" with empty data.")
	}
	return b.String()
}
