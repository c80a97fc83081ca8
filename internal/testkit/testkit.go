// Package testkit builds the fixture data set the API tests run against: one
// user of every role, posts and courses in every state, comments, lessons,
// enrollments and reviews, all written through the app so every hook applies.
//
// The data dir is built once per test binary and cloned for each scenario by
// tests.NewTestApp, so a scenario's writes never leak into the next one.
package testkit

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"

	"lectern/hooks"
	"lectern/internal/authrules"
	_ "lectern/migrations"
)

// Password is every fixture user's password.
const Password = "Secret-pass-123"

// Identities, by the names the matrix uses.
const (
	Guest      = "guest"
	Student    = "student"
	Student2   = "student2"
	Author     = "author"
	Author2    = "author2"
	Instructor = "instructor"
	Instr2     = "instructor2"
	Admin      = "admin"
	Superuser  = "superuser"
)

// Record ids of the fixture. Fixed so scenarios read like the data they touch.
const (
	UserStudent    = "ustudent0000001"
	UserStudent2   = "ustudent0000002"
	UserAuthor     = "uauthor00000001"
	UserAuthor2    = "uauthor00000002"
	UserInstructor = "uinstructor0001"
	UserInstr2     = "uinstructor0002"
	UserAdmin      = "uadmin000000001"

	TopicGo = "topicgo00000001"

	PostPublished  = "ppublished00001" // author, published
	PostDraft      = "pdraft000000001" // author, draft
	PostScheduled  = "pscheduled00001" // author, scheduled next year
	PostArchived   = "parchived000001" // author, archived
	PostPublished2 = "ppublished00002" // author2, published

	CommentVisible  = "cvisible0000001" // student on PostPublished
	CommentHidden   = "chidden00000001" // student on PostPublished, hidden
	CommentVisible2 = "cvisible0000002" // student2 on PostPublished
	CommentReply    = "creply000000001" // student2 replying to CommentVisible
	CommentOther    = "cother000000001" // student2 on PostPublished2

	CoursePublished  = "kpublished00001" // instructor, published, free (paid courses are bought: internal/checkout)
	CourseDraft      = "kdraft000000001" // instructor, draft
	CoursePublished2 = "kpublished00002" // instructor2, published, free

	LessonFree  = "lfree0000000001" // CoursePublished, free preview, position 1
	LessonPaid  = "lpaid0000000001" // CoursePublished, position 2
	LessonDraft = "ldraft000000001" // CourseDraft, free preview
	LessonOther = "lother000000001" // CoursePublished2, position 1

	EnrollmentStudent   = "estudent0000001" // student in CoursePublished, active, LessonFree done
	EnrollmentCancelled = "ecancelled00001" // student2 in CoursePublished, cancelled
	EnrollmentOther     = "eother000000001" // student2 in CoursePublished2, active

	ReviewStudent = "rstudent0000001" // student on CoursePublished, 4 stars
	ReviewOther   = "rother000000001" // student2 on CoursePublished2, 5 stars

	SuperuserEmail = "root@lectern.test"
)

// Fixture is a built data dir plus an auth token per identity.
type Fixture struct {
	Dir    string
	Tokens map[string]string // identity → Authorization header value ("" for guests)
}

// Build creates the fixture data dir under a fresh temp dir. Call it once from
// TestMain and remove Dir afterwards.
func Build() (*Fixture, error) {
	src, err := os.MkdirTemp("", "lectern_fixture_src_")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(src)

	app, err := tests.NewTestApp(src)
	if err != nil {
		return nil, err
	}
	hooks.Register(app)

	f := &Fixture{Dir: app.DataDir(), Tokens: map[string]string{Guest: ""}}
	if err := populate(app, f); err != nil {
		app.Cleanup()
		return nil, err
	}
	// close the db but keep the dir: it is the template every scenario clones
	app.ResetBootstrapState()
	return f, nil
}

