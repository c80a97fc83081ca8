package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// rtResult is one realtime scenario (R1, R2, R3) on one contender in one
// round: subscribers over PocketBase's realtime protocol (SSE + subscribe
// POST), then comments written one at a time.
type rtResult struct {
	Scenario   string    `json:"scenario,omitempty"` // "" is R1 (results written before R2 existed)
	Round      int       `json:"round"`
	Contender  string    `json:"contender"`
	Subs       int       `json:"subs"`
	Signed     int       `json:"signed,omitempty"` // of Subs, signed in
	Posts      int       `json:"posts,omitempty"`  // posts the subscriptions' filters spread over
	Connected  int       `json:"connected"`
	WriterMs   []float64 `json:"writer_ms"`   // each write's own response time
	LastMs     []float64 `json:"last_ms"`     // write sent → last expected subscriber received it
	MedianMs   []float64 `json:"median_ms"`   // write sent → half the expected subscribers received it
	Delivered  float64   `json:"delivered"`   // fraction of expected (write, subscriber) events received
	Unexpected int       `json:"unexpected"`  // events received by a subscriber whose filter excludes them
	KBPerConn  float64   `json:"kb_per_conn"` // server RSS growth / subscribers
	ConnectSec float64   `json:"connect_s"`
	Err        string    `json:"error,omitempty"`
	// Scale is the posts of the extra data set (--scales) it ran on; 0 on
	// the main one
	Scale int `json:"scale_posts,omitempty"`
}

// scenario is the result's scenario id.
func (r rtResult) scenario() string {
	if r.Scenario == "" {
		return "R1"
	}
	return r.Scenario
}

type delivery struct {
	id  string
	sub int // the subscriber's index in the plan
	at  time.Time
}

// rtSub is one subscriber of a plan: its topic, its token ("" for a guest)
// and the post its filter keeps (-1: every event is for it).
type rtSub struct {
	topic, token string
	post         int
}

// rtWrite is one comment a plan creates, on posts[post].
type rtWrite struct {
	post   int
	author benchUser
}

type rtPlan struct {
	scenario string
	signed   int
	posts    []string
	subs     []rtSub
	writes   []rtWrite
}

// realtime runs R1 with subs guest subscribers of "comments/*" and writes
// comments.
func realtime(ctx context.Context, s *server, f *fixture, round, subs, writes int, settle time.Duration) rtResult {
	p := rtPlan{scenario: "R1", posts: f.Posts}
	for range subs {
		p.subs = append(p.subs, rtSub{topic: "comments/*", post: -1})
	}
	for i := range writes {
		p.writes = append(p.writes, rtWrite{post: i % len(f.Posts), author: f.Users[i%len(f.Users)]})
	}
	return runRealtime(ctx, s, round, p, settle)
}

// sdkFilterTopic is the subscription the JS SDK sends for
// pb.collection("comments").subscribe("*", cb, {filter: 'post = "<id>"'}),
// the README's live post page.
func sdkFilterTopic(post string) string {
	opts, _ := json.Marshal(map[string]any{"query": map[string]string{"filter": fmt.Sprintf("post = %q", post)}})
	return "comments/*?options=" + url.QueryEscape(string(opts))
}

// filteredOnePost is R2: guests and signed-in readers on one post's live
// page, comments written on that post (every subscriber gets every event).
func filteredOnePost(ctx context.Context, s *server, f *fixture, round, guests, signed, writes int, settle time.Duration) rtResult {
	p := rtPlan{scenario: "R2", signed: signed, posts: f.Posts[:1]}
	for range guests {
		p.subs = append(p.subs, rtSub{topic: sdkFilterTopic(f.Posts[0]), post: 0})
	}
	for i := range signed {
		p.subs = append(p.subs, rtSub{topic: sdkFilterTopic(f.Posts[0]), token: f.Readers[i%len(f.Readers)].Token, post: 0})
	}
	for i := range writes {
		p.writes = append(p.writes, rtWrite{post: 0, author: f.Users[i%len(f.Users)]})
	}
	return runRealtime(ctx, s, round, p, settle)
}

