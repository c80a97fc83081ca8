package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// request is one request of a cell.
type request struct {
	method string
	path   string // path?query
	body   []byte
	token  string
}

// cell is a bounded load: up to count requests (after warm unmeasured ones)
// from conc workers, stopped early at the time cap.
type cell struct {
	scenario string
	conc     int
	count    int
	warm     int
	cap      time.Duration
	next     func(i int) (request, bool) // i-th request; false: none left
	// wantStatus is the success status (200 unless set)
	wantStatus int
}

// cellResult holds the figures of one cell on one contender in one round.
type cellResult struct {
	Round     int     `json:"round"`
	Contender string  `json:"contender"`
	Scenario  string  `json:"scenario"`
	Conc      int     `json:"conc"`
	N         int     `json:"n"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	RPS       float64 `json:"rps"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	CPUus     float64 `json:"cpu_us_per_req"`
	RSSMB     float64 `json:"rss_mb"`
	Hits      int     `json:"cache_hits"`
	FirstErr  string  `json:"first_error,omitempty"`
}

func (r cellResult) key() string { return fmt.Sprintf("%s c%d", r.Scenario, r.Conc) }

// newClient is the load client: keep-alive connections, one per worker.
func newClient(conc int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conc * 2,
			MaxIdleConnsPerHost: conc * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

type sample struct {
	lat    time.Duration
	ok     bool
	hit    bool
	errMsg string
}

func do(ctx context.Context, client *http.Client, base string, rq request, want int) sample {
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, base+rq.path, body)
	if err != nil {
		return sample{errMsg: err.Error()}
	}
	if rq.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		req.Header.Set("Authorization", rq.token)
	}
	t0 := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return sample{lat: time.Since(t0), errMsg: err.Error()}
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	lat := time.Since(t0)
	if err != nil {
		return sample{lat: lat, errMsg: err.Error()}
	}
	if res.StatusCode != want {
		msg := string(b)
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return sample{lat: lat, errMsg: fmt.Sprintf("%s %s: %d %s", rq.method, rq.path, res.StatusCode, msg)}
	}
	return sample{lat: lat, ok: true, hit: res.Header.Get("X-Cache") == "HIT"}
}

// run executes c against s and measures it.
func (c cell) run(ctx context.Context, s *server, round int) (cellResult, error) {
	want := c.wantStatus
	if want == 0 {
		want = http.StatusOK
	}
	client := newClient(c.conc)
	defer client.CloseIdleConnections()
	res := cellResult{Round: round, Contender: s.c.Name, Scenario: c.scenario, Conc: c.conc}

	var idx atomic.Int64
	// one worker pass: requests [from, to) or until the deadline
	pass := func(to int, deadline time.Time, keep bool) ([]sample, time.Duration) {
		var mu sync.Mutex
		var all []sample
		var wg sync.WaitGroup
		t0 := time.Now()
		for range c.conc {
			wg.Go(func() {
				var mine []sample
				for ctx.Err() == nil && time.Now().Before(deadline) {
					i := int(idx.Add(1)) - 1
					if i >= to {
						break
					}
					rq, ok := c.next(i)
					if !ok {
						break
					}
					smp := do(ctx, client, s.base, rq, want)
					if keep {
						mine = append(mine, smp)
					}
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		return all, time.Since(t0)
	}

	if c.warm > 0 {
		pass(c.warm, time.Now().Add(c.cap), false)
	}
	idx.Store(int64(c.warm))
	cpu0, err := cpuTime(s.pid())
	if err != nil {
		return res, err
	}
	samples, elapsed := pass(c.warm+c.count, time.Now().Add(c.cap), true)
	cpu1, err := cpuTime(s.pid())
	if err != nil {
		return res, err
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}

	lats := make([]time.Duration, 0, len(samples))
	for _, smp := range samples {
		if !smp.ok {
			res.Errors++
			if res.FirstErr == "" {
				res.FirstErr = smp.errMsg
			}
			continue
		}
		if smp.hit {
			res.Hits++
		}
		lats = append(lats, smp.lat)
	}
	res.N = len(samples)
	res.Seconds = elapsed.Seconds()
	if res.N > 0 {
		res.RPS = float64(res.N) / elapsed.Seconds()
		res.CPUus = float64((cpu1 - cpu0).Microseconds()) / float64(res.N)
	}
	res.P50ms, res.P99ms = percentile(lats, 0.50), percentile(lats, 0.99)
	res.RSSMB = float64(rssBytes(s.pid())) / (1 << 20)
	return res, nil
}

func percentile(lats []time.Duration, p float64) float64 {
	if len(lats) == 0 {
		return 0
	}
	slices.Sort(lats)
	i := int(float64(len(lats)-1) * p)
	return float64(lats[i].Microseconds()) / 1000
}
