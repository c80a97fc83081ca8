package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// acceptEncoding is what the load client's GETs (and the ceiling's capture)
// send: Chrome's and Firefox's value, so a server that compresses may do so,
// as it would for a browser.
const acceptEncoding = "gzip, deflate, br, zstd"

// request is one request of a cell.
type request struct {
	method string
	path   string // path?query
	body   []byte
	token  string
	// cookie is sent as a Cookie header: what keeps a guest's read out of
	// Lectern's response cache (the "uncached guest" of the signed-in
	// scenarios)
	cookie string
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
	ClientCPU float64 `json:"client_cpu_us_per_req"` // the bench process's own CPU (getrusage), the load client's cost
	RSSMB     float64 `json:"rss_mb"`
	Hits      int     `json:"cache_hits"`
	FirstErr  string  `json:"first_error,omitempty"`
	// Scale is the posts of the extra data set (--scales) the cell ran on;
	// 0 on the main one
	Scale int `json:"scale_posts,omitempty"`
}

func (r cellResult) key() string {
	return fmt.Sprintf("%s c%d%s", r.Scenario, r.Conc, scaleSuffix(r.Scale))
}

// newClient is a net/http client with keep-alive connections, for the
// fixture capture and R1; the cells use loadConn, which costs the bench
// process far less CPU per request.
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

// loadConn is the load client of the cells: one keep-alive HTTP/1.1
// connection per worker, requests written from a reused buffer in one write,
// responses parsed only as far as HTTP needs to frame them (status line,
// Content-Length or chunked encoding, Connection) plus the X-Cache header;
// bodies are read and dropped (compressed or not: nothing decodes them). A
// GET says Accept-Encoding as a browser does. The same code drives every
// contender.
type loadConn struct {
	addr     string
	deadline time.Time // of every read and write: the pass's end plus a minute
	c        net.Conn
	br       *bufio.Reader
	wbuf     []byte
	reused   bool // a response was read on c already
	all      *connSet
}

// connSet holds every connection a cell dialed, so a cancel can close them
// under the workers.
type connSet struct {
	mu    sync.Mutex
	conns []net.Conn
	done  bool
}

func (cs *connSet) add(c net.Conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.done {
		return false
	}
	cs.conns = append(cs.conns, c)
	return true
}

func (cs *connSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.done = true
	for _, c := range cs.conns {
		c.Close()
	}
	cs.conns = nil
}

func (k *loadConn) close() {
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}

func (k *loadConn) dial(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", k.addr)
	if err != nil {
		return err
	}
	if !k.all.add(c) {
		c.Close()
		return context.Canceled
	}
	if err := c.SetDeadline(k.deadline); err != nil {
		c.Close()
		return err
	}
	k.c, k.reused = c, false
	if k.br == nil {
		k.br = bufio.NewReaderSize(c, 64<<10)
	} else {
		k.br.Reset(c)
	}
	return nil
}

// do sends rq and reads the response; it retries a GET once on a fresh
// connection when a reused one fails before any response byte (the server
// closed it while idle).
func (k *loadConn) do(ctx context.Context, rq request, want int) sample {
	t0 := time.Now()
	smp, fresh := k.try(ctx, rq, want)
	if !smp.ok && !fresh && rq.method == http.MethodGet {
		smp, _ = k.try(ctx, rq, want)
	}
	smp.lat = time.Since(t0)
	return smp
}

