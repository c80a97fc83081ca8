package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"lectern/hooks"
	_ "lectern/migrations"
)

// sizes of the seeded data set (flags of `lectern seed`).
type sizes struct {
	Users, Posts, Comments, Courses, Enrollments, Reviews int
	// BenchUsers are extra students the load client signs in as; each is
	// enrolled in BenchCourses published courses, so every W2 request can
	// review a (user, course) pair of its own.
	BenchUsers, BenchCourses int
}

func (s sizes) seedArgs() []string {
	return []string{
		"--users", fmt.Sprint(s.Users), "--posts", fmt.Sprint(s.Posts), "--comments", fmt.Sprint(s.Comments),
		"--courses", fmt.Sprint(s.Courses), "--enrollments", fmt.Sprint(s.Enrollments), "--reviews", fmt.Sprint(s.Reviews),
		"--seed", "1",
	}
}

const benchPassword = "bench-pass-123"

// fixture is what the load client needs to know about the data set.
type fixture struct {
	Sizes   sizes       `json:"sizes"`
	Posts   []string    `json:"posts"`   // published posts, the most commented first
	Courses []string    `json:"courses"` // published courses
	Users   []benchUser `json:"users"`
	Pairs   [][2]int    `json:"pairs"`   // (user index, course index) enrolled and not reviewed
	Relaxed string      `json:"relaxed"` // what was changed in the settings
	// Superuser is a superuser's auth token, for the signed-in read
	// scenarios' third caller (superusers skip every rule)
	Superuser string      `json:"superuser"`
	Readers   []benchUser `json:"-"` // signed-in realtime readers (R2), minted at each run
}

// fixtureVersion changes whenever setupFixture adds something to the data
// set or the fixture, so an older seeded data set is redone.
const fixtureVersion = "2: a superuser"

type benchUser struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Token string `json:"token"`
}

// ---

// build compiles the contenders into dir. The binaries must not live under
// the OS temp dir unless --dev=false is passed (PocketBase takes a binary
// there for `go run` and logs every SQL statement); every start passes it.
func build(ctx context.Context, root, dir string, logw io.Writer) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bins := map[string]string{}
	steps := []struct{ name, cwd, pkg string }{
		{"lectern", root, "."},
		{"bare", root, "./bench/contenders/bare"},
		{"ceiling", root, "./bench/contenders/ceiling"},
		// its own module: the goja dependencies stay out of Lectern's go.mod
		{"jshooks", filepath.Join(root, "bench/contenders/jshooks"), "."},
	}
	for _, s := range steps {
		out := filepath.Join(dir, s.name)
		t0 := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, s.pkg)
		cmd.Dir = s.cwd
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", s.name, err, b)
		}
		fmt.Fprintf(logw, "  built %-8s in %4.1fs\n", s.name, time.Since(t0).Seconds())
		bins[s.name] = out
	}
	return bins, nil
}