// NewApp clones the fixture into a fresh test app with Lectern's hooks bound.
func (f *Fixture) NewApp(t testing.TB) *tests.TestApp {
	t.Helper()
	app, err := tests.NewTestApp(f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	hooks.Register(app)
	// as main.go wires it (there with the response cache's watcher of other
	// processes' commits; a test has none): signed-in pages keep their rule
	// checks' answers until the next write
	authrules.UseExternalGeneration(app, func() uint64 { return 0 })
	return app
}

// Factory is a tests.ApiScenario TestAppFactory over the fixture.
func (f *Fixture) Factory(t testing.TB) *tests.TestApp { return f.NewApp(t) }

// Headers returns the request headers of an identity.
func (f *Fixture) Headers(identity string) map[string]string {
	tok, ok := f.Tokens[identity]
	if !ok {
		panic("testkit: unknown identity " + identity)
	}
	if tok == "" {
		return nil
	}
	return map[string]string{"Authorization": tok}
}

// Identities lists every identity of the matrix, guest first.
func Identities() []string {
	return []string{Guest, Student, Student2, Author, Author2, Instructor, Instr2, Admin, Superuser}
}

func populate(app core.App, f *Fixture) error {
	users := []struct{ identity, id, role, name string }{
		{Student, UserStudent, "student", "Sam Student"},
		{Student2, UserStudent2, "student", "Sky Student"},
		{Author, UserAuthor, "author", "Ada Author"},
		{Author2, UserAuthor2, "author", "Abe Author"},
		{Instructor, UserInstructor, "instructor", "Ines Instructor"},
		{Instr2, UserInstr2, "instructor", "Ivan Instructor"},
		{Admin, UserAdmin, "admin", "Alex Admin"},
	}
	for _, u := range users {
		r, err := save(app, "users", u.id, map[string]any{
			"email": u.identity + "@lectern.test", "name": u.name, "role": u.role,
			"password": Password, "verified": true,
		})
		if err != nil {
			return err
		}
		tok, err := r.NewAuthToken()
		if err != nil {
			return err
		}
		f.Tokens[u.identity] = tok
	}

	su := core.NewRecord(mustCollection(app, core.CollectionNameSuperusers))
	su.SetEmail(SuperuserEmail)
	su.SetPassword(Password)
	if err := app.Save(su); err != nil {
		return fmt.Errorf("superuser: %w", err)
	}
	tok, err := su.NewAuthToken()
	if err != nil {
		return err
	}
	f.Tokens[Superuser] = tok

	nextYear := types.NowDateTime().Add(365 * 24 * time.Hour)
	steps := []struct {
		collection, id string
		data           map[string]any
	}{
		{"topics", TopicGo, map[string]any{"name": "Go"}},

		{"posts", PostPublished, map[string]any{"title": "Hello Lectern", "body": "<p>Published words.</p>", "author": UserAuthor, "status": "published", "topics": []string{TopicGo}}},
		{"posts", PostDraft, map[string]any{"title": "Draft thoughts", "body": "<p>secret draft</p>", "author": UserAuthor, "status": "draft"}},
		{"posts", PostScheduled, map[string]any{"title": "Coming soon", "body": "<p>later</p>", "author": UserAuthor, "status": "scheduled", "publishedAt": nextYear}},
		{"posts", PostArchived, map[string]any{"title": "Old news", "body": "<p>old</p>", "author": UserAuthor, "status": "archived"}},
		{"posts", PostPublished2, map[string]any{"title": "Second author post", "body": "<p>More words.</p>", "author": UserAuthor2, "status": "published"}},

		{"comments", CommentVisible, map[string]any{"post": PostPublished, "author": UserStudent, "body": "Great post"}},
		{"comments", CommentHidden, map[string]any{"post": PostPublished, "author": UserStudent, "body": "Spam here", "status": "hidden"}},
		{"comments", CommentVisible2, map[string]any{"post": PostPublished, "author": UserStudent2, "body": "Agreed"}},
		{"comments", CommentReply, map[string]any{"post": PostPublished, "author": UserStudent2, "parent": CommentVisible, "body": "Reply"}},
		{"comments", CommentOther, map[string]any{"post": PostPublished2, "author": UserStudent2, "body": "Nice"}},

		{"courses", CoursePublished, map[string]any{"title": "Node.JS", "summary": "Server-side JavaScript", "instructor": UserInstructor, "durationDays": 45, "mode": "hybrid", "level": "beginner", "price": 0, "status": "published"}},
		{"courses", CourseDraft, map[string]any{"title": "Rust in depth", "instructor": UserInstructor, "durationDays": 30, "mode": "online", "level": "advanced", "price": 0, "status": "draft"}},
		{"courses", CoursePublished2, map[string]any{"title": "Kubernetes", "instructor": UserInstr2, "durationDays": 10, "mode": "onsite", "level": "intermediate", "price": 0, "status": "published"}},

		{"lessons", LessonFree, map[string]any{"course": CoursePublished, "title": "Intro", "position": 1, "freePreview": true}},
		{"lessons", LessonPaid, map[string]any{"course": CoursePublished, "title": "Streams", "position": 2}},
		{"lessons", LessonDraft, map[string]any{"course": CourseDraft, "title": "Ownership", "position": 1, "freePreview": true}},
		{"lessons", LessonOther, map[string]any{"course": CoursePublished2, "title": "Pods", "position": 1}},

		{"enrollments", EnrollmentStudent, map[string]any{"course": CoursePublished, "user": UserStudent, "completedLessons": []string{LessonFree}}},
		{"enrollments", EnrollmentCancelled, map[string]any{"course": CoursePublished, "user": UserStudent2, "status": "cancelled"}},
		{"enrollments", EnrollmentOther, map[string]any{"course": CoursePublished2, "user": UserStudent2}},

		{"reviews", ReviewStudent, map[string]any{"course": CoursePublished, "user": UserStudent, "rating": 4, "body": "Solid"}},
		{"reviews", ReviewOther, map[string]any{"course": CoursePublished2, "user": UserStudent2, "rating": 5, "body": "Loved it"}},
	}
	for _, s := range steps {
		if _, err := save(app, s.collection, s.id, s.data); err != nil {
			return err
		}
	}
	return nil
}

func save(app core.App, collection, id string, data map[string]any) (*core.Record, error) {
	r := core.NewRecord(mustCollection(app, collection))
	r.Id = id
	r.Load(data)
	if pw, ok := data["password"].(string); ok {
		r.SetPassword(pw)
	}
	if err := app.Save(r); err != nil {
		return nil, fmt.Errorf("fixture %s %s: %w", collection, id, err)
	}
	return r, nil
}

func mustCollection(app core.App, name string) *core.Collection {
	c, err := app.FindCollectionByNameOrId(name)
	if err != nil {
		panic(err)
	}
	return c
}

// Main is the body of a package's TestMain: it builds the fixture into *f, runs
// the package's tests, removes the fixture dir and exits with the tests' code.
func Main(m *testing.M, f **Fixture) {
	built, err := Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build fixture:", err)
		os.Exit(1)
	}
	*f = built
	code := m.Run()
	os.RemoveAll(built.Dir)
	os.Exit(code)
}