// try reports whether a failure happened before the response started on a
// reused connection (false: retrying may help).
func (k *loadConn) try(ctx context.Context, rq request, want int) (sample, bool) {
	if k.c == nil {
		if err := k.dial(ctx); err != nil {
			return sample{errMsg: err.Error()}, true
		}
	}
	b := append(k.wbuf[:0], rq.method...)
	b = append(b, ' ')
	b = append(b, rq.path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, k.addr...)
	b = append(b, "\r\n"...)
	if rq.method == http.MethodGet {
		b = append(b, "Accept-Encoding: "+acceptEncoding+"\r\n"...)
	}
	if rq.token != "" {
		b = append(b, "Authorization: "...)
		b = append(b, rq.token...)
		b = append(b, "\r\n"...)
	}
	if rq.cookie != "" {
		b = append(b, "Cookie: "...)
		b = append(b, rq.cookie...)
		b = append(b, "\r\n"...)
	}
	if rq.body != nil {
		b = append(b, "Content-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(rq.body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, rq.body...)
	k.wbuf = b
	fresh := !k.reused
	if _, err := k.c.Write(b); err != nil {
		k.close()
		return sample{errMsg: err.Error()}, fresh
	}
	status, hit, body, started, err := k.read(rq.method, want)
	if err != nil {
		k.close()
		return sample{errMsg: fmt.Sprintf("%s %s: %v", rq.method, rq.path, err)}, fresh || started
	}
	k.reused = true
	if status != want {
		msg := string(body)
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return sample{errMsg: fmt.Sprintf("%s %s: %d %s", rq.method, rq.path, status, msg)}, true
	}
	return sample{ok: true, hit: hit}, true
}

var errMalformed = errors.New("malformed response")

// read reads one response. It returns the body only when the status is not
// want (for the error message); a 200 must have a body. started reports
// whether any of the response had arrived.
func (k *loadConn) read(method string, want int) (status int, hit bool, body []byte, started bool, err error) {
	line, err := k.br.ReadSlice('\n')
	if err != nil {
		return 0, false, nil, len(line) > 0, err
	}
	started = true
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, nil, true, errMalformed
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, nil, true, errMalformed
	}
	length, chunked, closing := int64(-1), false, line[7] == '0'
	for {
		line, err = k.br.ReadSlice('\n')
		if err != nil {
			return 0, false, nil, true, err
		}
		if len(line) <= 2 {
			break // the blank line
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, nil, true, errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, nil, true, errMalformed
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("X-Cache")):
			hit = string(value) == "HIT"
		}
	}
	var buf *bytes.Buffer
	if status != want {
		buf = &bytes.Buffer{}
	}
	n := int64(0)
	switch {
	case method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified || status < 200:
	case chunked:
		n, err = k.chunked(buf)
	case length >= 0:
		n, err = k.body(length, buf)
	default: // the body runs to the end of the connection
		n, err = k.body(-1, buf)
		closing = true
	}
	if err != nil {
		return 0, false, nil, true, err
	}
	if closing {
		k.close()
	}
	if status == http.StatusOK && n == 0 && method != http.MethodHead {
		return 0, false, nil, true, errors.New("200 with an empty body")
	}
	if buf != nil {
		body = buf.Bytes()
	}
	return status, hit, body, true, nil
}

// body reads n bytes (to EOF when n < 0) into keep, or drops them.
func (k *loadConn) body(n int64, keep *bytes.Buffer) (int64, error) {
	if n < 0 {
		if keep != nil {
			return keep.ReadFrom(k.br)
		}
		return io.Copy(io.Discard, k.br)
	}
	if keep != nil {
		return io.CopyN(keep, k.br, n)
	}
	d, err := k.br.Discard(int(n))
	return int64(d), err
}

// chunked reads a chunked body and its trailer.
func (k *loadConn) chunked(keep *bytes.Buffer) (int64, error) {
	total := int64(0)
	for {
		line, err := k.br.ReadSlice('\n')
		if err != nil {
			return total, err
		}
		hexSize, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		size, err := strconv.ParseInt(string(hexSize), 16, 64)
		if err != nil || size < 0 {
			return total, errMalformed
		}
		if size == 0 {
			for { // trailer fields, then the blank line
				line, err := k.br.ReadSlice('\n')
				if err != nil {
					return total, err
				}
				if len(line) <= 2 {
					return total, nil
				}
			}
		}
		if _, err := k.body(size, keep); err != nil {
			return total, err
		}
		total += size
		if crlf, err := k.br.ReadSlice('\n'); err != nil || len(crlf) > 2 {
			return total, errMalformed
		}
	}
}

// run executes c against s and measures it.
func (c cell) run(ctx context.Context, s *server, round int) (cellResult, error) {
	want := c.wantStatus
	if want == 0 {
		want = http.StatusOK
	}
	all := &connSet{}
	conns := make([]*loadConn, c.conc)
	for w := range conns {
		conns[w] = &loadConn{addr: s.addr, all: all}
	}
	stop := context.AfterFunc(ctx, all.closeAll)
	defer func() {
		stop()
		all.closeAll()
	}()
	res := cellResult{Round: round, Contender: s.c.Name, Scenario: c.scenario, Conc: c.conc}

	var idx atomic.Int64
	// one worker pass: requests [from, to) or until the deadline
	pass := func(to int, deadline time.Time, keep bool) ([]sample, time.Duration) {
		var mu sync.Mutex
		var all []sample
		var wg sync.WaitGroup
		t0 := time.Now()
		for w := range c.conc {
			k := conns[w]
			k.deadline = deadline.Add(time.Minute)
			if k.c != nil {
				_ = k.c.SetDeadline(k.deadline)
			}
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
					smp := k.do(ctx, rq, want)
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
	self0 := selfCPU()
	samples, elapsed := pass(c.warm+c.count, time.Now().Add(c.cap), true)
	self1 := selfCPU()
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
		res.ClientCPU = float64((self1 - self0).Microseconds()) / float64(res.N)
	}
	res.P50ms, res.P99ms = percentile(lats, 0.50), percentile(lats, 0.99)
	res.RSSMB = float64(rssBytes(s.pid())) / (1 << 20)
	return res, nil
}

// selfCPU is the bench process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func percentile(lats []time.Duration, p float64) float64 {
	if len(lats) == 0 {
		return 0
	}
	slices.Sort(lats)
	i := int(float64(len(lats)-1) * p)
	return float64(lats[i].Microseconds()) / 1000
}