// dataKey names a seeded data set: the sizes, the schema (migrations) and the
// seeder, so a change of any of them reseeds. Hooks and search are left out
// on purpose: they change often, a reseed of the full data set takes minutes,
// and the servers re-derive what they need (the search index catches up at
// start); --reseed forces one.
func dataKey(root string, sz sizes) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%+v\nfixture %s\n", sz, fixtureVersion)
	for _, dir := range []string{"migrations", "internal/seed"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d\n", path[len(root):], len(b))
			h.Write(b)
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// prepareData returns the pristine data dir and its fixture, seeding it with
// `lectern seed` unless an identical one exists in work.
func prepareData(ctx context.Context, root, work, lecternBin string, sz sizes, reseed bool, logw io.Writer) (string, *fixture, error) {
	key, err := dataKey(root, sz)
	if err != nil {
		return "", nil, err
	}
	dir := filepath.Join(work, "data-"+key)
	pristine := filepath.Join(dir, "pb_data")
	fixPath := filepath.Join(dir, "fixture.json")
	if !reseed {
		if b, err := os.ReadFile(fixPath); err == nil {
			var f fixture
			if json.Unmarshal(b, &f) == nil {
				fmt.Fprintf(logw, "  data set %s (seeded earlier; --reseed to redo)\n", dir)
				return pristine, &f, nil
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	t0 := time.Now()
	args := append([]string{"seed", "--dir", pristine, "--dev=false"}, sz.seedArgs()...)
	cmd := exec.CommandContext(ctx, lecternBin, args...)
	seedLog, err := os.Create(filepath.Join(dir, "seed.log"))
	if err != nil {
		return "", nil, err
	}
	cmd.Stdout, cmd.Stderr = seedLog, seedLog
	err = cmd.Run()
	seedLog.Close()
	if err != nil {
		return "", nil, fmt.Errorf("lectern %s: %w\n%s", strings.Join(args, " "), err, tail(seedLog.Name(), 3000))
	}
	fmt.Fprintf(logw, "  seeded %s in %.0fs (lectern %s)\n", pristine, time.Since(t0).Seconds(), strings.Join(args[1:], " "))

	f, err := setupFixture(pristine, sz)
	if err != nil {
		return "", nil, fmt.Errorf("prepare the data set: %w", err)
	}
	b, _ := json.MarshalIndent(f, "", " ")
	if err := os.WriteFile(fixPath, b, 0o644); err != nil {
		return "", nil, err
	}
	return pristine, f, nil
}

// setupFixture opens the seeded data dir in-process (with Lectern's hooks, so
// enrollments keep the courses' counters exact), relaxes the rate limits for
// the load client, adds the bench users with their enrollments and picks the
// records the scenarios read.
func setupFixture(dataDir string, sz sizes) (*fixture, error) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dataDir})
	if err := app.Bootstrap(); err != nil {
		return nil, err
	}
	defer app.ResetBootstrapState()
	hooks.Register(app)

	f := &fixture{Sizes: sz}

	// Every request comes from 127.0.0.1, and the default limits (20 comments
	// a minute…) would refuse nearly all of them. The rules stay on, with
	// limits no run reaches, so the limiter's own cost stays measured.
	s := app.Settings()
	var relaxed []string
	for i := range s.RateLimits.Rules {
		r := &s.RateLimits.Rules[i]
		relaxed = append(relaxed, fmt.Sprintf("%s %d/%ds", r.Label, r.MaxRequests, r.Duration))
		r.MaxRequests *= 1_000_000
	}
	if err := app.Save(s); err != nil {
		return nil, fmt.Errorf("relax rate limits: %w", err)
	}
	f.Relaxed = "rate limit rules " + strings.Join(relaxed, ", ") + " each raised ×1,000,000 (still enabled)"

	var posts []struct {
		ID string `db:"id"`
	}
	err := app.DB().NewQuery(`SELECT p.id AS id FROM posts p WHERE p.status = 'published'
		ORDER BY p.commentsCount DESC, p.id LIMIT 200`).All(&posts)
	if err != nil {
		return nil, err
	}
	for _, p := range posts {
		f.Posts = append(f.Posts, p.ID)
	}
	var courses []struct {
		ID string `db:"id"`
	}
	err = app.DB().NewQuery(`SELECT id FROM courses WHERE status = 'published' ORDER BY id LIMIT {:n}`).
		Bind(dbx.Params{"n": sz.BenchCourses}).All(&courses)
	if err != nil {
		return nil, err
	}
	for _, c := range courses {
		f.Courses = append(f.Courses, c.ID)
	}
	if len(f.Posts) < 10 || len(f.Courses) == 0 {
		return nil, fmt.Errorf("the data set has too few published posts (%d) or courses (%d)", len(f.Posts), len(f.Courses))
	}

	users, err := app.FindCollectionByNameOrId("users")
	if err != nil {
		return nil, err
	}
	enrollments, err := app.FindCollectionByNameOrId("enrollments")
	if err != nil {
		return nil, err
	}
	err = app.RunInTransaction(func(tx core.App) error {
		var hash string
		for i := range sz.BenchUsers {
			u := core.NewRecord(users)
			u.Set("email", fmt.Sprintf("bench%03d@bench.test", i))
			u.Set("name", fmt.Sprintf("Bench %d", i))
			u.Set("role", "student")
			u.Set("verified", true)
			if hash == "" {
				u.SetPassword(benchPassword)
				hash = u.GetString(core.FieldNamePassword + ":hash")
			} else {
				u.SetRaw(core.FieldNamePassword, &core.PasswordFieldValue{Hash: hash})
			}
			if err := tx.Save(u); err != nil {
				return fmt.Errorf("bench user %d: %w", i, err)
			}
			tok, err := u.NewAuthToken()
			if err != nil {
				return err
			}
			f.Users = append(f.Users, benchUser{ID: u.Id, Email: u.Email(), Token: tok})
			for _, cid := range f.Courses {
				e := core.NewRecord(enrollments)
				e.Set("course", cid)
				e.Set("user", u.Id)
				e.Set("status", "active")
				if err := tx.Save(e); err != nil {
					return fmt.Errorf("enroll bench user %d: %w", i, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	su, err := app.FindCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		return nil, err
	}
	admin := core.NewRecord(su)
	admin.SetEmail("bench-superuser@bench.test")
	admin.SetPassword(benchPassword)
	if err := app.Save(admin); err != nil {
		return nil, fmt.Errorf("bench superuser: %w", err)
	}
	if f.Superuser, err = admin.NewAuthToken(); err != nil {
		return nil, err
	}

	// every (user, course) pair once, consecutive ones on different users
	// and courses
	for ui := range sz.BenchUsers {
		for ci := range f.Courses {
			f.Pairs = append(f.Pairs, [2]int{(ui + ci) % sz.BenchUsers, ci})
		}
	}

	// checkpoint the WAL so the pristine copy is one self-contained file set
	if _, err := app.DB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Execute(); err != nil {
		return nil, err
	}
	return f, nil
}

// captured is what the ceiling serves for one URL: the body a client that
// takes no compression gets, and the one a client sending acceptEncoding
// gets when the server compresses it (nil when it does not).
type captured struct {
	Body []byte `json:"body"`
	Gzip []byte `json:"gzip,omitempty"`
}

// capture fetches every read scenario's URL from a running Lectern, with and
// without acceptEncoding, and returns the bytes, which the ceiling then
// serves: the same bytes the load client gets from Lectern. The gzip fetch
// is repeated so the kept copy is a cache hit's.
func capture(ctx context.Context, s *server, urls []string) (map[string]captured, error) {
	client := newClient(4) // DisableCompression: no transparent decoding
	get := func(u, ae string) ([]byte, http.Header, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+u, nil)
		if err != nil {
			return nil, nil, err
		}
		if ae != "" {
			req.Header.Set("Accept-Encoding", ae)
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		if res.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("GET %s: %d %s", u, res.StatusCode, b)
		}
		return b, res.Header, nil
	}
	out := make(map[string]captured, len(urls))
	for _, u := range urls {
		var c captured
		var h http.Header
		var err error
		for range 2 {
			if c.Gzip, h, err = get(u, acceptEncoding); err != nil {
				return nil, err
			}
		}
		if c.Body, _, err = get(u, ""); err != nil {
			return nil, err
		}
		switch enc := h.Get("Content-Encoding"); enc {
		case "":
			c.Gzip = nil
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(c.Gzip))
			if err != nil {
				return nil, fmt.Errorf("GET %s: gzip: %w", u, err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(plain, c.Body) {
				return nil, fmt.Errorf("GET %s: the gzip body does not decode to the identity one (%v)", u, err)
			}
		default:
			return nil, fmt.Errorf("GET %s: Content-Encoding %q, the ceiling serves gzip only", u, enc)
		}
		out[u] = c
	}
	return out, nil
}
