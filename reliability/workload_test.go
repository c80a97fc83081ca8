package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The write workload shared by the crash, backup and soak tests: concurrent
// writers create posts, comments, enrollments and reviews, delete comments,
// moderate them, cancel and re-activate enrollments and re-rate reviews (so
// every counter moves). Every create carries a client-chosen record id (the
// request's unique value); an id enters the ledger only once the server
// acknowledged it with 200 (204 for a delete), so after a crash or a restore
// the ledger says exactly what must be there and what must not.

// ledger is what the server acknowledged.
type ledger struct {
	mu      sync.Mutex
	created map[string]map[string]bool // collection → acked ids not deleted since
	deleted map[string]map[string]bool // collection → acked deletes
	fields  map[fieldKey]string        // last acked value of an updated field
	unsure  map[fieldKey]bool          // fields whose last change has no answer
	unknown int                        // requests with no answer (killed in flight)
	refused map[string]int             // "collection status" → count of non-2xx answers
	acks    int                        // acknowledged writes of every kind
}

func newLedger() *ledger {
	return &ledger{
		created: map[string]map[string]bool{}, deleted: map[string]map[string]bool{},
		fields: map[fieldKey]string{}, unsure: map[fieldKey]bool{}, refused: map[string]int{},
	}
}

func (l *ledger) ackCreate(collection, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.created[collection] == nil {
		l.created[collection] = map[string]bool{}
	}
	l.created[collection][id] = true
	l.acks++
}

func (l *ledger) ackDelete(collection, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.created[collection], id)
	if l.deleted[collection] == nil {
		l.deleted[collection] = map[string]bool{}
	}
	l.deleted[collection][id] = true
	for k := range l.fields {
		if k.collection == collection && k.id == id {
			delete(l.fields, k)
			delete(l.unsure, k)
		}
	}
	l.acks++
}

// forget drops an acknowledged create whose later delete went unanswered:
// whether the row is there after the crash is then unknown, not a loss.
func (l *ledger) forget(collection, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.created[collection], id)
	for k := range l.fields {
		if k.collection == collection && k.id == id {
			delete(l.fields, k)
			delete(l.unsure, k)
		}
	}
}

// fieldKey names one field of one record.
type fieldKey struct{ collection, id, field string }

// ackField records an acknowledged update of one field. Each tracked field
// has one writer goroutine, so acknowledgements arrive in commit order.
func (l *ledger) ackField(k fieldKey, value string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.created[k.collection][k.id] {
		return // deleted meanwhile
	}
	l.fields[k] = value
	delete(l.unsure, k)
	l.acks++
}

// markUnsure is called before an update is sent: until it is answered, the
// stored value may be the old or the new one.
func (l *ledger) markUnsure(k fieldKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unsure[k] = true
}

func (l *ledger) clearUnsure(k fieldKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.unsure, k)
}

func (l *ledger) noAnswer() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unknown++
}

func (l *ledger) refuse(collection string, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refused[fmt.Sprintf("%s %d", collection, status)]++
}

// ledgerSnapshot is a copy of the ledger at one moment.
type ledgerSnapshot struct {
	created map[string][]string
	deleted map[string][]string
	fields  map[fieldKey]string // certain values only
	acks    int
}

func (l *ledger) snapshot() ledgerSnapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ledgerSnapshot{created: map[string][]string{}, deleted: map[string][]string{}, fields: map[fieldKey]string{}, acks: l.acks}
	for c, ids := range l.created {
		for id := range ids {
			s.created[c] = append(s.created[c], id)
		}
	}
	for c, ids := range l.deleted {
		for id := range ids {
			s.deleted[c] = append(s.deleted[c], id)
		}
	}
	for k, v := range l.fields {
		if !l.unsure[k] {
			s.fields[k] = v
		}
	}
	return s
}

func (s ledgerSnapshot) createdCount() int {
	n := 0
	for _, ids := range s.created {
		n += len(ids)
	}
	return n
}

// ---

