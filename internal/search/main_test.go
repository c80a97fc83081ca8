package search_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"

	"lectern/hooks"
	"lectern/internal/search"
	"lectern/internal/testkit"
)

// fixture is testkit's data set plus the records below, indexed: the data dir
// every API scenario in this package clones.
var fixture *testkit.Fixture

// Records added to testkit's fixture for the search scenarios.
const (
	PostKube       = "pskube000000001" // title "Running a Kubernetes cluster"
	PostKubeBody   = "pskubebody00001" // kubernetes only in the body
	PostRun        = "psrun0000000001" // "run" only as a verb in the body
	PostZephDraft  = "pszephdraft0001" // draft: the only "zephyrine"
	PostQuasarSch  = "psquasarsch0001" // scheduled: the only "quasar"
	PostTerraform  = "psterraform0001"
	CourseTfBasics = "ktfbasics000001" // online, beginner, rated 5
	CourseTfScale  = "ktfscale0000001" // onsite, advanced, rated 3
	CourseTfShop   = "ktfworkshop0001" // hybrid, beginner, rated 4.5
	CourseTfDraft  = "ktfdraft0000001" // draft, online, beginner
	LessonTfFree   = "ltffree00000001" // free preview of CourseTfBasics
	LessonTfPaid   = "ltfpaid00000001" // paid lesson of CourseTfBasics
	EnrollTfS1     = "etfbasicss00001"
	EnrollTfS1Shop = "etfshops1000001"
	EnrollTfS1Sc   = "etfscales100001"
	EnrollTfS2Shop = "etfshops2000001"
)

// pagingPosts is how many identical posts share the word "pagination".
const pagingPosts = 12

func TestMain(m *testing.M) {
	base, err := testkit.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build fixture:", err)
		os.Exit(1)
	}
	dir, err := extend(base)
	os.RemoveAll(base.Dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "extend fixture:", err)
		os.Exit(1)
	}
	fixture = &testkit.Fixture{Dir: dir, Tokens: base.Tokens}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// extend copies the testkit fixture, indexes it and adds the search records
// through the app (hooks and index hooks bound), returning the new data dir.
func extend(base *testkit.Fixture) (string, error) {
	app, err := tests.NewTestApp(base.Dir)
	if err != nil {
		return "", err
	}
	hooks.Register(app)
	search.Register(app)
	if _, err := search.Rebuild(app); err != nil {
		app.Cleanup()
		return "", err
	}
	if err := addSearchRecords(app); err != nil {
		app.Cleanup()
		return "", err
	}
	dir := app.DataDir()
	app.ResetBootstrapState()
	return dir, nil
}

