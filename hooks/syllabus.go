package hooks

import (
	"net/http"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// SyllabusPath is the route of a course's syllabus.
const SyllabusPath = "/api/courses/{id}/syllabus"

// syllabusItem is what a course page may show of every lesson, locked or not:
// the outline that sells a course, never a locked lesson's body or video.
type syllabusItem struct {
	Position        int     `json:"position"`
	Title           string  `json:"title"`
	DurationMinutes float64 `json:"durationMinutes"`
	FreePreview     bool    `json:"freePreview"`
}

// registerSyllabus serves the outline of a course's lessons to whoever may
// view the course. The lessons' own list rule shows a visitor only the free
// previews (the rest hold the paid content), so the outline needs a route
// that reads all of them and returns four fields.
func registerSyllabus(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.GET(SyllabusPath, func(e *core.RequestEvent) error {
			course, err := e.App.FindRecordById("courses", e.Request.PathValue("id"))
			if err != nil {
				return e.NotFoundError("", nil)
			}
			info, err := e.RequestInfo()
			if err != nil {
				return err
			}
			if ok, err := e.App.CanAccessRecord(course, info, course.Collection().ViewRule); !ok || err != nil {
				return e.NotFoundError("", nil)
			}
			lessons, err := e.App.FindRecordsByFilter("lessons", "course = {:c}", "position", 0, 0, dbx.Params{"c": course.Id})
			if err != nil {
				return err
			}
			items := make([]syllabusItem, 0, len(lessons))
			for _, l := range lessons {
				items = append(items, syllabusItem{
					Position: l.GetInt("position"), Title: l.GetString("title"),
					DurationMinutes: l.GetFloat("durationMinutes"), FreePreview: l.GetBool("freePreview"),
				})
			}
			return e.JSON(http.StatusOK, map[string]any{"items": items})
		})
		return se.Next()
	})
}
