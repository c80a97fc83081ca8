package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// The planner generates the data set from the options alone, record by
// record, and hands each record to a sink as soon as it is made: the sink
// writes them in batches, so only a batch of records is ever held, plus the
// few fields of earlier records that later ones refer to (ids, roles, dates;
// under 100 bytes a record). The same options always give the same records in
// the same order (dates are relative to the day the seed runs).

// item is one record to save.
type item struct {
	collection string
	id         string
	created    time.Time
	data       map[string]any
}

// sink receives the planned records in order: stage announces how many of
// one collection follow, put hands over one of them. Once failed reports
// true the planner stops early.
type sink interface {
	stage(collection string, n int)
	put(it item)
	failed() bool
}

type plan struct {
	sink      sink
	notes     []string
	breakdown map[string]map[string]int
}

func (p *plan) count(collection, key string) {
	if p.breakdown[collection] == nil {
		p.breakdown[collection] = map[string]int{}
	}
	p.breakdown[collection][key]++
}

func (p *plan) add(collection string, it item) {
	it.collection = collection
	p.sink.put(it)
}

// Demo logins: one known account per role.
var demoRoles = []string{"student", "author", "instructor", "admin"}

// DemoEmail is the login of the demo account with the given role.
func DemoEmail(role string) string { return role + "@lectern.dev" }

const day = 24 * time.Hour

type planUser struct {
	id, first, role string
	created         time.Time
}

type planPost struct {
	id          string
	topic       int
	publishedAt time.Time
	comments    []int // indexes into planner.comments
}

type planComment struct {
	id      string
	depth   int
	author  int
	created time.Time
}

type planCourse struct {
	id          string
	topic       int
	publishedAt time.Time
	lessons     []string
	quality     float64
}

type planEnrollment struct {
	course, user int
	reviewable   bool // active or completed
	created      time.Time
}

type planner struct {
	opts Options
	base time.Time // today, 00:00 UTC: all dates are relative to it
	plan *plan

	users       []planUser
	byRole      map[string][]int
	topicIDs    []string
	posts       []planPost // published posts only: what comments need
	comments    []planComment
	courses     []planCourse // published courses only: what enrollments need
	lessons     int          // of every course
	enrollments []planEnrollment
}

// generate plans every record for opts, relative to the UTC day of now, and
// hands each to out as it is made.
func generate(opts Options, now time.Time, out sink) *plan {
	pl := &planner{
		opts:   opts,
		base:   now.UTC().Truncate(day),
		plan:   &plan{sink: out, breakdown: map[string]map[string]int{}},
		byRole: map[string][]int{},
	}
	for _, step := range []func(){pl.planUsers, pl.planTopics, pl.planPosts,
		func() { pl.planCourses(false) }, func() { pl.planCourses(true) }, // courses, then their lessons
		pl.planComments, pl.planEnrollments, pl.planReviews} {
		if out.failed() {
			break
		}
		step()
	}
	return pl.plan
}

// rng returns the random stream of one stage. Each stage has its own, so that
// changing --comments does not reshuffle the courses.
func (pl *planner) rng(stage uint64) *rand.Rand {
	return rand.New(rand.NewPCG(pl.opts.Seed, stage*0x9E3779B97F4A7C15+0x632BE59BD9B4E019))
}