// workload is the data the writers work on and their state.
type workload struct {
	w        *world
	ids      *idGen
	led      *ledger
	author   *user
	students []*user
	posts    []string // published posts, by author

	pairMu     sync.Mutex
	pairs      []enrollPair  // not yet tried
	reviewable []enrollPair  // acked enrollments without a review attempt
	enrolled   []ownedRecord // acked enrollments
	reviewed   []ownedRecord // acked reviews

	ownMu    sync.Mutex
	comments map[string][]string // student id → own acked comments

	writes atomic.Int64 // requests sent
}

// ownedRecord is a record and the student who may change it.
type ownedRecord struct {
	id      string
	student *user
}

type enrollPair struct {
	student *user
	course  string
}

// setupWorkload creates an author with nPosts published posts, an instructor
// with nCourses published courses (two lessons each) and nStudents students.
func setupWorkload(t testing.TB, w *world, nStudents, nCourses, nPosts int, seed uint64) *workload {
	t.Helper()
	wl := &workload{w: w, ids: newIDGen("w"), led: newLedger(), comments: map[string][]string{}}
	staff := w.addUsers(t, "author", "wauthor")
	wl.author = staff[0]
	instructor := w.addUsers(t, "instructor", "winstructor")[0]
	names := make([]string, nStudents)
	for i := range names {
		names[i] = fmt.Sprintf("wstudent%02d", i)
	}
	wl.students = w.addUsers(t, "student", names...)
	for i := range nPosts {
		p := w.create(t, "posts", wl.author.token, map[string]any{
			"title": fmt.Sprintf("Workload post %d", i), "body": "<p>Words to comment on.</p>", "status": "published",
		})
		wl.posts = append(wl.posts, p["id"].(string))
	}
	var courses []string
	for i := range nCourses {
		c := w.create(t, "courses", instructor.token, map[string]any{
			"title": fmt.Sprintf("Workload course %d", i), "durationDays": 10, "mode": "online", "level": "beginner", "status": "published",
		})
		id := c["id"].(string)
		courses = append(courses, id)
		for pos := 1; pos <= 2; pos++ {
			w.create(t, "lessons", instructor.token, map[string]any{"course": id, "title": fmt.Sprintf("Lesson %d", pos), "position": pos})
		}
	}
	for _, s := range wl.students {
		for _, c := range courses {
			wl.pairs = append(wl.pairs, enrollPair{s, c})
		}
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	rng.Shuffle(len(wl.pairs), func(i, j int) { wl.pairs[i], wl.pairs[j] = wl.pairs[j], wl.pairs[i] })
	return wl
}

// run starts the writers and returns when ctx ends and every writer stopped.
// Each writer is bounded by maxOps requests as well as by ctx.
func (wl *workload) run(ctx context.Context, seed uint64, maxOps int) {
	var wg sync.WaitGroup
	writers := []func(context.Context, *rand.Rand, int){
		wl.postWriter, wl.commentWriter, wl.commentWriter, wl.enrollmentWriter, wl.reviewWriter, wl.moderator,
	}
	for i, fn := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx, rand.New(rand.NewPCG(seed, uint64(i))), maxOps)
		}()
	}
	wg.Wait()
}

// send is one write with a bounded wait; ok reports a 2xx answer, answered
// whether any answer came.
func (wl *workload) send(ctx context.Context, method, path, token string, body any) (r reply, answered bool) {
	wl.writes.Add(1)
	rctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := wl.w.api.doCtx(rctx, method, path, token, body, nil)
	if err != nil {
		wl.led.noAnswer()
		// the server is gone (killed) or restarting: don't spin
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
		return r, false
	}
	return r, true
}

func (wl *workload) postWriter(ctx context.Context, rng *rand.Rand, maxOps int) {
	for i := 0; i < maxOps && ctx.Err() == nil; i++ {
		id := wl.ids.next()
		status := []string{"published", "draft"}[rng.IntN(2)]
		r, ok := wl.send(ctx, "POST", "/api/collections/posts/records", wl.author.token, map[string]any{
			"id": id, "title": "Crash post " + id, "body": "<p>" + strings.Repeat("word ", 1+rng.IntN(50)) + "</p>", "status": status,
		})
		wl.ack(ok, r, "posts", id, 200)
	}
}

