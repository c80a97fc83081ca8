package hooks

import (
	"database/sql"
	"errors"
	"fmt"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/text"
)

// MaxCommentDepth is the deepest reply allowed: a top-level comment has depth 0.
const MaxCommentDepth = 3

func registerComments(app core.App, parents *announcer) {
	app.OnRecordCreateRequest("comments").BindFunc(func(e *core.RecordRequestEvent) error {
		who := callerOf(e.RequestEvent)
		if who.admin() {
			return e.Next()
		}
		// Only moderators choose a status; everyone else's comment starts
		// visible (as does one that asks for no other status: no lookup).
		if status := e.Record.GetString("status"); status == "" || status == "visible" {
			return e.Next()
		}
		author, err := storedString(e.App, "posts", e.Record.GetString("post"), "author")
		if err != nil || author == "" || author != who.id {
			e.Record.Set("status", "visible")
		}
		return e.Next()
	})

	app.OnRecordUpdateRequest("comments").BindFunc(func(e *core.RecordRequestEvent) error {
		who := callerOf(e.RequestEvent)
		orig := e.Record.Original()
		post, err := e.App.FindRecordById("posts", orig.GetString("post"))
		if err != nil {
			return fmt.Errorf("load post of comment %q: %w", orig.Id, err)
		}
		isAuthor := who.id != "" && orig.GetString("author") == who.id
		isModerator := who.admin() || (who.id != "" && post.GetString("author") == who.id)

		bodyChanged := text.PlainText(e.Record.GetString("body")) != orig.GetString("body")
		statusChanged := e.Record.GetString("status") != orig.GetString("status")
		switch {
		case !isAuthor && !isModerator:
			return e.ForbiddenError("Only the comment's author or a moderator may change it.", nil)
		case bodyChanged && !isAuthor && !who.admin():
			return e.ForbiddenError("Only the comment's author may change its body.", nil)
		case statusChanged && !isModerator:
			return e.ForbiddenError("Only the post's author or an admin may change a comment's status.", nil)
		}
		// Moderation and admin edits of someone else's words don't mark it edited.
		if bodyChanged && isAuthor {
			e.Record.Set("edited", true)
		}
		return e.Next()
	})

	app.OnRecordCreate("comments").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			prepareComment(e.Record)
			post, err := placeComment(tx, e.Record)
			if err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			if post == nil {
				return nil
			}
			return parents.afterCommit(e.Context, tx, "posts", post.Id, post)
		})
	})
	app.OnRecordUpdate("comments").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			prepareComment(e.Record)
			stored, err := storedString(tx, "comments", e.Record.Id, "status")
			if err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			if stored == e.Record.GetString("status") {
				return nil
			}
			return recountPost(e, tx, parents)
		})
	})
	app.OnRecordDelete("comments").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			return recountPost(e, tx, parents)
		})
	})
}

// recountPost refreshes the commentsCount of the comment's post and
// announces it after the commit.
func recountPost(e *core.RecordEvent, tx core.App, parents *announcer) error {
	id := e.Record.GetString("post")
	post, err := recountVisibleComments(tx, id)
	if err != nil {
		return err
	}
	return parents.afterCommit(e.Context, tx, "posts", id, post)
}

// prepareComment stores the body as plain text and defaults the status.
func prepareComment(r *core.Record) {
	if changed(r, "body") {
		r.Set("body", text.PlainText(r.GetString("body")))
	}
	if r.GetString("status") == "" {
		r.Set("status", "visible")
	}
}

// placeComment enforces, at create: the post is published, a reply is on
// the same post, and the reply is at most MaxCommentDepth deep. A visible
// comment is counted on its post by the statement that checks the post
// (before the insert, in tx: a refused comment rolls it back), and the post
// as updated is returned to announce; otherwise it returns nil.
func placeComment(tx core.App, r *core.Record) (*core.Record, error) {
	postID := r.GetString("post")
	var post *core.Record
	published := false
	if r.GetString("status") == "visible" {
		p, err := countNewComment(tx, postID)
		if err != nil {
			return nil, err
		}
		post, published = p, p != nil
	} else {
		status, err := storedString(tx, "posts", postID, "status")
		if err != nil {
			return nil, err
		}
		published = status == "published"
	}
	if !published {
		return nil, validation.Errors{"post": validation.NewError("validation_post_not_published",
			"Comments are open on published posts only.")}
	}
	if err := checkReplyPlacement(tx, r); err != nil {
		return nil, err
	}
	return post, nil
}

// checkReplyPlacement enforces, for a reply: the comment it answers is on
// the same post, at most MaxCommentDepth-1 deep.
func checkReplyPlacement(app core.App, r *core.Record) error {
	postID := r.GetString("post")
	parentID := r.GetString("parent")
	if parentID == "" {
		return nil
	}
	parent, err := app.FindRecordById("comments", parentID)
	if err != nil || parent.GetString("post") != postID {
		return validation.Errors{"parent": validation.NewError("validation_parent_other_post",
			"A reply must be on the same post as the comment it answers.")}
	}
	depth, err := commentDepth(app, parent)
	if err != nil {
		return err
	}
	if depth+1 > MaxCommentDepth {
		return validation.Errors{"parent": validation.NewError("validation_reply_too_deep",
			fmt.Sprintf("Replies nest at most %d levels deep.", MaxCommentDepth))}
	}
	return nil
}

// commentDepth counts c's ancestors, stopping once past the limit.
func commentDepth(app core.App, c *core.Record) (int, error) {
	depth := 0
	for id := c.GetString("parent"); id != "" && depth <= MaxCommentDepth; depth++ {
		p, err := app.FindRecordById("comments", id)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("load parent comment %q: %w", id, err)
		}
		id = p.GetString("parent")
	}
	return depth, nil
}