// id draws a PocketBase-shaped record id (15 chars of [a-z0-9]) from r.
// Ids are not checked for repeats (a set of every id would be the biggest
// thing the seed holds): two of 36^15 ids collide with odds of about 1e-12
// at seed's largest sizes, and a collision would stop the seed with the
// primary key's error rather than write a wrong data set.
func (pl *planner) id(r *rand.Rand) string {
	alphabet := core.DefaultIdAlphabet
	b := make([]byte, core.DefaultIdLength)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// between returns a second-precision time in [a, b], skewed towards a for skew > 1.
func between(r *rand.Rand, a, b time.Time, skew float64) time.Time {
	if !b.After(a) {
		return a
	}
	u := math.Pow(r.Float64(), skew)
	return a.Add(time.Duration(u * float64(b.Sub(a)))).Truncate(time.Second)
}

// skewed picks an index in [0, n) favouring the front: index 0 is the most
// prolific author, the most popular course, and so on.
func skewed(r *rand.Rand, n int, exp float64) int {
	return min(n-1, int(float64(n)*math.Pow(r.Float64(), exp)))
}

// weighted picks indexes by weight.
type weighted []float64 // cumulative

func newWeighted(w []float64) weighted {
	cum := make(weighted, len(w))
	sum := 0.0
	for i, v := range w {
		sum += v
		cum[i] = sum
	}
	return cum
}

func (c weighted) pick(r *rand.Rand) int {
	return min(len(c)-1, sort.SearchFloat64s(c, r.Float64()*c[len(c)-1]))
}

// popularity gives n things Zipf-like weights in a random order: a few are
// very popular, most are not.
func popularity(r *rand.Rand, n int, s float64) []float64 {
	w := make([]float64, n)
	for i, rank := range r.Perm(n) {
		w[i] = 1 / math.Pow(float64(rank+1), s)
	}
	return w
}

// ---

func (pl *planner) planUsers() {
	r := pl.rng(1)
	n := pl.opts.Users
	admins := max(1, n*2/100)
	instructors := max(1, n*8/100)
	authors := max(1, n*12/100)
	counts := map[string]int{"admin": admins, "instructor": instructors, "author": authors,
		"student": n - admins - instructors - authors}

	add := func(role, first, last, email string, created time.Time) {
		u := planUser{id: pl.id(r), first: first, role: role, created: created}
		pl.byRole[role] = append(pl.byRole[role], len(pl.users))
		pl.users = append(pl.users, u)
		data := map[string]any{"email": email, "name": strings.TrimSpace(first + " " + last),
			"role": role, "verified": true}
		if r.IntN(10) < 6 {
			t := &topicSpecs[r.IntN(len(topicSpecs))]
			data["bio"] = writer{r: r, topic: t}.fill(bioTemplates[r.IntN(len(bioTemplates))], map[string]string{"t": t.name})
		}
		if last != "" && r.IntN(4) == 0 {
			data["website"] = "https://" + slugish(first+last) + ".dev"
		}
		pl.plan.add("users", item{id: u.id, created: created, data: data})
		pl.plan.count("users", role)
	}

	pl.plan.sink.stage("users", n)
	// The demo logins come first, so they are the first of their role (and the
	// most active: see skewed) and keep their ids when --users changes.
	for _, role := range demoRoles {
		add(role, "Demo", strings.ToUpper(role[:1])+role[1:], DemoEmail(role), pl.base.Add(-1100*day))
	}
	for _, role := range []string{"admin", "instructor", "author", "student"} {
		for range counts[role] - 1 {
			if pl.plan.sink.failed() {
				return
			}
			first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
			email := fmt.Sprintf("%s.%s.%d@example.com", slugish(first), slugish(last), len(pl.users)+1)
			// Staff accounts predate every planned post and course (≤ 754 days old).
			created := between(r, pl.base.Add(-1000*day), pl.base.Add(-760*day), 1)
			if role == "student" {
				created = between(r, pl.base.Add(-1000*day), pl.base.Add(-2*day), 0.7)
			}
			add(role, first, last, email, created)
		}
	}
}

func (pl *planner) planTopics() {
	r := pl.rng(2)
	pl.plan.sink.stage("topics", len(topicSpecs))
	for i, t := range topicSpecs {
		id := pl.id(r)
		pl.topicIDs = append(pl.topicIDs, id)
		pl.plan.add("topics", item{id: id, created: pl.base.Add(-1100*day + time.Duration(i)*time.Hour),
			data: map[string]any{"name": t.name, "description": t.description}})
	}
}

// topicsFor returns the ids of a primary topic plus up to two others.
func (pl *planner) topicsFor(r *rand.Rand, primary int) []string {
	ids := []string{pl.topicIDs[primary]}
	for _, chance := range []int{5, 2} { // 50% a second topic, 20% a third
		if r.IntN(10) >= chance {
			continue
		}
		if id := pl.topicIDs[r.IntN(len(pl.topicIDs))]; !containsStr(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// uniqueTitle makes a series out of repeated titles ("… (part 2)") so that
// ten thousand generated posts still read like distinct articles. format
// takes the title and the repeat number.
func uniqueTitle(used map[string]int, title, format string) string {
	used[title]++
	if n := used[title]; n > 1 {
		return fmt.Sprintf(format, title, n)
	}
	return title
}

func (pl *planner) planPosts() {
	r := pl.rng(3)
	used := map[string]int{}
	// Writers: mostly authors, some instructors, the odd admin.
	topicWeights := newWeighted(popularity(r, len(topicSpecs), 0.6))
	pl.plan.sink.stage("posts", pl.opts.Posts)
	for i := range pl.opts.Posts {
		if pl.plan.sink.failed() {
			return
		}
		var author int
		switch k := r.IntN(100); {
		case i == 0:
			author = pl.byRole["author"][0] // the demo author always has a draft
		case k < 80:
			author = pl.byRole["author"][skewed(r, len(pl.byRole["author"]), 2)]
		case k < 95:
			author = pl.byRole["instructor"][skewed(r, len(pl.byRole["instructor"]), 2)]
		default:
			author = pl.byRole["admin"][r.IntN(len(pl.byRole["admin"]))]
		}

		status := "published"
		switch k := r.IntN(100); {
		case i == 0:
			status = "draft"
		case k < 8:
			status = "draft"
		case k < 12:
			status = "scheduled"
		case k < 18:
			status = "archived"
		}

		topic := topicWeights.pick(r)
		w := writer{r: r, topic: &topicSpecs[topic]}
		vars := w.vars()
		title := uniqueTitle(used, upperFirst(w.fill(titleTemplates[r.IntN(len(titleTemplates))], vars)), "%s (part %d)")

		data := map[string]any{
			"title":  title,
			"body":   w.postBody(vars),
			"author": pl.users[author].id,
			"topics": pl.topicsFor(r, topic),
			"status": status,
		}
		var created, publishedAt time.Time
		switch status {
		case "published":
			publishedAt = between(r, pl.base.Add(-730*day), pl.base, 0.6)
			created = publishedAt.Add(-time.Duration(r.IntN(14*24*3600)) * time.Second)
		case "archived":
			publishedAt = between(r, pl.base.Add(-740*day), pl.base.Add(-365*day), 1)
			created = publishedAt.Add(-time.Duration(r.IntN(14*24*3600)) * time.Second)
		case "scheduled":
			publishedAt = between(r, pl.base.Add(day), pl.base.Add(45*day), 1)
			created = between(r, pl.base.Add(-20*day), pl.base, 1)
		default:
			created = between(r, pl.base.Add(-90*day), pl.base, 1)
		}
		if !publishedAt.IsZero() {
			data["publishedAt"] = publishedAt
		}
		id := pl.id(r)
		if status == "published" {
			pl.posts = append(pl.posts, planPost{id: id, topic: topic, publishedAt: publishedAt})
		}
		pl.plan.add("posts", item{id: id, created: created, data: data})
		pl.plan.count("posts", status)
	}
}

// planCourses makes the courses and their lessons from one random stream, in
// two passes over it so that neither pass holds the other's records: the
// first writes the courses (lessons are saved after every course, as a
// lesson needs its course) and counts the lessons, the second draws the same
// stream again and writes only the lessons.
func (pl *planner) planCourses(lessonsPass bool) {
	r := pl.rng(4)
	used := map[string]int{}
	durations := []int{7, 10, 14, 21, 30, 45, 60, 90}
	prices := []float64{0, 29, 49, 79, 99.5, 149, 199, 249.99, 399, 599}
	levels := []string{"beginner", "intermediate", "advanced"}
	order := r.Perm(len(topicSpecs))
	if lessonsPass {
		pl.plan.sink.stage("lessons", pl.lessons)
	} else {
		pl.plan.sink.stage("courses", pl.opts.Courses)
	}
	for i := range pl.opts.Courses {
		if pl.plan.sink.failed() {
			return
		}
		instructor := pl.byRole["instructor"][skewed(r, len(pl.byRole["instructor"]), 1.5)]
		status := "published"
		switch k := r.IntN(100); {
		case i == 0: // the demo instructor has a published course and a draft
			instructor = pl.byRole["instructor"][0]
		case i == 1:
			instructor, status = pl.byRole["instructor"][0], "draft"
		case k < 8:
			status = "draft"
		case k < 14:
			status = "scheduled"
		case k < 20:
			status = "archived"
		}

		topic := order[i%len(order)]
		spec := &topicSpecs[topic]
		w := writer{r: r, topic: spec}
		vars := w.vars()
		title := uniqueTitle(used, spec.courses[(i/len(order))%len(spec.courses)], "%s, cohort %d")
		days := durations[r.IntN(len(durations))]
		mode := []string{"online", "online", "online", "hybrid", "hybrid", "onsite"}[r.IntN(6)]
		currency := "USD"
		if k := r.IntN(20); k < 2 {
			currency = "EUR"
		} else if k < 3 {
			currency = "GBP"
		}

		data := map[string]any{
			"title":        title,
			"summary":      upperFirst(w.fill(courseLearnTemplates[r.IntN(len(courseLearnTemplates))], vars)),
			"description":  w.courseDescription(vars, days, mode),
			"instructor":   pl.users[instructor].id,
			"topics":       pl.topicsFor(r, topic),
			"durationDays": days,
			"mode":         mode,
			"level":        levels[r.IntN(len(levels))],
			"price":        prices[r.IntN(len(prices))],
			"currency":     currency,
			"status":       status,
		}
		var created, publishedAt time.Time
		switch status {
		case "published":
			publishedAt = between(r, pl.base.Add(-700*day), pl.base.Add(-30*day), 1)
			created = publishedAt.Add(-time.Duration(1+r.IntN(30)) * day)
		case "archived":
			publishedAt = between(r, pl.base.Add(-720*day), pl.base.Add(-400*day), 1)
			created = publishedAt.Add(-time.Duration(1+r.IntN(30)) * day)
		case "scheduled":
			publishedAt = between(r, pl.base.Add(7*day), pl.base.Add(60*day), 1)
			created = between(r, pl.base.Add(-30*day), pl.base, 1)
		default:
			created = between(r, pl.base.Add(-60*day), pl.base, 1)
		}
		if !publishedAt.IsZero() {
			data["publishedAt"] = publishedAt
		}
		id := pl.id(r)
		if !lessonsPass {
			pl.plan.add("courses", item{id: id, created: created, data: data})
			pl.plan.count("courses", status)
		}

		// Lessons: 3–12, positions 1..n, the first one or two free previews.
		n := 3 + r.IntN(10)
		free := 1 + r.IntN(2)
		// Most courses are good; one in ten is mediocre.
		quality := 4.1 + 0.9*r.Float64()
		if r.IntN(10) == 0 {
			quality = 2.8 + r.Float64()
		}
		course := planCourse{id: id, topic: topic, publishedAt: publishedAt, quality: quality}
		for pos := 1; pos <= n; pos++ {
			lv := w.vars()
			lt := upperFirst(w.fill(lessonTemplates[r.IntN(len(lessonTemplates))], lv))
			switch pos {
			case 1:
				lt = "Welcome and course overview"
			case n:
				lt = "Final project and next steps"
			}
			lid := pl.id(r)
			course.lessons = append(course.lessons, lid)
			// drawn in both passes, to keep the stream the same
			lesson := item{id: lid, created: created.Add(time.Duration(pos) * time.Hour), data: map[string]any{
				"course":          id,
				"title":           lt,
				"position":        pos,
				"body":            w.lessonBody(lv),
				"videoUrl":        fmt.Sprintf("https://videos.lectern.dev/%s/%02d", id, pos),
				"durationMinutes": 5 + r.IntN(56),
				"freePreview":     pos <= free,
			}}
			if lessonsPass {
				pl.plan.add("lessons", lesson)
			}
		}
		if !lessonsPass {
			pl.lessons += n
			if status == "published" {
				pl.courses = append(pl.courses, course)
			}
		}
	}
}

// userAt picks a user of the pool who had signed up by t (a few tries, then anyone).
func (pl *planner) userAt(r *rand.Rand, pool []int, t time.Time) int {
	u := pool[r.IntN(len(pool))]
	for try := 0; try < 4 && pl.users[u].created.After(t); try++ {
		u = pool[r.IntN(len(pool))]
	}
	return u
}

func (pl *planner) planComments() {
	r := pl.rng(5)
	if pl.opts.Comments > 0 && len(pl.posts) == 0 {
		pl.plan.notes = append(pl.plan.notes, "no comments: there is no published post to comment on")
	}
	if len(pl.posts) == 0 {
		pl.plan.sink.stage("comments", 0)
		return
	}
	pl.plan.sink.stage("comments", pl.opts.Comments)
	students := pl.byRole["student"]
	everyone := make([]int, len(pl.users))
	for i := range everyone {
		everyone[i] = i
	}
	posts := newWeighted(popularity(r, len(pl.posts), 0.8))
	for range pl.opts.Comments {
		if pl.plan.sink.failed() {
			return
		}
		pi := posts.pick(r)
		post := &pl.posts[pi]
		w := writer{r: r, topic: &topicSpecs[post.topic]}

		// 45% of comments answer another one, at most MaxCommentDepth deep.
		parent := -1
		if len(post.comments) > 0 && r.IntN(100) < 45 {
			for range 4 {
				c := post.comments[r.IntN(len(post.comments))]
				if pl.comments[c].depth < 3 {
					parent = c
					break
				}
			}
		}
		c := planComment{}
		if parent >= 0 {
			c.depth = pl.comments[parent].depth + 1
			c.created = between(r, pl.comments[parent].created, pl.base, 4)
		} else {
			c.created = between(r, post.publishedAt, pl.base, 2.5)
		}
		pool := students
		if r.IntN(100) < 15 {
			pool = everyone
		}
		c.author = pl.userAt(r, pool, c.created)

		status := "visible"
		switch k := r.IntN(100); {
		case k < 3:
			status = "hidden"
		case k < 5:
			status = "flagged"
		}
		parentName := ""
		if parent >= 0 {
			parentName = pl.users[pl.comments[parent].author].first
		}
		data := map[string]any{
			"post":   post.id,
			"author": pl.users[c.author].id,
			"body":   w.comment(parent >= 0, parentName),
			"status": status,
		}
		c.id = pl.id(r)
		if parent >= 0 {
			data["parent"] = pl.comments[parent].id
		}
		post.comments = append(post.comments, len(pl.comments))
		pl.comments = append(pl.comments, c)
		pl.plan.add("comments", item{id: c.id, created: c.created, data: data})
		pl.plan.count("comments", status)
	}
}

func (pl *planner) planEnrollments() {
	r := pl.rng(6)
	want := pl.opts.Enrollments
	if want == 0 {
		pl.plan.sink.stage("enrollments", 0)
		return
	}
	// Students and authors take courses; instructors and admins don't.
	learners := append(append([]int{}, pl.byRole["student"]...), pl.byRole["author"]...)
	capacity := len(pl.courses) * len(learners)
	if want > capacity {
		pl.plan.notes = append(pl.plan.notes, fmt.Sprintf(
			"enrollments capped at %d (%d published courses × %d students and authors; one per course and user)",
			capacity, len(pl.courses), len(learners)))
		want = capacity
	}
	pl.plan.sink.stage("enrollments", want)
	if want == 0 {
		return
	}

	taken := map[[2]int]bool{}
	add := func(course, user int, done int) {
		c := &pl.courses[course]
		taken[[2]int{course, user}] = true
		created := between(r, maxTime(c.publishedAt, pl.users[user].created), pl.base, 1.3)
		status := "active"
		key := "active"
		switch {
		case done < 0:
			status, key = "cancelled", "cancelled"
			done = r.IntN(len(c.lessons))
		case done >= len(c.lessons):
			key = "completed" // the hooks complete an active enrollment at 100%
		}
		pl.enrollments = append(pl.enrollments, planEnrollment{course: course, user: user,
			reviewable: status != "cancelled", created: created})
		pl.plan.add("enrollments", item{id: pl.id(r), created: created, data: map[string]any{
			"course":           c.id,
			"user":             pl.users[user].id,
			"status":           status,
			"completedLessons": append([]string{}, c.lessons[:min(done, len(c.lessons))]...),
		}})
		pl.plan.count("enrollments", key)
	}

	// The demo student: a finished course, one halfway and one just started.
	demo := pl.byRole["student"][0]
	for i := 0; i < min(3, len(pl.courses), want); i++ {
		n := len(pl.courses[i].lessons)
		add(i, demo, []int{n, n / 2, 1}[i])
	}

	courses := newWeighted(popularity(r, len(pl.courses), 0.8))
	misses := 0
	for len(pl.enrollments) < want && !pl.plan.sink.failed() {
		course, user := courses.pick(r), learners[r.IntN(len(learners))]
		if taken[[2]int{course, user}] {
			if misses++; misses > 200 {
				// Nearly full: take the free pairs in order rather than guessing.
				for c := range pl.courses {
					for _, u := range learners {
						if len(pl.enrollments) < want && !taken[[2]int{c, u}] {
							add(c, u, r.IntN(len(pl.courses[c].lessons)))
						}
					}
				}
			}
			continue
		}
		misses = 0
		n := len(pl.courses[course].lessons)
		done := r.IntN(n) // in progress
		switch k := r.IntN(100); {
		case k < 10:
			done = -1 // cancelled
		case k < 35:
			done = n
		}
		add(course, user, done)
	}
}

func (pl *planner) planReviews() {
	r := pl.rng(7)
	var eligible []int
	for i, e := range pl.enrollments {
		if e.reviewable {
			eligible = append(eligible, i)
		}
	}
	want := pl.opts.Reviews
	if want > len(eligible) {
		pl.plan.notes = append(pl.plan.notes, fmt.Sprintf(
			"reviews capped at %d: only users with an active or completed enrollment may review, once per course (raise --enrollments)",
			len(eligible)))
		want = len(eligible)
	}
	pl.plan.sink.stage("reviews", want)
	// The demo student's finished course comes first; the rest in random order,
	// so popular courses collect the most reviews.
	rest := eligible
	if len(eligible) > 0 && pl.enrollments[eligible[0]].user == pl.byRole["student"][0] {
		rest = eligible[1:]
	}
	r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	for _, ei := range eligible[:want] {
		if pl.plan.sink.failed() {
			return
		}
		e := pl.enrollments[ei]
		c := &pl.courses[e.course]
		rating := int(math.Round(c.quality + r.NormFloat64()*0.6))
		rating = max(1, min(5, rating))
		w := writer{r: r, topic: &topicSpecs[c.topic]}
		body := ""
		if r.IntN(100) < 85 {
			body = w.fill(reviewTemplates[rating][r.IntN(len(reviewTemplates[rating]))], w.vars())
		}
		created := between(r, e.created, pl.base, 1.5)
		pl.plan.add("reviews", item{id: pl.id(r), created: created, data: map[string]any{
			"course": c.id,
			"user":   pl.users[e.user].id,
			"rating": rating,
			"body":   body,
		}})
		pl.plan.count("reviews", fmt.Sprintf("%d stars", rating))
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