func (wl *workload) commentWriter(ctx context.Context, rng *rand.Rand, maxOps int) {
	for i := 0; i < maxOps && ctx.Err() == nil; i++ {
		s := wl.students[rng.IntN(len(wl.students))]
		wl.ownMu.Lock()
		own := wl.comments[s.id]
		wl.ownMu.Unlock()
		if len(own) > 0 && rng.IntN(8) == 0 {
			k := rng.IntN(len(own))
			id := own[k]
			wl.ownMu.Lock()
			wl.comments[s.id] = removeAt(wl.comments[s.id], id)
			wl.ownMu.Unlock()
			r, ok := wl.send(ctx, "DELETE", "/api/collections/comments/records/"+id, s.token, nil)
			switch {
			case ok && r.Status == 204:
				wl.led.ackDelete("comments", id)
			case ok:
				wl.led.refuse("comments-delete", r.Status)
			default:
				// unanswered (the kill came mid-request): the delete may or may
				// not have committed, so the comment is no longer expected either way
				wl.led.forget("comments", id)
			}
			continue
		}
		id := wl.ids.next()
		r, ok := wl.send(ctx, "POST", "/api/collections/comments/records", s.token, map[string]any{
			"id": id, "post": wl.posts[rng.IntN(len(wl.posts))], "body": "ack " + id,
		})
		if wl.ack(ok, r, "comments", id, 200) {
			wl.ownMu.Lock()
			wl.comments[s.id] = append(wl.comments[s.id], id)
			wl.ownMu.Unlock()
		}
	}
}

func removeAt(ids []string, id string) []string {
	out := ids[:0:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// moderator is the posts' author hiding and showing comments (commentsCount moves).
func (wl *workload) moderator(ctx context.Context, rng *rand.Rand, maxOps int) {
	for i := 0; i < maxOps && ctx.Err() == nil; i++ {
		wl.ownMu.Lock()
		var all []string
		for _, ids := range wl.comments {
			all = append(all, ids...)
		}
		wl.ownMu.Unlock()
		if len(all) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		id := all[rng.IntN(len(all))]
		status := []string{"visible", "hidden", "flagged"}[rng.IntN(3)]
		wl.update(ctx, fieldKey{"comments", id, "status"}, status, wl.author.token)
	}
}

func (wl *workload) enrollmentWriter(ctx context.Context, rng *rand.Rand, maxOps int) {
	for i := 0; i < maxOps && ctx.Err() == nil; i++ {
		wl.pairMu.Lock()
		if len(wl.pairs) == 0 || (len(wl.enrolled) > 0 && rng.IntN(4) == 0) {
			// the student cancels or re-activates (enrollmentsCount moves)
			if len(wl.enrolled) == 0 {
				wl.pairMu.Unlock()
				return
			}
			e := wl.enrolled[rng.IntN(len(wl.enrolled))]
			wl.pairMu.Unlock()
			status := []string{"active", "cancelled"}[rng.IntN(2)]
			wl.update(ctx, fieldKey{"enrollments", e.id, "status"}, status, e.student.token)
			continue
		}
		p := wl.pairs[len(wl.pairs)-1]
		wl.pairs = wl.pairs[:len(wl.pairs)-1]
		wl.pairMu.Unlock()
		id := wl.ids.next()
		r, ok := wl.send(ctx, "POST", "/api/collections/enrollments/records", p.student.token, map[string]any{"id": id, "course": p.course})
		if wl.ack(ok, r, "enrollments", id, 200) {
			wl.pairMu.Lock()
			wl.reviewable = append(wl.reviewable, p)
			wl.enrolled = append(wl.enrolled, ownedRecord{id, p.student})
			wl.pairMu.Unlock()
		}
	}
}

func (wl *workload) reviewWriter(ctx context.Context, rng *rand.Rand, maxOps int) {
	for i := 0; i < maxOps && ctx.Err() == nil; i++ {
		wl.pairMu.Lock()
		if len(wl.reviewable) == 0 || (len(wl.reviewed) > 0 && rng.IntN(4) == 0) {
			// the student changes the rating (ratingAvg moves)
			if len(wl.reviewed) == 0 {
				wl.pairMu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Millisecond):
				}
				continue
			}
			rv := wl.reviewed[rng.IntN(len(wl.reviewed))]
			wl.pairMu.Unlock()
			wl.update(ctx, fieldKey{"reviews", rv.id, "rating"}, strconv.Itoa(1+rng.IntN(5)), rv.student.token)
			continue
		}
		p := wl.reviewable[0]
		wl.reviewable = wl.reviewable[1:]
		wl.pairMu.Unlock()
		id := wl.ids.next()
		r, ok := wl.send(ctx, "POST", "/api/collections/reviews/records", p.student.token, map[string]any{
			"id": id, "course": p.course, "rating": 1 + rng.IntN(5), "body": "review " + id,
		})
		if wl.ack(ok, r, "reviews", id, 200) {
			wl.pairMu.Lock()
			wl.reviewed = append(wl.reviewed, ownedRecord{id, p.student})
			wl.pairMu.Unlock()
		}
	}
}

