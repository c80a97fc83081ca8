package hooks

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"lectern/internal/text"
)

const defaultCurrency = "USD"

func registerCourses(app core.App) {
	app.OnRecordCreate("courses").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := prepareCourse(tx, e.Record); err != nil {
				return err
			}
			e.Record.Set("ratingAvg", 0)
			e.Record.Set("ratingCount", 0)
			e.Record.Set("enrollmentsCount", 0)
			return e.Next()
		})
	})
	app.OnRecordUpdate("courses").BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(tx core.App) error {
			if err := prepareCourse(tx, e.Record); err != nil {
				return err
			}
			// Recomputed from reviews and enrollments on every save of the
			// course; a review or enrollment write updates them alone (parents.go).
			agg, err := loadCourseAggregates(tx, e.Record.Id)
			if err != nil {
				return err
			}
			e.Record.Set("ratingAvg", RatingAvg(agg.RatingSum, agg.RatingCount))
			e.Record.Set("ratingCount", agg.RatingCount)
			e.Record.Set("enrollmentsCount", agg.Enrolled)
			return e.Next()
		})
	})
}

// prepareCourse derives everything the server owns on a course before it is saved.
func prepareCourse(app core.App, r *core.Record) error {
	if changed(r, "description") {
		r.Set("description", text.SanitizeHTML(r.GetString("description")))
	}
	if changed(r, "summary") {
		r.Set("summary", text.PlainText(r.GetString("summary")))
	}
	currency := strings.ToUpper(strings.TrimSpace(r.GetString("currency")))
	if currency == "" {
		currency = defaultCurrency
	}
	r.Set("currency", currency)
	if !HasAtMostTwoDecimals(r.GetFloat("price")) {
		return validation.Errors{"price": validation.NewError("validation_price_precision",
			"The price may have at most 2 decimal places.")}
	}
	if err := applyPublishing(r, time.Now()); err != nil {
		return err
	}
	return assignSlug(app, r, "title", "course")
}

// HasAtMostTwoDecimals reports whether v, written as the shortest decimal that
// reads back as v (99.95, as the client sent it), has at most two digits after
// the point. Counting digits rather than testing v*100 for a whole number keeps
// large prices right: above about 10^8 the cents are no longer exact in binary
// floating point and a tolerance misjudges them.
func HasAtMostTwoDecimals(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		return len(s)-dot-1 <= 2
	}
	return true
}

// RatingAvg is the mean rating rounded half-up to one decimal, 0 without
// reviews. It works on the integer sum so 4.65 rounds to 4.7, never 4.6.
func RatingAvg(sum, count int) float64 {
	if count <= 0 {
		return 0
	}
	tenths := (sum*20 + count) / (2 * count) // floor(10*sum/count + 0.5)
	return float64(tenths) / 10
}

// courseAggregates are the inputs of a course's derived fields.
type courseAggregates struct {
	RatingSum   int `db:"ratingSum"`
	RatingCount int `db:"ratingCount"`
	Enrolled    int `db:"enrolled"`
}

func loadCourseAggregates(app core.App, courseID string) (courseAggregates, error) {
	var agg courseAggregates
	err := app.DB().NewQuery(`SELECT
		(SELECT COALESCE(SUM(rating), 0) FROM reviews WHERE course = {:id}) AS ratingSum,
		(SELECT COUNT(*) FROM reviews WHERE course = {:id}) AS ratingCount,
		(SELECT COUNT(*) FROM enrollments WHERE course = {:id} AND status IN ('active', 'completed')) AS enrolled`).
		Bind(dbx.Params{"id": courseID}).One(&agg)
	return agg, err
}
