package apidocs

import (
	"net/http"

	"lectern/hooks"
)

func (b *openAPIBuilder) syllabus() {
	p := newOp(http.MethodGet, hooks.SyllabusPath, "courses_syllabus", "courses", "A course's syllabus: every lesson's title and duration").
		describe("**Who may call it:** whoever may view the course (its view rule). The lessons' list rule shows a visitor only free previews; this outline names every lesson, locked ones included, with four fields and never a body or video URL.")
	p.o.set("parameters", []any{o("name", "id", "in", "path", "required", true, "description", "The course id.", "schema", o("type", "string"))})
	item := o("type", "object", "required", []any{"position", "title", "durationMinutes", "freePreview"},
		"properties", o(
			"position", o("type", "integer"),
			"title", o("type", "string"),
			"durationMinutes", o("type", "number"),
			"freePreview", o("type", "boolean", "description", "Open to everyone; the others open to enrolled users."),
		))
	p.answer(200, o("description", "The lessons in position order.", "content", o("application/json", o("schema",
		o("type", "object", "required", []any{"items"}, "properties", o("items", o("type", "array", "items", item)))))))
	p.answer(404, errorResponse("No such course, or one the caller may not view."))
	b.add(p)
}
