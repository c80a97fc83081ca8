package checkout

import (
	"errors"

	"github.com/pocketbase/pocketbase/core"
)

// ErrMustPurchase is returned when a client tries to join a paid course
// without buying it.
var ErrMustPurchase = errors.New("this course must be purchased")

// Paid reports whether a course is sold rather than joined: price > 0.
func Paid(course *core.Record) bool { return course.GetFloat("price") > 0 }

// RefuseJoin returns ErrMustPurchase when courseID is a paid course: a client
// (not an admin) creating an enrollment in it must go through checkout. An
// unknown course passes: the enrollment's own validation refuses it.
func RefuseJoin(app core.App, courseID string) error {
	course, err := app.FindRecordById("courses", courseID)
	if err != nil || !Paid(course) {
		return nil
	}
	return ErrMustPurchase
}

// RefuseReactivate returns ErrMustPurchase when a client switches a cancelled
// enrollment in a paid course back on without a paid, undisputed order.
func RefuseReactivate(app core.App, courseID, userID string) error {
	course, err := app.FindRecordById("courses", courseID)
	if err != nil || !Paid(course) {
		return nil
	}
	ok, err := CanActivate(app, courseID, userID)
	if err != nil {
		return err
	}
	if !ok {
		return ErrMustPurchase
	}
	return nil
}