// update changes one field as token and records the outcome in the ledger.
func (wl *workload) update(ctx context.Context, k fieldKey, value, token string) {
	wl.led.markUnsure(k)
	var body any = map[string]any{k.field: value}
	if n, err := strconv.Atoi(value); err == nil {
		body = map[string]any{k.field: n}
	}
	r, ok := wl.send(ctx, "PATCH", "/api/collections/"+k.collection+"/records/"+k.id, token, body)
	switch {
	case !ok: // no answer: stays unsure
	case r.Status == 200:
		wl.led.ackField(k, value)
	case r.Status == 404: // deleted meanwhile
	default:
		wl.led.clearUnsure(k) // refused: nothing changed
		wl.led.refuse(k.collection+"-"+k.field, r.Status)
	}
}

// ack records an answered create; it reports whether it was acknowledged.
func (wl *workload) ack(answered bool, r reply, collection, id string, want int) bool {
	if !answered {
		return false
	}
	if r.Status != want {
		wl.led.refuse(collection, r.Status)
		return false
	}
	var rec struct{ ID string }
	if r.json(&rec) != nil || rec.ID != id {
		wl.led.refuse(collection+"-bad-id", r.Status)
		return false
	}
	wl.led.ackCreate(collection, id)
	return true
}

// ---

// lossReport compares a data dir's database with a ledger snapshot.
type lossReport struct {
	missing     map[string][]string // acked creates not found
	resurrected map[string][]string // acked deletes found again
	wrongValue  []string            // updated fields not holding their last acked value
}

func (l lossReport) lost() int {
	n := len(l.wrongValue)
	for _, ids := range l.missing {
		n += len(ids)
	}
	for _, ids := range l.resurrected {
		n += len(ids)
	}
	return n
}

func (l lossReport) String() string {
	return fmt.Sprintf("missing=%v resurrected=%v wrongValue=%v", l.missing, l.resurrected, l.wrongValue)
}

// checkLedger looks for every acknowledged write of snap in the database.
func checkLedger(t testing.TB, db *sql.DB, snap ledgerSnapshot) lossReport {
	t.Helper()
	rep := lossReport{missing: map[string][]string{}, resurrected: map[string][]string{}}
	for c, ids := range snap.created {
		if m := missing(t, db, c, ids); len(m) > 0 {
			rep.missing[c] = m
		}
	}
	for c, ids := range snap.deleted {
		if p := present(t, db, c, ids); len(p) > 0 {
			rep.resurrected[c] = p
		}
	}
	for k, want := range snap.fields {
		var got string
		err := db.QueryRow("SELECT CAST("+k.field+" AS TEXT) FROM "+k.collection+" WHERE id = ?", k.id).Scan(&got)
		if err == nil && got != want {
			rep.wrongValue = append(rep.wrongValue, fmt.Sprintf("%s/%s %s: %s, want %s", k.collection, k.id, k.field, got, want))
		}
	}
	return rep
}
