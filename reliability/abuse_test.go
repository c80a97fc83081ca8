package reliability

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAbuseLimits runs the binary with Lectern's shipped rate limits (on) and
// `--origins https://good.example`, and checks: password guessing gets a 429
// after the configured 20 attempts a minute (users and superusers), comment
// floods after 20 a minute, review floods after 10, sign-up farming after 50
// an hour, password-reset and verification mails after 10 in 15 minutes; a
// person's pace (a page load burst, reading, commenting every few
// seconds) is never throttled; CORS answers only the configured origin;
// API responses carry the security headers; admin APIs refuse every
// non-superuser. Refused writes store nothing.
//
// LECTERN_ABUSE_HUMAN sets how long the person browses (default 20s).
func TestAbuseLimits(t *testing.T) {
	skipShort(t)
	human := envDuration(t, "LECTERN_ABUSE_HUMAN", 20*time.Second)
	s := newServer(t, serverOptions{args: []string{"--origins", "https://good.example"}})
	s.start()
	a := newAPI(s.url)
	defer a.close()
	su := superuserToken(t, a)
	w := &world{api: a, su: su, users: map[string]*user{}}

	// accounts made and signed in by the superuser (impersonation), so no
	// sign-in or sign-up spends the limits under test
	mk := func(name, role string) *user {
		u := &user{name: name, email: name + "@reliability.test", role: role}
		r := a.must(t, 200, "POST", "/api/collections/users/records", su, map[string]any{
			"email": u.email, "password": userPassword, "passwordConfirm": userPassword, "name": name, "role": role})
		var rec struct{ ID string }
		r.json(&rec)
		u.id = rec.ID
		r = a.must(t, 200, "POST", "/api/collections/users/impersonate/"+u.id, su, map[string]any{"duration": 3600})
		var auth struct{ Token string }
		r.json(&auth)
		u.token = auth.Token
		return u
	}
	student, author, instructor, admin := mk("abstudent", "student"), mk("abauthor", "author"), mk("abinstructor", "instructor"), mk("abadmin", "admin")
	post := w.create(t, "posts", author.token, map[string]any{"title": "Abuse target", "body": "<p>x</p>", "status": "published"})["id"].(string)
	course := w.create(t, "courses", instructor.token, map[string]any{"title": "Abuse course", "durationDays": 3, "status": "published"})["id"].(string)
	// a settings save reloads them and so resets every rate limit window
	reset := func() {
		a.must(t, 200, "PATCH", "/api/settings", su, map[string]any{"meta": map[string]any{"appName": "Lectern"}})
	}
	var rows []string
	row := func(check, want, got string, ok bool) {
		mark := "ok"
		if !ok {
			mark = "FAIL"
			t.Errorf("%s: want %s, got %s", check, want, got)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", check, want, got, mark))
	}

	// --- a person's pace first: never a 429
	reset()
	throttled, reqs := humanSession(t, a, student, post, course, human)
	row(fmt.Sprintf("a person browsing %s (page-load bursts, reads, a comment every 6 s)", human), "no 429",
		fmt.Sprintf("%d × 429 in %d requests", throttled, reqs), throttled == 0)

	// --- brute force
	for _, coll := range []string{"users", "_superusers"} {
		reset()
		identity := student.email
		if coll == "_superusers" {
			identity = superuserEmail
		}
		first, status := firstStatus(a, 25, func(i int) (reply, error) {
			return a.do("POST", "/api/collections/"+coll+"/auth-with-password", "", map[string]any{"identity": identity, "password": fmt.Sprintf("wrong-%d", i)})
		}, 429)
		row("password guessing on "+coll+" (*:auth 20/60 s)", "429 from attempt 21", attemptText(first, status), first == 21)
		r, _ := a.do("POST", "/api/collections/"+coll+"/auth-with-password", "", map[string]any{"identity": identity, "password": passwordOf(coll)})
		row("the right password once locked out ("+coll+")", "429", fmt.Sprint(r.Status), r.Status == 429)
	}

	// --- comment and review floods, sign-up farming
	reset()
	before := w.count(t, "comments")
	first, status := firstStatus(a, 25, func(i int) (reply, error) {
		return a.do("POST", "/api/collections/comments/records", student.token, map[string]any{"post": post, "body": fmt.Sprintf("flood %d", i)})
	}, 429)
	stored := w.count(t, "comments") - before
	row("comment flood (comments:create 20/60 s)", "429 from comment 21, 20 stored", fmt.Sprintf("%s, %d stored", attemptText(first, status), stored), first == 21 && stored == 20)

	reset()
	first, status = firstStatus(a, 15, func(i int) (reply, error) {
		return a.do("POST", "/api/collections/reviews/records", student.token, map[string]any{"course": course, "rating": 5})
	}, 429)
	row("review flood (reviews:create 10/60 s)", "429 from attempt 11", attemptText(first, status), first == 11)

	reset()
	before = w.count(t, "users")
	first, status = firstStatus(a, 55, func(i int) (reply, error) {
		return a.do("POST", "/api/collections/users/records", "", map[string]any{
			"email": fmt.Sprintf("farm%d@reliability.test", i), "password": userPassword, "passwordConfirm": userPassword, "name": "Farm"})
	}, 429)
	created := w.count(t, "users") - before
	row("sign-up farming (users:create 50/hour)", "429 from sign-up 51, 50 stored", fmt.Sprintf("%s, %d stored", attemptText(first, status), created), first == 51 && created == 50)

	reset()
	first, status = firstStatus(a, 12, func(i int) (reply, error) {
		return a.do("POST", "/api/collections/users/request-password-reset", "", map[string]any{"email": fmt.Sprintf("someone%d@reliability.test", i)})
	}, 429)
	row("password-reset mails to 12 addresses in a burst (*:requestPasswordReset 10/15 min)", "429 from request 11", attemptText(first, status), first == 11)

	reset()
	first, status = firstStatus(a, 12, func(i int) (reply, error) {
		return a.do("POST", "/api/collections/users/request-verification", "", map[string]any{"email": fmt.Sprintf("someone%d@reliability.test", i)})
	}, 429)
	row("verification mails to 12 addresses in a burst (*:requestVerification 10/15 min)", "429 from request 11", attemptText(first, status), first == 11)

	// --- CORS
	for _, c := range []struct{ origin, want string }{
		{"https://good.example", "https://good.example"},
		{"https://evil.example", ""},
		{"null", ""},
		{"https://good.example.evil.example", ""},
		{"http://good.example", ""},
	} {
		for _, method := range []string{"GET", "OPTIONS"} {
			req, _ := http.NewRequest(method, s.url+"/api/collections/posts/records", nil)
			req.Header.Set("Origin", c.origin)
			if method == "OPTIONS" {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			}
			res, err := a.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := res.Header.Get("Access-Control-Allow-Origin")
			want := c.want
			if want == "" {
				want = "(none)"
			}
			shown := got
			if shown == "" {
				shown = "(none)"
			}
			row(fmt.Sprintf("CORS %s from Origin: %s", method, c.origin), "Access-Control-Allow-Origin "+want, shown, got == c.want)
		}
	}

	// --- security headers on API responses
	file := createWithFile(t, a, "posts", author.token, map[string]string{"title": "Headers cover", "status": "published"}, "cover", "c.png", testPNG(t))
	missingSeen := map[string][]string{}
	for _, p := range []string{"/api/health", "/api/collections/posts/records", "/api/collections/posts/records/nope", "/api/search?q=abuse",
		fmt.Sprintf("/api/files/posts/%s/%s", file["id"], file["cover"]), "/", "/feed.xml"} {
		r, err := a.do("GET", p, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
			if r.Header.Get(h) == "" {
				missingSeen[h] = append(missingSeen[h], fmt.Sprintf("%s (%d)", p, r.Status))
			}
		}
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		miss := missingSeen[h]
		got := "on every response checked (API, errors, search, files, site, feed)"
		if len(miss) > 0 {
			got = "missing on " + strings.Join(miss, ", ")
		}
		switch {
		case h == "X-Frame-Options" && len(miss) == 1 && strings.HasPrefix(miss[0], "/api/files/"):
			// PocketBase drops it on files on purpose, so images can be embedded
			row("header "+h, "present (files excepted, by PocketBase)", got, true)
		default:
			row("header "+h, "present", got, len(miss) == 0)
		}
	}

	// --- admin APIs refuse every non-superuser
	admins := []struct{ method, path string }{
		{"GET", "/api/settings"}, {"PATCH", "/api/settings"}, {"POST", "/api/settings/test/s3"},
		{"GET", "/api/backups"}, {"POST", "/api/backups"}, {"POST", "/api/backups/upload"}, {"DELETE", "/api/backups/x.zip"}, {"POST", "/api/backups/x.zip/restore"},
		{"GET", "/api/collections"}, {"POST", "/api/collections"}, {"GET", "/api/collections/posts"}, {"PATCH", "/api/collections/posts"},
		{"DELETE", "/api/collections/posts"}, {"DELETE", "/api/collections/posts/truncate"}, {"PUT", "/api/collections/import"},
		{"GET", "/api/logs"}, {"GET", "/api/logs/stats"}, {"GET", "/api/crons"}, {"POST", "/api/sql"},
		{"POST", "/api/collections/users/impersonate/" + student.id},
	}
	refused, total := 0, 0
	var leaked []string
	for _, who := range []*user{nil, student, author, admin} {
		tok, name, want := "", "guest", 401
		if who != nil {
			tok, name, want = who.token, who.role, 403
		}
		for _, ep := range admins {
			total++
			r, err := a.do(ep.method, ep.path, tok, "{}")
			if err == nil && r.Status == want {
				refused++
			} else {
				leaked = append(leaked, fmt.Sprintf("%s %s as %s → %s", ep.method, ep.path, name, r))
			}
		}
	}
	row(fmt.Sprintf("admin APIs (%d endpoints) as guest / student / author / admin user", len(admins)), "401 guest, 403 others",
		fmt.Sprintf("%d of %d refused so", refused, total), refused == total)
	for _, l := range leaked {
		t.Error("admin API not refused: " + l)
	}

	report(t, "abuse", "| check | want | got | |", strings.Join(rows, "\n"))
	if n := s.out.count("panic"); n > 0 {
		t.Errorf("server output mentions panic %d times", n)
	}
}

func passwordOf(coll string) string {
	if coll == "_superusers" {
		return superuserPassword
	}
	return userPassword
}

// firstStatus sends up to n requests and returns the 1-based number of the
// first answered with want (0 if none) and the statuses seen before it.
func firstStatus(a *api, n int, send func(i int) (reply, error), want int) (int, int) {
	last := 0
	for i := 1; i <= n; i++ {
		r, err := send(i)
		if err != nil {
			return 0, -1
		}
		if r.Status == want {
			return i, last
		}
		last = r.Status
	}
	return 0, last
}

func attemptText(first, before int) string {
	if first == 0 {
		return "never (all answered " + fmt.Sprint(before) + ")"
	}
	return fmt.Sprintf("429 from attempt %d", first)
}

// humanSession is a person on the site for d: page loads (a burst of parallel
// reads), reading lists and records, a comment every ~6 s, a profile edit.
// It returns the 429s and the requests made.
func humanSession(t *testing.T, a *api, u *user, post, course string, d time.Duration) (int, int) {
	t.Helper()
	var mu sync.Mutex
	throttled, reqs := 0, 0
	do := func(method, path, tok string, body any) {
		r, err := a.do(method, path, tok, body)
		mu.Lock()
		defer mu.Unlock()
		reqs++
		if err == nil && r.Status == 429 {
			throttled++
		}
	}
	pageLoad := []string{
		"/api/collections/posts/records?sort=-publishedAt&expand=author&perPage=20",
		"/api/collections/courses/records?perPage=12&sort=-ratingAvg",
		"/api/collections/topics/records",
		"/api/collections/posts/records/" + post,
		"/api/collections/comments/records?filter=" + url.QueryEscape(`post="`+post+`"`),
		"/api/collections/courses/records/" + course,
		"/api/collections/reviews/records?filter=" + url.QueryEscape(`course="`+course+`"`),
		"/api/collections/lessons/records?filter=" + url.QueryEscape(`course="`+course+`"`),
		"/api/search?q=abuse",
		"/api/collections/users/records/" + u.id,
	}
	start := time.Now()
	lastComment := time.Time{}
	for i := 0; time.Since(start) < d && i < 10000; i++ {
		// a page load: every read at once, as a browser does
		var wg sync.WaitGroup
		for _, p := range pageLoad {
			wg.Go(func() { do("GET", p, u.token, nil) })
		}
		wg.Wait()
		if time.Since(lastComment) >= 6*time.Second {
			do("POST", "/api/collections/comments/records", u.token, map[string]any{"post": post, "body": fmt.Sprintf("A reader's thought %d", i)})
			lastComment = time.Now()
		}
		if i%5 == 0 {
			do("PATCH", "/api/collections/users/records/"+u.id, u.token, map[string]any{"bio": fmt.Sprintf("bio %d", i)})
		}
		time.Sleep(time.Second) // reading
	}
	return throttled, reqs
}