func addSearchRecords(app core.App) error {
	nextYear := types.NowDateTime().Add(365 * 24 * time.Hour)
	steps := []struct {
		collection, id string
		data           map[string]any
	}{
		{"posts", PostKube, map[string]any{"title": "Running a Kubernetes cluster", "body": "<p>We schedule pods on the cluster every day: deployments, services and ingress.</p>", "author": testkit.UserAuthor, "status": "published"}},
		{"posts", PostKubeBody, map[string]any{"title": "Notes on deployments", "body": "<p>Rolling deployments are easy to get wrong. " + filler(40) + " We learned this on kubernetes.</p>", "author": testkit.UserAuthor2, "status": "published"}},
		{"posts", PostRun, map[string]any{"title": "Morning routine", "body": "<p>I run before breakfast, whatever the weather.</p>", "author": testkit.UserAuthor, "status": "published"}},
		{"posts", PostZephDraft, map[string]any{"title": "Unfinished notes", "body": "<p>The zephyrine protocol is not announced yet.</p>", "author": testkit.UserAuthor, "status": "draft"}},
		{"posts", PostQuasarSch, map[string]any{"title": "Quasar launch", "body": "<p>Coming soon.</p>", "author": testkit.UserAuthor, "status": "scheduled", "publishedAt": nextYear}},
		{"posts", PostTerraform, map[string]any{"title": "Terraform state tips", "body": "<p>Keep state remote.</p>", "author": testkit.UserAuthor, "status": "published"}},

		{"courses", CourseTfBasics, map[string]any{"title": "Terraform basics", "summary": "Infrastructure as code", "instructor": testkit.UserInstructor, "durationDays": 5, "mode": "online", "level": "beginner", "status": "published"}},
		{"courses", CourseTfScale, map[string]any{"title": "Terraform at scale", "instructor": testkit.UserInstructor, "durationDays": 10, "mode": "onsite", "level": "advanced", "status": "published"}},
		{"courses", CourseTfShop, map[string]any{"title": "Terraform workshop", "instructor": testkit.UserInstructor, "durationDays": 2, "mode": "hybrid", "level": "beginner", "status": "published"}},
		{"courses", CourseTfDraft, map[string]any{"title": "Terraform drafts", "instructor": testkit.UserInstructor, "durationDays": 3, "mode": "online", "level": "beginner", "status": "draft"}},
		{"lessons", LessonTfFree, map[string]any{"course": CourseTfBasics, "title": "Terraform modules", "position": 1, "freePreview": true}},
		{"lessons", LessonTfPaid, map[string]any{"course": CourseTfBasics, "title": "Terraform providers", "position": 2}},

		{"enrollments", EnrollTfS1, map[string]any{"course": CourseTfBasics, "user": testkit.UserStudent, "status": "active"}},
		{"enrollments", EnrollTfS1Sc, map[string]any{"course": CourseTfScale, "user": testkit.UserStudent, "status": "active"}},
		{"enrollments", EnrollTfS1Shop, map[string]any{"course": CourseTfShop, "user": testkit.UserStudent, "status": "active"}},
		{"enrollments", EnrollTfS2Shop, map[string]any{"course": CourseTfShop, "user": testkit.UserStudent2, "status": "active"}},
		{"reviews", "", map[string]any{"course": CourseTfBasics, "user": testkit.UserStudent, "rating": 5}},
		{"reviews", "", map[string]any{"course": CourseTfScale, "user": testkit.UserStudent, "rating": 3}},
		{"reviews", "", map[string]any{"course": CourseTfShop, "user": testkit.UserStudent, "rating": 4}},
		{"reviews", "", map[string]any{"course": CourseTfShop, "user": testkit.UserStudent2, "rating": 5}},
	}
	// Identical posts, courses and lessons: equal scores, ordered by id.
	for i := range pagingPosts {
		steps = append(steps, struct {
			collection, id string
			data           map[string]any
		}{"posts", fmt.Sprintf("pspaging%07d", i), map[string]any{"title": "Pagination sample", "body": "<p>Same words.</p>", "author": testkit.UserAuthor2, "status": "published"}})
	}
	for i := range 3 {
		steps = append(steps, struct {
			collection, id string
			data           map[string]any
		}{"lessons", fmt.Sprintf("lspaging%07d", i), map[string]any{"course": CourseTfBasics, "title": "Pagination sample", "position": 10 + i, "freePreview": true}})
	}
	for _, s := range steps {
		col, err := app.FindCollectionByNameOrId(s.collection)
		if err != nil {
			return err
		}
		r := core.NewRecord(col)
		if s.id != "" {
			r.Id = s.id
		}
		r.Load(s.data)
		if err := app.Save(r); err != nil {
			return fmt.Errorf("%s %s: %w", s.collection, s.id, err)
		}
	}
	return nil
}

func filler(n int) string {
	s := ""
	for i := range n {
		s += fmt.Sprintf("word%d ", i)
	}
	return s
}

// newApp clones the fixture with Lectern's hooks and search bound, as main.go
// binds them.
func newApp(t testing.TB) *tests.TestApp {
	app := fixture.NewApp(t)
	search.Register(app)
	return app
}
