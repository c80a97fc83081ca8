package hooks_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"lectern/internal/testkit"
)

func TestSyllabus(t *testing.T) {
	url := func(id string) string { return "/api/courses/" + id + "/syllabus" }
	scenarios := []tests.ApiScenario{
		{
			// the paid lesson's title is shown, its content never
			Name: "guest on a published course", URL: url(testkit.CoursePublished),
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				`{"items":[{"position":1,"title":"Intro","durationMinutes":0,"freePreview":true},{"position":2,"title":"Streams","durationMinutes":0,"freePreview":false}]}`,
			},
			NotExpectedContent: []string{"body", "videoUrl", testkit.LessonPaid},
		},
		{Name: "guest on a draft course", URL: url(testkit.CourseDraft), ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`}, NotExpectedContent: []string{"Ownership"}},
		{Name: "its instructor on the draft", URL: url(testkit.CourseDraft), Headers: fixture.Headers(testkit.Instructor), ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"title":"Ownership"`}},
		{Name: "no such course", URL: url("nosuchcourse000"), ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`}},
	}
	for _, s := range scenarios {
		s.Method = http.MethodGet
		s.TestAppFactory = fixture.Factory
		s.Test(t)
	}
}
