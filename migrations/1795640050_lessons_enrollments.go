package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Lessons and enrollments are one change: lessons' read rule joins enrollments
// and enrollments.completedLessons points at lessons, so both collections are
// created first and the rules set after.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		courses, err := app.FindCollectionByNameOrId("courses")
		if err != nil {
			return err
		}

		lessons := core.NewBaseCollection("lessons")
		lessons.Fields.Add(
			&core.RelationField{Name: "course", CollectionId: courses.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: "title", Required: true, Max: 200, Presentable: true},
			&core.NumberField{Name: "position", Required: true, OnlyInt: true, Min: types.Pointer(1.0), Help: "1, 2, 3… unique within the course."},
			&core.EditorField{Name: "body", MaxSize: 2 << 20},
			&core.URLField{Name: "videoUrl"},
			&core.NumberField{Name: "durationMinutes", Min: types.Pointer(0.0)},
			&core.BoolField{Name: "freePreview"},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		lessons.AddIndex("idx_lessons_course_position", true, "course, position", "")
		if err := app.Save(lessons); err != nil {
			return err
		}

		enrollments := core.NewBaseCollection("enrollments")
		enrollments.Fields.Add(
			&core.RelationField{Name: "course", CollectionId: courses.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true, Help: "Set by the server: the enrolling user."},
			&core.SelectField{Name: "status", MaxSelect: 1, Values: []string{"active", "completed", "cancelled"}},
			&core.RelationField{Name: "completedLessons", CollectionId: lessons.Id, MaxSelect: 10000},
			&core.NumberField{Name: "progress", OnlyInt: true, Min: types.Pointer(0.0), Max: types.Pointer(100.0), Help: "Set by the server: percent of the course's lessons completed."},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		enrollments.AddIndex("idx_enrollments_course_user", true, "course, user", "")
		enrollments.AddIndex("idx_enrollments_user", false, "user", "")
		if err := app.Save(enrollments); err != nil {
			return err
		}

		// Free previews of published courses are public; the rest is for
		// enrolled (active or completed) students, the instructor and admins.
		enrolled := `(@collection.enrollments.course ?= course && @collection.enrollments.user ?= @request.auth.id && @collection.enrollments.status ?!= "cancelled")`
		read := `(freePreview = true && course.status = "published") || (@request.auth.id != "" && (course.instructor = @request.auth.id || ` + ruleAdmin + ` || ` + enrolled + `))`
		write := `@request.auth.id != "" && (course.instructor = @request.auth.id || ` + ruleAdmin + `)`
		lessons.ListRule = types.Pointer(read)
		lessons.ViewRule = types.Pointer(read)
		lessons.CreateRule = types.Pointer(write)
		lessons.UpdateRule = types.Pointer(write)
		lessons.DeleteRule = types.Pointer(write)
		if err := app.Save(lessons); err != nil {
			return err
		}

		self := `@request.auth.id != "" && (user = @request.auth.id || ` + ruleAdmin + `)`
		enrollments.ListRule = types.Pointer(`@request.auth.id != "" && (user = @request.auth.id || course.instructor = @request.auth.id || ` + ruleAdmin + `)`)
		enrollments.ViewRule = enrollments.ListRule
		enrollments.CreateRule = types.Pointer(ruleSignedIn)
		enrollments.UpdateRule = types.Pointer(self)
		enrollments.DeleteRule = types.Pointer(ruleAdmin)
		return app.Save(enrollments)
	}, func(app core.App) error {
		if err := deleteCollection(app, "enrollments"); err != nil {
			return err
		}
		return deleteCollection(app, "lessons")
	})
}
