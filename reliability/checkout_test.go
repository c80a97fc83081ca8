package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"lectern/internal/checkout/stripetest"
)

// TestCheckoutKillDuringWebhook kills the server (SIGKILL) while Stripe's
// checkout.session.completed delivery is in flight, restarts it, and has
// Stripe retry the same event (freshly signed, as Stripe does): each order
// ends paid, with exactly one active enrollment, one recorded event and the
// course's enrollmentsCount equal to the buyers, whether the kill landed
// before the commit or after it (then the retry is a duplicate).
//
// Odd cycles hold SQLite's write lock from outside while the delivery
// arrives, so the handler is certainly waiting on it at the kill (its BEGIN
// IMMEDIATE blocked, nothing written); even
// cycles kill at a random moment 0–8 ms after sending (before, during or
// after the handler's transaction). stripe-mock serves
// the Checkout Session calls. LECTERN_CHECKOUT_KILLS sets the cycles (default 6).
func TestCheckoutKillDuringWebhook(t *testing.T) {
	skipShort(t)
	cycles := envInt(t, "LECTERN_CHECKOUT_KILLS", 6)
	const secret = "whsec_reliability"
	mock := stripetest.Start(t)
	s := newServer(t, serverOptions{env: []string{
		"LECTERN_STRIPE_SECRET_KEY=sk_test_reliabilityKey",
		"LECTERN_STRIPE_WEBHOOK_SECRET=" + secret,
		"LECTERN_STRIPE_API_URL=" + mock.URL,
	}})
	s.start()
	w := newWorld(t, s)
	w.relaxRateLimits(t)
	teacher := w.addUsers(t, "instructor", "kill-teacher")[0]
	names := make([]string, cycles)
	for i := range names {
		names[i] = fmt.Sprintf("kill-buyer-%d", i)
	}
	buyers := w.addUsers(t, "student", names...)
	course := w.create(t, "courses", teacher.token, map[string]any{"title": "Kill-proof payments", "durationDays": 3, "price": 599, "status": "published"})["id"].(string)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var committedAtKill, answeredBeforeKill, fulfilledByRetry, duplicateRetry int
	for cycle, buyer := range buyers {
		var out struct{ SessionID string }
		w.api.must(t, 200, "POST", "/api/courses/"+course+"/checkout", buyer.token, map[string]any{}).json(&out)
		var order struct{ Items []struct{ ID string } }
		w.api.must(t, 200, "GET", "/api/collections/orders/records?filter="+url.QueryEscape(`stripeSessionId="`+out.SessionID+`"`), buyer.token, nil).json(&order)
		if len(order.Items) != 1 {
			t.Fatalf("cycle %d: order of %s not found", cycle, out.SessionID)
		}
		evtID := fmt.Sprintf("evt_kill_%d", cycle)
		payload := stripetest.Event(evtID, "checkout.session.completed", map[string]any{
			"id": out.SessionID, "object": "checkout.session", "status": "complete", "payment_status": "paid",
			"amount_total": 59900, "currency": "usd", "payment_intent": fmt.Sprintf("pi_kill_%d", cycle),
			"metadata": map[string]any{"order": order.Items[0].ID},
		})

		var lock *sql.Conn
		if cycle%2 == 1 {
			lock = holdWriteLock(t, s.dir)
		}
		answered := make(chan int, 1)
		go func() {
			r, err := w.api.doCtx(context.Background(), "POST", "/api/stripe/webhook", "", payload,
				map[string]string{"Stripe-Signature": stripetest.Sign(payload, secret, time.Now())})
			if err != nil {
				answered <- 0
				return
			}
			answered <- r.Status
		}()
		if lock != nil {
			time.Sleep(300 * time.Millisecond) // the delivery reaches the handler, which waits on the lock
		} else {
			time.Sleep(time.Duration(rng.IntN(8)) * time.Millisecond)
		}
		s.kill()
		status := <-answered
		if lock != nil {
			lock.ExecContext(context.Background(), "ROLLBACK")
			lock.Close()
		}
		w.api.close()
		if status == 200 {
			answeredBeforeKill++
		}
		if status != 0 && status != 200 {
			t.Errorf("cycle %d: the delivery was answered %d before the kill", cycle, status)
		}
		db := openReadOnly(t, s.dir)
		var st string
		db.QueryRow(`SELECT status FROM orders WHERE stripeSessionId = ?`, out.SessionID).Scan(&st)
		db.Close()
		if st == "paid" {
			committedAtKill++
		}
		if lock != nil && st == "paid" {
			t.Errorf("cycle %d: committed while the write lock was held", cycle)
		}

		if _, err := s.tryStart(60 * time.Second); err != nil {
			t.Fatalf("cycle %d: restart: %v", cycle, err)
		}
		// Stripe retries the delivery it got no answer to
		r, err := w.api.doCtx(context.Background(), "POST", "/api/stripe/webhook", "", payload,
			map[string]string{"Stripe-Signature": stripetest.Sign(payload, secret, time.Now())})
		if err != nil || r.Status != 200 {
			t.Fatalf("cycle %d: retry: %v %s", cycle, err, r)
		}
		var res struct{ Outcome string }
		r.json(&res)
		switch res.Outcome {
		case "fulfilled":
			fulfilledByRetry++
		case "duplicate":
			duplicateRetry++
		default:
			t.Errorf("cycle %d: retry outcome %q", cycle, res.Outcome)
		}
		var state struct {
			Status     string
			Enrollment *struct{ Status string }
		}
		w.api.must(t, 200, "GET", "/api/checkout/"+out.SessionID, buyer.token, nil).json(&state)
		if state.Status != "paid" || state.Enrollment == nil || state.Enrollment.Status != "active" {
			t.Errorf("cycle %d: after the retry: %+v", cycle, state)
		}
	}

	// stored state, straight from the database after a clean stop
	s.stop()
	db := openReadOnly(t, s.dir)
	defer db.Close()
	var paid, enrollments, events, count int
	db.QueryRow(`SELECT COUNT(*) FROM orders WHERE course = ? AND status = 'paid'`, course).Scan(&paid)
	db.QueryRow(`SELECT COUNT(*) FROM enrollments WHERE course = ? AND status = 'active'`, course).Scan(&enrollments)
	db.QueryRow(`SELECT COUNT(*) FROM stripeEvents WHERE eventId LIKE 'evt_kill_%'`).Scan(&events)
	db.QueryRow(`SELECT enrollmentsCount FROM courses WHERE id = ?`, course).Scan(&count)
	if paid != cycles || enrollments != cycles || events != cycles || count != cycles {
		t.Errorf("want %d of each: paid orders %d, active enrollments %d, recorded events %d, enrollmentsCount %d", cycles, paid, enrollments, events, count)
	}
	if h := checkDB(t, db); !h.ok() {
		t.Errorf("database: %+v", h)
	}
	report(t, "checkout-kill", "| kills | committed at kill | answered before kill | retry fulfilled / duplicate | paid orders | active enrollments | recorded events | enrollmentsCount |",
		fmt.Sprintf("| %d | %d | %d | %d / %d | %d | %d | %d | %d |", cycles, committedAtKill, answeredBeforeKill, fulfilledByRetry, duplicateRetry, paid, enrollments, events, count))
}

// holdWriteLock takes SQLite's write lock on data.db from another connection
// (BEGIN IMMEDIATE), as a long writer would; the caller rolls back.
func holdWriteLock(t testing.TB, dir string) *sql.Conn {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "data.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return conn
}
