package ruleguard_test

import (
	"errors"
	"os"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/router"

	"lectern/internal/ruleguard"
	_ "lectern/migrations"
)

var app *tests.TestApp

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lectern_ruleguard_")
	if err != nil {
		panic(err)
	}
	app, err = tests.NewTestApp(dir)
	if err != nil {
		panic(err)
	}
	code := m.Run()
	app.Cleanup()
	os.RemoveAll(dir)
	os.Exit(code)
}

func collection(t testing.TB, name string) *core.Collection {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// code returns the refusal code of Check's answer ("" when allowed).
func code(t testing.TB, err error, key string) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var apiErr *router.ApiError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 {
		t.Fatalf("want a 400 ApiError, got %v", err)
	}
	data, ok := apiErr.Data[key].(map[string]any)
	if !ok {
		t.Fatalf("want data.%s, got %#v", key, apiErr.Data)
	}
	c, _ := data["code"].(string)
	return c
}

func TestCheckFilter(t *testing.T) {
	cases := []struct {
		collection, filter, want string
	}{
		// the record's own fields and single relations: anything goes
		{"posts", `status = "published" && title ~ "go"`, ""},
		{"comments", `post.title != "x" || parent.body = ""`, ""},
		{"enrollments", `course.instructor = "x"`, ""},
		// public collections through multi hops: nothing is hidden there
		{"posts", `topics.slug = "go"`, ""},
		{"posts", `topics.slug ?= "go"`, ""},
		// multi-valued hops into hidden records
		{"topics", `posts_via_topics.body !~ "codename"`, ruleguard.CodeEveryMatch},
		{"topics", `posts_via_topics.body ?!~ "codename"`, ""},
		{"posts", `comments_via_post.body ?~ "x"`, ""},
		{"posts", `comments_via_post.body ?!= "x"`, ruleguard.CodeEveryMatch},
		{"posts", `comments_via_post.body ?= ""`, ruleguard.CodeOperand},
		{"posts", `comments_via_post.body ?= title`, ruleguard.CodeOperand},
		{"posts", `comments_via_post.body ?= null`, ruleguard.CodeOperand},
		{"posts", `comments_via_post.status ?= "hidden" && comments_via_post.body ?~ "a"`, ""},
		{"posts", `comments_via_post.body ?~ "a" || id = "x"`, ruleguard.CodeOptional},
		{"posts", `(comments_via_post.body ?~ "a" || comments_via_post.body ?~ "b") && id != ""`, ""},
		{"posts", `id != "" && comments_via_post.body ?~ "a" || comments_via_post.body ?~ "b"`, ""},
		{"posts", `id != "" || comments_via_post.body ?~ "a" && status = "published"`, ruleguard.CodeOptional},
		{"courses", `enrollments_via_course.user != "u"`, ruleguard.CodeEveryMatch},
		{"enrollments", `completedLessons.body ~ "x"`, ruleguard.CodeEveryMatch},
		{"enrollments", `completedLessons.title ?= "x"`, ""},
		{"enrollments", `completedLessons:length > 2`, ""},
		// :each runs the every-match subquery over the course hop too
		{"enrollments", `course.topics:each = "x"`, ruleguard.CodeEveryMatch},
		{"enrollments", `course.lessons_via_course.title ?= "x"`, ""},
		{"enrollments", `course.lessons_via_course.title = "x"`, ruleguard.CodeEveryMatch},
		// a single hop after a multi one is inside the every-match subquery
		{"topics", `posts_via_topics.author.name = "x"`, ruleguard.CodeEveryMatch},
		{"topics", `@collection.posts.body ~ "x"`, ruleguard.CodeEveryMatch},
		{"posts", `@request.auth.avatar.x = "y"`, ruleguard.CodePath},
		{"posts", `nosuchrelation.title = "y"`, ruleguard.CodePath},
		{"posts", `title = `, ""}, // does not parse: PocketBase's own 400
	}
	for _, c := range cases {
		t.Run(c.collection+": "+c.filter, func(t *testing.T) {
			err := ruleguard.Check(app, collection(t, c.collection), nil, c.filter, "")
			if got := code(t, err, "filter"); got != c.want {
				t.Errorf("code %q, want %q (%v)", got, c.want, err)
			}
		})
	}
}

func TestCheckSort(t *testing.T) {
	cases := []struct{ collection, sort, want string }{
		{"posts", "-publishedAt,title", ""},
		{"posts", "@random", ""},
		{"comments", "post.title,-created", ""},
		{"posts", "-topics.name", ""},
		{"posts", "-comments_via_post.created", ruleguard.CodeSort},
		{"enrollments", "completedLessons.position", ruleguard.CodeSort},
	}
	for _, c := range cases {
		err := ruleguard.Check(app, collection(t, c.collection), nil, "", c.sort)
		if got := code(t, err, "sort"); got != c.want {
			t.Errorf("%s sort %q: code %q, want %q", c.collection, c.sort, got, c.want)
		}
	}
}

func TestSuperusersAreNeverRefused(t *testing.T) {
	su := core.NewRecord(collection(t, core.CollectionNameSuperusers))
	if err := ruleguard.Check(app, collection(t, "topics"), su, `posts_via_topics.body !~ "x"`, "-posts_via_topics.created"); err != nil {
		t.Fatalf("superuser refused: %v", err)
	}
}

// FuzzCheck: whatever the filter and sort, Check answers nil or a 400 (never
// panics, never another error).
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`posts_via_topics.body !~ "codename"`, `comments_via_post.body ?~ "x" || id = "y"`,
		`(a = 1 && (b ?= "2" || comments_via_post.x ?> 3))`, `geoDistance(a.b, 1, 2, 3) < 4`,
		`@collection.posts:p.title ?= "x"`, `x_via_y_via_z.a = 1`, `completedLessons:each = ""`,
	} {
		f.Add("topics", s, "-posts_via_topics.created")
		f.Add("posts", s, "title")
	}
	f.Fuzz(func(t *testing.T, name, filter, sort string) {
		c, err := app.FindCachedCollectionByNameOrId(name)
		if err != nil {
			return
		}
		err = ruleguard.Check(app, c, nil, filter, sort)
		var apiErr *router.ApiError
		if err != nil && (!errors.As(err, &apiErr) || apiErr.Status != 400) {
			t.Fatalf("Check(%q, %q) = %v", filter, sort, err)
		}
	})
}
