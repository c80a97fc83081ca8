package hooks

import (
	"errors"
	"math"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/checkout"
)

func registerEnrollments(app core.App, parents *announcer) {
	count := func(e *core.RecordEvent, tx core.App) error {
		id := e.Record.GetString("course")
		course, err := refreshCourseEnrollments(tx, id)
		if err != nil {
			return err
		}
		return parents.afterCommit(e.Context, tx, "courses", id, course)
	}
	// "completed" is the server's word: a client may only move between active and cancelled.
	app.OnRecordCreateRequest("enrollments").BindFunc(func(e *core.RecordRequestEvent) error {
		if e.Record.GetString("status") != "cancelled" {
			e.Record.Set("status", "active")
		}
		// a paid course is bought (internal/checkout), not joined; admins may
		// still enroll anyone for free
		if !callerOf(e.RequestEvent).admin() {
			if err := checkout.RefuseJoin(e.App, e.Record.GetString("course")); err != nil {
				return purchaseError(err)
			}
		}
		return e.Next()
	})
	app.OnRecordUpdateRequest("enrollments").BindFunc(func(e *core.RecordRequestEvent) error {
		orig := e.Record.Original().GetString("status")
		if e.Record.GetString("status") == "completed" && orig != "completed" {
			e.Record.Set("status", orig)
		}
		// access to a paid course follows its order: a refunded or disputed
		// buyer cannot switch the enrollment back on
		if orig == "cancelled" && e.Record.GetString("status") != "cancelled" && !callerOf(e.RequestEvent).admin() {
			if err := checkout.RefuseReactivate(e.App, e.Record.GetString("course"), e.Record.GetString("user")); err != nil {
				return purchaseError(err)
			}
		}
		return e.Next()
	})

	app.OnRecordCreate("enrollments").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := checkEnrollable(tx, e.Record); err != nil {
				return err
			}
			if err := applyProgress(tx, e.Record); err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			return count(e, tx)
		})
	})
	app.OnRecordUpdate("enrollments").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := applyProgress(tx, e.Record); err != nil {
				return err
			}
			stored, err := storedString(tx, "enrollments", e.Record.Id, "status")
			if err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			if stored == e.Record.GetString("status") {
				return nil
			}
			return count(e, tx)
		})
	})
	app.OnRecordDelete("enrollments").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			return count(e, tx)
		})
	})
}

// purchaseError is the contract's 400 on course for a paid course joined
// without buying it; other errors pass through.
func purchaseError(err error) error {
	if errors.Is(err, checkout.ErrMustPurchase) {
		return apis.NewBadRequestError("Failed to enroll.", validation.Errors{"course": validation.NewError(
			"validation_course_must_be_purchased", "This course must be purchased.")})
	}
	return err
}

// checkEnrollable enforces, at create: the course is published and the user
// has no enrollment in it yet (the unique index backs this up under races).
func checkEnrollable(app core.App, r *core.Record) error {
	course, err := app.FindRecordById("courses", r.GetString("course"))
	if err != nil || course.GetString("status") != "published" {
		return validation.Errors{"course": validation.NewError("validation_course_not_published",
			"Enrollment is open on published courses only.")}
	}
	existing, _ := app.FindFirstRecordByFilter("enrollments", "course = {:c} && user = {:u}",
		dbx.Params{"c": course.Id, "u": r.GetString("user")})
	if existing != nil {
		return validation.Errors{"course": validation.NewError("validation_already_enrolled",
			"You are already enrolled in this course.")}
	}
	return nil
}

// applyProgress validates completedLessons against the course and derives
// progress; an active enrollment at 100% becomes completed (and stays so when
// lessons are added later).
func applyProgress(app core.App, r *core.Record) error {
	courseID := r.GetString("course")
	done := r.GetStringSlice("completedLessons")
	var total int
	if err := app.DB().Select("count(*)").From("lessons").
		Where(dbx.HashExp{"course": courseID}).Row(&total); err != nil {
		return err
	}
	if len(done) > 0 {
		var inCourse int
		if err := app.DB().Select("count(*)").From("lessons").
			Where(dbx.HashExp{"course": courseID, "id": toAny(done)}).Row(&inCourse); err != nil {
			return err
		}
		if inCourse != len(done) {
			return validation.Errors{"completedLessons": validation.NewError("validation_lesson_other_course",
				"Every completed lesson must belong to the enrollment's course.")}
		}
	}
	if r.GetString("status") == "" {
		r.Set("status", "active")
	}
	p := Progress(len(done), total)
	r.Set("progress", p)
	if p == 100 && r.GetString("status") == "active" {
		r.Set("status", "completed")
	}
	return nil
}

// Progress is round(100 × completed / total), 0 for a course without lessons.
func Progress(completed, total int) int {
	if total <= 0 || completed <= 0 {
		return 0
	}
	if completed > total {
		completed = total
	}
	return int(math.Round(100 * float64(completed) / float64(total)))
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