// filteredSpread is R3: guests spread evenly over posts live pages; each
// comment reaches the subscribers of its post only.
func filteredSpread(ctx context.Context, s *server, f *fixture, round, guests, posts, writes int, settle time.Duration) rtResult {
	posts = min(posts, len(f.Posts))
	p := rtPlan{scenario: "R3", posts: f.Posts[:posts]}
	for i := range guests {
		p.subs = append(p.subs, rtSub{topic: sdkFilterTopic(f.Posts[i%posts]), post: i % posts})
	}
	for i := range writes {
		p.writes = append(p.writes, rtWrite{post: i % posts, author: f.Users[i%len(f.Users)]})
	}
	return runRealtime(ctx, s, round, p, settle)
}

// runRealtime connects the plan's subscribers, then creates its comments one
// at a time, each after the previous one reached all its subscribers (or 30
// s passed).
func runRealtime(ctx context.Context, s *server, round int, p rtPlan, settle time.Duration) rtResult {
	res := rtResult{Scenario: p.scenario, Round: round, Contender: s.c.Name, Subs: len(p.subs), Signed: p.signed}
	if p.scenario != "R1" {
		res.Posts = len(p.posts)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	sse := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}
	api := newClient(32)
	defer api.CloseIdleConnections()

	rss0 := rssBytes(s.pid())
	deliveries := make(chan delivery, len(p.subs)*4)
	var connected atomic.Int64
	var firstErr atomic.Pointer[string]
	fail := func(err error) {
		msg := err.Error()
		firstErr.CompareAndSwap(nil, &msg)
	}
	subscribedTo := make([]bool, len(p.subs))

	// connect in parallel, at most 64 handshakes in flight
	t0 := time.Now()
	var ready sync.WaitGroup
	var readers sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i, sub := range p.subs {
		ready.Add(1)
		readers.Add(1)
		sem <- struct{}{}
		go func() {
			defer readers.Done()
			subscribed := false
			defer func() {
				if !subscribed {
					<-sem
					ready.Done()
				}
			}()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/realtime", nil)
			req.Header.Set("Accept", "text/event-stream")
			resp, err := sse.Do(req)
			if err != nil {
				fail(err)
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReaderSize(resp.Body, 8192)
			ev, err := readEvent(br)
			if err != nil || ev.name != "PB_CONNECT" {
				fail(fmt.Errorf("PB_CONNECT: %v %q", err, ev.name))
				return
			}
			var hello struct{ ClientID string }
			if err := json.Unmarshal(ev.data, &hello); err != nil || hello.ClientID == "" {
				fail(fmt.Errorf("PB_CONNECT data %q", ev.data))
				return
			}
			body := mustJSON(map[string]any{"clientId": hello.ClientID, "subscriptions": []string{sub.topic}})
			sreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/realtime", bytes.NewReader(body))
			sreq.Header.Set("Content-Type", "application/json")
			if sub.token != "" {
				sreq.Header.Set("Authorization", sub.token)
			}
			sres, err := api.Do(sreq)
			if err != nil {
				fail(err)
				return
			}
			io.Copy(io.Discard, sres.Body)
			sres.Body.Close()
			if sres.StatusCode != http.StatusNoContent {
				fail(fmt.Errorf("subscribe: %d", sres.StatusCode))
				return
			}
			subscribed = true
			subscribedTo[i] = true
			connected.Add(1)
			<-sem
			ready.Done()
			for {
				ev, err := readEvent(br)
				if err != nil {
					return
				}
				at := time.Now()
				var msg struct {
					Record struct{ ID string } `json:"record"`
				}
				if json.Unmarshal(ev.data, &msg) == nil && msg.Record.ID != "" {
					select {
					case deliveries <- delivery{id: msg.Record.ID, sub: i, at: at}:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
	}
	ready.Wait()
	res.ConnectSec = time.Since(t0).Seconds()
	res.Connected = int(connected.Load())
	if e := firstErr.Load(); e != nil {
		res.Err = *e
	}
	time.Sleep(settle)
	res.KBPerConn = float64(rssBytes(s.pid())-rss0) / 1024 / float64(max(res.Connected, 1))

	// collect deliveries per record id
	var mu sync.Mutex
	got := map[string][]delivery{}
	collectorDone := make(chan struct{})
	go func() {
		defer close(collectorDone)
		for {
			select {
			case d := <-deliveries:
				mu.Lock()
				got[d.id] = append(got[d.id], d)
				mu.Unlock()
			case <-ctx.Done():
				return
			}
		}
	}()

	total, received := 0, 0
	// one unmeasured write first, as every other cell has a warm-up: a
	// server's first fan-out after its subscribers connected builds what
	// later ones reuse (and a fresh data dir copy is cold in the page cache)
	writes := p.writes
	if len(writes) > 0 {
		writes = append([]rtWrite{writes[0]}, writes...)
	}
	for i, wr := range writes {
		warm := i == 0
		expected := 0
		for j, sub := range p.subs {
			if subscribedTo[j] && (sub.post < 0 || sub.post == wr.post) {
				expected++
			}
		}
		body := mustJSON(map[string]any{
			"post": p.posts[wr.post], "author": wr.author.ID, "status": "visible",
			"body": fmt.Sprintf("Realtime benchmark comment %d.", i),
		})
		t0 := time.Now()
		smp, id := post(ctx, api, s.base+"/api/collections/comments/records", body, wr.author.Token)
		if smp.errMsg != "" {
			if res.Err == "" {
				res.Err = smp.errMsg
			}
			continue
		}
		if !warm {
			res.WriterMs = append(res.WriterMs, ms(smp.lat))
		}
		// wait for every expected subscriber, at most 30 s
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			n := len(got[id])
			mu.Unlock()
			if n >= expected || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		// and a little longer for any unexpected one (a leak) to show
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		ds := slices.Clone(got[id])
		mu.Unlock()
		if warm {
			continue
		}
		var times []time.Time
		for _, d := range ds {
			if sub := p.subs[d.sub]; sub.post >= 0 && sub.post != wr.post {
				res.Unexpected++
				continue
			}
			times = append(times, d.at)
		}
		total += expected
		received += len(times)
		if len(times) > 0 {
			slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
			res.LastMs = append(res.LastMs, ms(times[len(times)-1].Sub(t0)))
			res.MedianMs = append(res.MedianMs, ms(times[len(times)/2].Sub(t0)))
		}
	}
	if total > 0 {
		res.Delivered = float64(received) / float64(total)
	}
	cancel()
	readers.Wait()
	<-collectorDone
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// post sends one create and returns its sample and the new record's id.
func post(ctx context.Context, client *http.Client, url string, body []byte, token string) (sample, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return sample{errMsg: err.Error()}, ""
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	t0 := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return sample{errMsg: err.Error()}, ""
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	lat := time.Since(t0)
	if err != nil || res.StatusCode != http.StatusOK {
		return sample{errMsg: fmt.Sprintf("create comment: %d %s %v", res.StatusCode, b, err)}, ""
	}
	var rec struct{ ID string }
	_ = json.Unmarshal(b, &rec)
	return sample{lat: lat, ok: true}, rec.ID
}

type sseEvent struct {
	name string
	data []byte
}

// readEvent reads one server-sent event (id/event/data lines, blank line).
func readEvent(br *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != nil {
				return ev, nil
			}
		case strings.HasPrefix(line, "event:"):
			ev.name = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			ev.data = append(ev.data, strings.TrimPrefix(line[len("data:"):], " ")...)
		}
	}
}

// readerTokens signs in (mints auth tokens for) n seeded students other than
// the bench users, the signed-in readers of R2. Tokens change nothing in the
// data set, so they are made at every run rather than kept in the fixture.
func readerTokens(dataDir string, n int) ([]benchUser, error) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dataDir})
	if err := app.Bootstrap(); err != nil {
		return nil, err
	}
	defer app.ResetBootstrapState()
	users, err := app.FindRecordsByFilter("users", `role = "student" && email !~ "@bench.test"`, "id", n, 0)
	if err != nil {
		return nil, err
	}
	if len(users) < n {
		return nil, fmt.Errorf("the data set has %d students for %d signed-in realtime readers (seed more users)", len(users), n)
	}
	out := make([]benchUser, len(users))
	for i, u := range users {
		tok, err := u.NewAuthToken()
		if err != nil {
			return nil, err
		}
		out[i] = benchUser{ID: u.Id, Email: u.Email(), Token: tok}
	}
	return out, nil
}
