package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// rtResult is R1 on one contender in one round: subs guest subscribers of
// "comments/*" over PocketBase's realtime protocol (SSE + subscribe POST),
// then writes comments one at a time.
type rtResult struct {
	Round      int       `json:"round"`
	Contender  string    `json:"contender"`
	Subs       int       `json:"subs"`
	Connected  int       `json:"connected"`
	WriterMs   []float64 `json:"writer_ms"`   // each write's own response time
	LastMs     []float64 `json:"last_ms"`     // write sent → last subscriber received it
	MedianMs   []float64 `json:"median_ms"`   // write sent → half the subscribers received it
	Delivered  float64   `json:"delivered"`   // fraction of (write, subscriber) events received
	KBPerConn  float64   `json:"kb_per_conn"` // server RSS growth / subscribers
	ConnectSec float64   `json:"connect_s"`
	Err        string    `json:"error,omitempty"`
}

type delivery struct {
	id string
	at time.Time
}

// realtime runs R1 with subs subscribers and writes comments.
func realtime(ctx context.Context, s *server, f *fixture, round, subs, writes int, settle time.Duration) rtResult {
	res := rtResult{Round: round, Contender: s.c.Name, Subs: subs}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	sse := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}
	api := newClient(32)
	defer api.CloseIdleConnections()

	rss0 := rssBytes(s.pid())
	deliveries := make(chan delivery, subs*4)
	var connected atomic.Int64
	var firstErr atomic.Pointer[string]
	fail := func(err error) {
		msg := err.Error()
		firstErr.CompareAndSwap(nil, &msg)
	}

	// connect in parallel, at most 64 handshakes in flight
	t0 := time.Now()
	var ready sync.WaitGroup
	var readers sync.WaitGroup
	sem := make(chan struct{}, 64)
	for range subs {
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
			body := mustJSON(map[string]any{"clientId": hello.ClientID, "subscriptions": []string{"comments/*"}})
			sreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/realtime", bytes.NewReader(body))
			sreq.Header.Set("Content-Type", "application/json")
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
					case deliveries <- delivery{id: msg.Record.ID, at: at}:
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
	got := map[string][]time.Time{}
	collectorDone := make(chan struct{})
	go func() {
		defer close(collectorDone)
		for {
			select {
			case d := <-deliveries:
				mu.Lock()
				got[d.id] = append(got[d.id], d.at)
				mu.Unlock()
			case <-ctx.Done():
				return
			}
		}
	}()

	total, received := 0, 0
	for i := range writes {
		u := f.Users[i%len(f.Users)]
		body := mustJSON(map[string]any{
			"post": f.Posts[i%len(f.Posts)], "author": u.ID, "status": "visible",
			"body": fmt.Sprintf("Realtime benchmark comment %d.", i),
		})
		t0 := time.Now()
		smp, id := post(ctx, api, s.base+"/api/collections/comments/records", body, u.Token)
		if smp.errMsg != "" {
			if res.Err == "" {
				res.Err = smp.errMsg
			}
			continue
		}
		res.WriterMs = append(res.WriterMs, ms(smp.lat))
		// wait for every subscriber, at most 30 s
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			n := len(got[id])
			mu.Unlock()
			if n >= res.Connected || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		mu.Lock()
		times := slices.Clone(got[id])
		mu.Unlock()
		total += res.Connected
		received += len(times)
		if len(times) > 0 {
			slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
			res.LastMs = append(res.LastMs, ms(times[len(times)-1].Sub(t0)))
			res.MedianMs = append(res.MedianMs, ms(times[len(times)/2].Sub(t0)))
		}
		time.Sleep(200 * time.Millisecond)
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
