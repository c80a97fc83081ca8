package reliability

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRealtimeNoLeaks subscribes one realtime client per role (guest,
// students, authors, instructors, an admin) to every collection, then runs
// random mutations one at a time — creates, updates, deletes, status flips,
// cascades — and writes that are rolled back (a batch whose last request
// fails, a duplicate id, a duplicate lesson position). After each step a
// fence (a public topic update every client must receive) marks the end of
// its events. Checks: no client receives an event for a record it may not
// view — decided by asking the REST API as that identity (list rule, the rule
// PocketBase applies to collection subscriptions) right after the step, or
// right before it for deletes and for an update's delete (which also needs the
// record out of view after it) — and no event at all comes from a rolled-back
// write. It also counts creates a client could view but did not receive, and
// records a client could list before an update and not after it (the updated
// record, or one whose rule reads it) without getting their delete event.
//
// LECTERN_REALTIME_STEPS (default 120) and LECTERN_REALTIME_SEED size it.
func TestRealtimeNoLeaks(t *testing.T) {
	skipShort(t)
	steps := envInt(t, "LECTERN_REALTIME_STEPS", 120)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LECTERN_REALTIME_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (LECTERN_REALTIME_SEED)", seed)

	s := newServer(t, serverOptions{})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	w.api.must(t, 200, "PATCH", "/api/settings", w.su, map[string]any{"batch": map[string]any{"enabled": true, "maxRequests": 20, "timeout": 5}})
	rt := newRealtimeRun(t, w, rand.New(rand.NewPCG(seed, 9)))
	defer rt.closeAll()

	began := time.Now()
	for i := 0; i < steps; i++ {
		rt.step(i)
	}
	report(t, "realtime", "| steps (rolled back) | clients | events checked | leaks: not viewable | leaks: rolled back | missed creates / deletes | time |",
		fmt.Sprintf("| %d (%d) | %d | %d | %d | %d | %d | %s |", steps, rt.rollbacks, len(rt.clients), rt.checked, len(rt.leaks), len(rt.rollbackLeaks),
			rt.missed, time.Since(began).Round(time.Second)))
	t.Logf("steps by action: %v", rt.actions)
	for _, l := range rt.leaks {
		t.Error("leak: " + l)
	}
	for _, l := range rt.rollbackLeaks {
		t.Error("event from a rolled-back write: " + l)
	}
	for _, m := range rt.missedDetail {
		t.Error("missed: " + m)
	}
	if rt.checked == 0 {
		t.Error("no event was checked")
	}
}

var rtCollections = []string{"users", "topics", "posts", "comments", "courses", "lessons", "enrollments", "reviews"}

type realtimeRun struct {
	t       *testing.T
	w       *world
	rng     *rand.Rand
	ids     *idGen
	clients map[string]*sseClient // identity → client ("guest" included)
	users   map[string]*user
	fence   string // topic id
	fenceN  int

	// what exists, as the test made it
	posts    map[string]string // post id → author identity
	comments map[string]string // comment id → author identity
	courses  map[string]string // course id → instructor identity
	lessons  map[string]string // lesson id → course id
	enrolled map[string]string // enrollment id → student identity
	reviews  map[string]string // review id → student identity

	checked, rollbacks, missed int
	leaks, rollbackLeaks       []string
	missedDetail               []string
	actions                    map[string]int
}

var rtIdentities = []string{"guest", "student", "student2", "author", "author2", "instructor", "instructor2", "admin"}

func newRealtimeRun(t *testing.T, w *world, rng *rand.Rand) *realtimeRun {
	rt := &realtimeRun{t: t, w: w, rng: rng, ids: newIDGen("r"), clients: map[string]*sseClient{}, users: map[string]*user{},
		posts: map[string]string{}, comments: map[string]string{}, courses: map[string]string{}, lessons: map[string]string{},
		enrolled: map[string]string{}, reviews: map[string]string{}, actions: map[string]int{}}
	roles := map[string]string{"student": "student", "student2": "student", "author": "author", "author2": "author",
		"instructor": "instructor", "instructor2": "instructor", "admin": "admin"}
	for _, who := range rtIdentities[1:] {
		rt.users[who] = w.addUsers(t, roles[who], "rt"+who)[0]
	}
	rt.fence = w.create(t, "topics", w.su, map[string]any{"name": "Fence"})["id"].(string)
	// a little of everything to start from
	for _, a := range []string{"author", "author2"} {
		for _, st := range []string{"published", "published", "draft"} {
			rt.posts[rt.create("posts", a, map[string]any{"title": "Seed post of " + a, "body": "<p>x</p>", "status": st})] = a
		}
	}
	for _, in := range []string{"instructor", "instructor2"} {
		for _, st := range []string{"published", "draft"} {
			c := rt.create("courses", in, map[string]any{"title": "Seed course of " + in, "durationDays": 3, "status": st})
			rt.courses[c] = in
			for pos := 1; pos <= 2; pos++ {
				rt.lessons[rt.create("lessons", in, map[string]any{"course": c, "title": "L", "position": pos, "freePreview": pos == 1})] = c
			}
		}
	}
	for _, who := range rtIdentities {
		tok := ""
		if u := rt.users[who]; u != nil {
			tok = u.token
		}
		c, err := openSSE(w.api, who, tok, rtCollections)
		if err != nil {
			t.Fatalf("realtime client %s: %v", who, err)
		}
		rt.clients[who] = c
	}
	return rt
}

func (rt *realtimeRun) closeAll() {
	for _, c := range rt.clients {
		c.close()
	}
}

func (rt *realtimeRun) token(who string) string {
	if who == "su" {
		return rt.w.su
	}
	return rt.users[who].token
}

// create writes a record as who and returns its id ("" if refused).
func (rt *realtimeRun) create(collection, who string, data map[string]any) string {
	r, err := rt.w.api.do("POST", "/api/collections/"+collection+"/records", rt.token(who), data)
	if err != nil || r.Status != 200 {
		return ""
	}
	var rec struct{ ID string }
	r.json(&rec)
	return rec.ID
}

func pick[V any](rng *rand.Rand, m map[string]V, keep func(k string, v V) bool) (string, bool) {
	var keys []string
	for k, v := range m {
		if keep == nil || keep(k, v) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	slices.Sort(keys)
	return keys[rng.IntN(len(keys))], true
}

// rtWrite is one step's request.
type rtWrite struct {
	name, method, path, who string
	body                    any
	rollback                bool   // must change nothing and send no event
	deletes                 bool   // snapshot visibility before: delete events follow
	created                 string // collection of a create, for the missed-events count
	after                   func(id string)
}

func (rt *realtimeRun) plan() (rtWrite, bool) {
	r := rt.rng
	students := []string{"student", "student2"}
	st := students[r.IntN(2)]
	switch r.IntN(20) {
	case 0, 1: // a post, published or draft
		a := []string{"author", "author2"}[r.IntN(2)]
		status := []string{"published", "draft"}[r.IntN(2)]
		return rtWrite{name: "create post", method: "POST", path: "/api/collections/posts/records", who: a, created: "posts",
			body:  map[string]any{"title": "Step post", "body": "<p>words</p>", "status": status},
			after: func(id string) { rt.posts[id] = a }}, true
	case 2, 3: // a post's status flips
		id, ok := pick(r, rt.posts, nil)
		if !ok {
			return rtWrite{}, false
		}
		return rtWrite{name: "flip post status", method: "PATCH", path: "/api/collections/posts/records/" + id, who: rt.posts[id],
			body: map[string]any{"status": []string{"published", "draft", "archived"}[r.IntN(3)]}}, true
	case 4, 5, 6: // a comment (sometimes a reply)
		post, ok := pick(r, rt.posts, nil)
		if !ok {
			return rtWrite{}, false
		}
		body := map[string]any{"post": post, "body": "step comment"}
		if parent, ok := pick(r, rt.comments, nil); ok && r.IntN(3) == 0 {
			body["parent"] = parent // may be on another post: then a 400
		}
		return rtWrite{name: "create comment", method: "POST", path: "/api/collections/comments/records", who: st, body: body, created: "comments",
			after: func(id string) { rt.comments[id] = st }}, true
	case 7, 8: // moderation: hide or show a comment of the post author's post
		id, ok := pick(r, rt.comments, nil)
		if !ok {
			return rtWrite{}, false
		}
		mod := []string{"author", "author2", "admin"}[r.IntN(3)]
		return rtWrite{name: "moderate comment", method: "PATCH", path: "/api/collections/comments/records/" + id, who: mod,
			body: map[string]any{"status": []string{"visible", "hidden", "flagged"}[r.IntN(3)]}}, true
	case 9: // a comment is deleted (its replies go along)
		id, ok := pick(r, rt.comments, nil)
		if !ok {
			return rtWrite{}, false
		}
		return rtWrite{name: "delete comment", method: "DELETE", path: "/api/collections/comments/records/" + id, who: rt.comments[id], deletes: true,
			after: func(string) { delete(rt.comments, id) }}, true
	case 10: // a course's status flips (its lessons and reviews change visibility)
		id, ok := pick(r, rt.courses, nil)
		if !ok {
			return rtWrite{}, false
		}
		return rtWrite{name: "flip course status", method: "PATCH", path: "/api/collections/courses/records/" + id, who: rt.courses[id],
			body: map[string]any{"status": []string{"published", "draft"}[r.IntN(2)]}}, true
	case 11: // a lesson is added (every enrollment's progress is recomputed)
		c, ok := pick(r, rt.courses, nil)
		if !ok {
			return rtWrite{}, false
		}
		return rtWrite{name: "create lesson", method: "POST", path: "/api/collections/lessons/records", who: rt.courses[c], created: "lessons",
			body:  map[string]any{"course": c, "title": "Step lesson", "position": 10 + r.IntN(100000), "freePreview": r.IntN(2) == 0},
			after: func(id string) { rt.lessons[id] = c }}, true
	case 12: // a lesson is removed
		id, ok := pick(r, rt.lessons, nil)
		if !ok {
			return rtWrite{}, false
		}
		return rtWrite{name: "delete lesson", method: "DELETE", path: "/api/collections/lessons/records/" + id, who: rt.courses[rt.lessons[id]], deletes: true,
			after: func(string) { delete(rt.lessons, id) }}, true
	case 13: // an enrollment (400 when already enrolled or not published)
		c, ok := pick(r, rt.courses, nil)
		if !ok {
			return rtWrite{}, false
		}
		return rtWrite{name: "enroll", method: "POST", path: "/api/collections/enrollments/records", who: st, created: "enrollments",
			body: map[string]any{"course": c}, after: func(id string) { rt.enrolled[id] = st }}, true
	case 14: // cancel or re-activate
		id, ok := pick(r, rt.enrolled, nil)
		if !ok {
			return rtWrite{}, false
		}
		return rtWrite{name: "flip enrollment", method: "PATCH", path: "/api/collections/enrollments/records/" + id, who: rt.enrolled[id],
			body: map[string]any{"status": []string{"active", "cancelled"}[r.IntN(2)]}}, true
	case 15: // a review (400 unless enrolled and not yet reviewed)
		id, ok := pick(r, rt.enrolled, nil)
		if !ok {
			return rtWrite{}, false
		}
		who := rt.enrolled[id]
		rec, err := rt.w.api.do("GET", "/api/collections/enrollments/records/"+id, rt.w.su, nil)
		var en struct{ Course string }
		if err != nil || rec.json(&en) != nil || en.Course == "" {
			return rtWrite{}, false
		}
		return rtWrite{name: "create review", method: "POST", path: "/api/collections/reviews/records", who: who, created: "reviews",
			body: map[string]any{"course": en.Course, "rating": 1 + r.IntN(5)}, after: func(id string) { rt.reviews[id] = who }}, true
	case 16: // a review is re-rated or deleted
		id, ok := pick(r, rt.reviews, nil)
		if !ok {
			return rtWrite{}, false
		}
		if r.IntN(2) == 0 {
			return rtWrite{name: "rate review", method: "PATCH", path: "/api/collections/reviews/records/" + id, who: rt.reviews[id],
				body: map[string]any{"rating": 1 + r.IntN(5)}}, true
		}
		return rtWrite{name: "delete review", method: "DELETE", path: "/api/collections/reviews/records/" + id, who: rt.reviews[id], deletes: true,
			after: func(string) { delete(rt.reviews, id) }}, true
	case 17: // a profile edit (users list is for admins only)
		return rtWrite{name: "edit profile", method: "PATCH", path: "/api/collections/users/records/" + rt.users[st].id, who: st,
			body: map[string]any{"bio": "step " + strconv.Itoa(r.IntN(1000))}}, true
	case 18: // an admin removes an enrollment, or an author a post (cascading its comments)
		if r.IntN(2) == 0 {
			id, ok := pick(r, rt.enrolled, nil)
			if !ok {
				return rtWrite{}, false
			}
			return rtWrite{name: "delete enrollment", method: "DELETE", path: "/api/collections/enrollments/records/" + id, who: "admin", deletes: true,
				after: func(string) { delete(rt.enrolled, id) }}, true
		}
		id, ok := pick(r, rt.posts, nil)
		if !ok || len(rt.posts) < 4 {
			return rtWrite{}, false
		}
		return rtWrite{name: "delete post", method: "DELETE", path: "/api/collections/posts/records/" + id, who: rt.posts[id], deletes: true,
			after: func(string) {
				delete(rt.posts, id)
				for c := range rt.comments {
					if rr, err := rt.w.api.do("GET", "/api/collections/comments/records/"+c, rt.w.su, nil); err == nil && rr.Status == 404 {
						delete(rt.comments, c)
					}
				}
			}}, true
	default: // 19: a write that is rolled back
		return rt.planRollback(st)
	}
}

// planRollback is a write whose effects must all roll back.
func (rt *realtimeRun) planRollback(st string) (rtWrite, bool) {
	r := rt.rng
	published, ok := pick(r, rt.posts, nil)
	if !ok {
		return rtWrite{}, false
	}
	draft := rt.create("posts", "author", map[string]any{"title": "Rollback target", "body": "<p>x</p>", "status": "draft"})
	if draft != "" {
		rt.posts[draft] = "author"
	}
	switch r.IntN(3) {
	case 0: // a batch: a good comment (its post's count is touched), then one on a draft post
		id := rt.ids.next()
		return rtWrite{name: "rollback: batch with a failing last request", method: "POST", path: "/api/batch", who: st, rollback: true,
			body: map[string]any{"requests": []any{
				map[string]any{"method": "POST", "url": "/api/collections/comments/records", "body": map[string]any{"id": id, "post": published, "body": "rolled back"}},
				map[string]any{"method": "POST", "url": "/api/collections/comments/records", "body": map[string]any{"post": draft, "body": "refused"}},
			}}}, true
	case 1: // a comment with an id that exists
		id, ok := pick(r, rt.comments, nil)
		if !ok {
			return rtWrite{}, false
		}
		return rtWrite{name: "rollback: duplicate id", method: "POST", path: "/api/collections/comments/records", who: st, rollback: true,
			body: map[string]any{"id": id, "post": published, "body": "duplicate"}}, true
	default: // a batch: a course edit, then a lesson at a taken position
		lesson, ok := pick(r, rt.lessons, nil)
		if !ok {
			return rtWrite{}, false
		}
		course := rt.lessons[lesson]
		var l struct{ Position int }
		if rr, err := rt.w.api.do("GET", "/api/collections/lessons/records/"+lesson, rt.w.su, nil); err != nil || rr.json(&l) != nil {
			return rtWrite{}, false
		}
		return rtWrite{name: "rollback: batch with a duplicate lesson position", method: "POST", path: "/api/batch", who: rt.courses[course], rollback: true,
			body: map[string]any{"requests": []any{
				map[string]any{"method": "PATCH", "url": "/api/collections/courses/records/" + course, "body": map[string]any{"summary": "rolled back"}},
				map[string]any{"method": "POST", "url": "/api/collections/lessons/records", "body": map[string]any{"course": course, "title": "dup", "position": l.Position}},
			}}}, true
	}
}

// visibleSet lists, for every identity, the records it may list now.
func (rt *realtimeRun) visibleSet() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, who := range rtIdentities {
		out[who] = map[string]bool{}
		tok := ""
		if who != "guest" {
			tok = rt.token(who)
		}
		for _, c := range rtCollections {
			for page := 1; page <= 20; page++ {
				r, err := rt.w.api.do("GET", fmt.Sprintf("/api/collections/%s/records?fields=id&perPage=200&page=%d&skipTotal=1", c, page), tok, nil)
				if err != nil || r.Status != 200 {
					rt.t.Fatalf("list %s as %s: %v %s", c, who, err, r)
				}
				var res struct{ Items []struct{ ID string } }
				r.json(&res)
				for _, it := range res.Items {
					out[who][c+"/"+it.ID] = true
				}
				if len(res.Items) < 200 {
					break
				}
			}
		}
	}
	return out
}

// canList asks the API whether who may list the record now.
func (rt *realtimeRun) canList(who, collection, id string) bool {
	tok := ""
	if who != "guest" {
		tok = rt.token(who)
	}
	r, err := rt.w.api.do("GET", "/api/collections/"+collection+"/records?fields=id&filter="+url.QueryEscape(`id = "`+id+`"`), tok, nil)
	if err != nil || r.Status != 200 {
		rt.t.Fatalf("visibility of %s/%s as %s: %v %s", collection, id, who, err, r)
	}
	var res struct{ TotalItems int }
	r.json(&res)
	return res.TotalItems == 1
}

// fenceAll updates the fence topic and waits until every client got it.
func (rt *realtimeRun) fenceAll() {
	rt.fenceN++
	mark := "fence-" + strconv.Itoa(rt.fenceN)
	rt.w.api.must(rt.t, 200, "PATCH", "/api/collections/topics/records/"+rt.fence, rt.w.su, map[string]any{"description": mark})
	for who, c := range rt.clients {
		if !c.waitFor(15*time.Second, func(m rtMessage) bool { return m.id() == rt.fence && m.Record["description"] == mark }) {
			rt.t.Fatalf("client %s did not receive fence %s", who, mark)
		}
	}
	time.Sleep(30 * time.Millisecond) // sends run in goroutines: let stragglers land
}

func (rt *realtimeRun) step(i int) {
	var wr rtWrite
	for tries := 0; ; tries++ {
		var ok bool
		if wr, ok = rt.plan(); ok {
			break
		}
		if tries > 50 {
			rt.t.Fatal("no step could be planned")
		}
	}
	rt.actions[wr.name]++
	var before map[string]map[string]bool
	if wr.deletes || wr.method == "PATCH" { // an update may take a record out of view: a delete event
		before = rt.visibleSet()
	}
	rt.fenceAll()
	marks := map[string]int{}
	for who, c := range rt.clients {
		marks[who] = c.count()
	}

	r, err := rt.w.api.do(wr.method, wr.path, rt.token(wr.who), wr.body)
	if err != nil {
		rt.t.Fatalf("step %d %s: %v", i, wr.name, err)
	}
	if r.Status >= 500 {
		rt.t.Errorf("step %d %s: %s", i, wr.name, r)
	}
	var createdID string
	if r.Status == 200 && wr.method == "POST" && !wr.rollback {
		var rec struct{ ID string }
		r.json(&rec)
		createdID = rec.ID
	}
	if r.Status < 300 && wr.after != nil {
		wr.after(createdID)
	}
	if wr.rollback {
		rt.rollbacks++
		if r.Status < 300 {
			rt.t.Errorf("step %d %s: the write was meant to fail, got %s", i, wr.name, r)
		}
	}
	rt.fenceAll()

	cache := map[string]bool{}
	for who, c := range rt.clients {
		msgs := c.messages()[marks[who]:]
		for _, m := range msgs {
			if m.id() == rt.fence {
				continue
			}
			rt.checked++
			what := fmt.Sprintf("step %d (%s %s %s as %s): %s got %s %s/%s", i, wr.name, wr.method, wr.path, wr.who, who, m.Action, m.collection(), m.id())
			if wr.rollback {
				rt.rollbackLeaks = append(rt.rollbackLeaks, what)
				continue
			}
			key := m.collection() + "/" + m.id()
			var ok bool
			switch m.Action {
			case "delete":
				if before == nil {
					rt.t.Errorf("%s: a delete event in a step without a snapshot", what)
					continue
				}
				ok = before[who][key]
				if ok && wr.method == "PATCH" {
					// an update's delete: only for a record that left the view
					ok = !rt.canList(who, m.collection(), m.id())
				}
			default:
				ck := who + " " + key
				v, seen := cache[ck]
				if !seen {
					v = rt.canList(who, m.collection(), m.id())
					cache[ck] = v
				}
				ok = v
			}
			if !ok {
				rt.leaks = append(rt.leaks, what)
			}
		}
	}
	// completeness: every record an identity could list before the update
	// and cannot after it (the updated one, or one whose rule reads it: the
	// comments of a post back to draft, the lessons of a cancelled
	// enrollment) reached its client as a delete
	if wr.method == "PATCH" && r.Status == 200 && before != nil {
		now := rt.visibleSet()
		for who, c := range rt.clients {
			msgs := c.messages()[marks[who]:]
			for key := range before[who] {
				if now[who][key] {
					continue
				}
				id := key[strings.Index(key, "/")+1:]
				if slices.ContainsFunc(msgs, func(m rtMessage) bool { return m.Action == "delete" && m.id() == id }) {
					continue
				}
				rt.missed++
				if len(rt.missedDetail) < 10 {
					rt.missedDetail = append(rt.missedDetail, fmt.Sprintf("step %d %s %s: %s could list %s before the update, not after, but got no delete event", i, wr.name, wr.path, who, key))
				}
			}
		}
	}
	// completeness: whoever may list a new record got its create event
	if createdID != "" && wr.created != "" {
		for who, c := range rt.clients {
			if !rt.canList(who, wr.created, createdID) {
				continue
			}
			if !c.waitFor(5*time.Second, func(m rtMessage) bool { return m.id() == createdID && m.Action == "create" }) {
				rt.missed++
				if len(rt.missedDetail) < 10 {
					rt.missedDetail = append(rt.missedDetail, fmt.Sprintf("step %d %s: %s may list %s/%s but got no create event", i, wr.name, who, wr.created, createdID))
				}
			}
		}
	}
}
