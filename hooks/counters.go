package hooks

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
)

// Drift is a stored derived value that differs from a fresh recount.
type Drift struct {
	Collection string
	RecordID   string
	Field      string
	Stored     float64
	Want       float64
}

func (d Drift) String() string {
	return fmt.Sprintf("%s/%s %s: stored %v, want %v", d.Collection, d.RecordID, d.Field, d.Stored, d.Want)
}

// CheckCounters recounts every post's commentsCount, every course's
// ratingAvg, ratingCount and enrollmentsCount and every enrollment's progress
// straight from the rows they derive from, and reports each stored value that
// differs. With repair, each drifting record is saved again so its model
// hooks recompute it (and realtime subscribers receive the correction).
//
// The hooks keep these exact in the writing transaction; drift means a write
// bypassed them (raw SQL, a restored backup, a bug), which is what this finds.
func CheckCounters(app core.App, repair bool) ([]Drift, error) {
	var drifts []Drift
	for _, check := range []func(core.App) ([]Drift, error){postDrift, courseDrift, enrollmentDrift} {
		found, err := check(app)
		if err != nil {
			return nil, err
		}
		drifts = append(drifts, found...)
	}
	if !repair {
		return drifts, nil
	}
	seen := map[string]bool{}
	for _, d := range drifts {
		key := d.Collection + "/" + d.RecordID
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := touch(app, d.Collection, d.RecordID); err != nil {
			return drifts, fmt.Errorf("repair %s: %w", key, err)
		}
	}
	return drifts, nil
}

func postDrift(app core.App) ([]Drift, error) {
	var rows []struct {
		ID     string  `db:"id"`
		Stored float64 `db:"stored"`
		Want   int     `db:"want"`
	}
	err := app.DB().NewQuery(`SELECT p.id AS id, COALESCE(p.commentsCount, 0) AS stored,
		(SELECT COUNT(*) FROM comments c WHERE c.post = p.id AND c.status = 'visible') AS want
		FROM posts p ORDER BY p.id`).All(&rows)
	if err != nil {
		return nil, fmt.Errorf("recount comments: %w", err)
	}
	var drifts []Drift
	for _, r := range rows {
		drifts = appendDrift(drifts, "posts", r.ID, "commentsCount", r.Stored, float64(r.Want))
	}
	return drifts, nil
}

func courseDrift(app core.App) ([]Drift, error) {
	var rows []struct {
		ID               string  `db:"id"`
		RatingAvg        float64 `db:"ratingAvg"`
		RatingCount      float64 `db:"ratingCount"`
		EnrollmentsCount float64 `db:"enrollmentsCount"`
		RatingSum        int     `db:"ratingSum"`
		Reviews          int     `db:"reviews"`
		Enrolled         int     `db:"enrolled"`
	}
	err := app.DB().NewQuery(`SELECT k.id AS id,
		COALESCE(k.ratingAvg, 0) AS ratingAvg,
		COALESCE(k.ratingCount, 0) AS ratingCount,
		COALESCE(k.enrollmentsCount, 0) AS enrollmentsCount,
		(SELECT COALESCE(SUM(rating), 0) FROM reviews WHERE course = k.id) AS ratingSum,
		(SELECT COUNT(*) FROM reviews WHERE course = k.id) AS reviews,
		(SELECT COUNT(*) FROM enrollments WHERE course = k.id AND status IN ('active', 'completed')) AS enrolled
		FROM courses k ORDER BY k.id`).All(&rows)
	if err != nil {
		return nil, fmt.Errorf("recount courses: %w", err)
	}
	var drifts []Drift
	for _, r := range rows {
		drifts = appendDrift(drifts, "courses", r.ID, "ratingAvg", r.RatingAvg, RatingAvg(r.RatingSum, r.Reviews))
		drifts = appendDrift(drifts, "courses", r.ID, "ratingCount", r.RatingCount, float64(r.Reviews))
		drifts = appendDrift(drifts, "courses", r.ID, "enrollmentsCount", r.EnrollmentsCount, float64(r.Enrolled))
	}
	return drifts, nil
}

func enrollmentDrift(app core.App) ([]Drift, error) {
	var rows []struct {
		ID     string  `db:"id"`
		Stored float64 `db:"stored"`
		Done   int     `db:"done"`
		Total  int     `db:"total"`
	}
	// done counts only lessons of the enrollment's course, as applyProgress
	// accepts no others.
	err := app.DB().NewQuery(`SELECT e.id AS id, COALESCE(e.progress, 0) AS stored,
		(SELECT COUNT(*) FROM lessons l WHERE l.course = e.course AND l.id IN
			(SELECT j.value FROM json_each(CASE WHEN json_valid(e.completedLessons) THEN e.completedLessons ELSE '[]' END) j)) AS done,
		(SELECT COUNT(*) FROM lessons l WHERE l.course = e.course) AS total
		FROM enrollments e ORDER BY e.id`).All(&rows)
	if err != nil {
		return nil, fmt.Errorf("recount progress: %w", err)
	}
	var drifts []Drift
	for _, r := range rows {
		drifts = appendDrift(drifts, "enrollments", r.ID, "progress", r.Stored, float64(Progress(r.Done, r.Total)))
	}
	return drifts, nil
}

func appendDrift(drifts []Drift, collection, id, field string, stored, want float64) []Drift {
	if stored == want {
		return drifts
	}
	return append(drifts, Drift{Collection: collection, RecordID: id, Field: field, Stored: stored, Want: want})
}
