package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadConn drives the cells' HTTP/1.1 client against net/http: sized and
// chunked bodies, X-Cache, error statuses, a server that closes the
// connection, request bodies and tokens, and the GETs' Accept-Encoding.
func TestLoadConn(t *testing.T) {
	big := strings.Repeat("x", 200_000)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sized":
			if r.Header.Get("Accept-Encoding") != acceptEncoding {
				http.Error(w, "no Accept-Encoding", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			w.Header().Set("X-Cache", "HIT")
			io.WriteString(w, big)
		case "/chunked": // no length: net/http chunks it
			for range 20 {
				io.WriteString(w, big[:10_000])
				w.(http.Flusher).Flush()
			}
		case "/empty":
		case "/missing":
			http.Error(w, `{"message":"not here"}`, http.StatusNotFound)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "/post":
			b, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || r.Header.Get("Authorization") != "tok" || string(b) != `{"a":1}` {
				http.Error(w, "bad post", http.StatusBadRequest)
				return
			}
			io.WriteString(w, "{}")
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	all := &connSet{}
	defer all.closeAll()
	k := &loadConn{addr: srv.Listener.Addr().String(), all: all, deadline: time.Now().Add(time.Minute)}
	ctx := context.Background()
	get := func(path string) sample { return k.do(ctx, request{method: http.MethodGet, path: path}, http.StatusOK) }

	for range 3 {
		if s := get("/sized"); !s.ok || !s.hit {
			t.Fatalf("sized: %+v", s)
		}
		if s := get("/chunked"); !s.ok || s.hit {
			t.Fatalf("chunked: %+v", s)
		}
	}
	if s := get("/missing"); s.ok || !strings.Contains(s.errMsg, "404") || !strings.Contains(s.errMsg, "not here") {
		t.Fatalf("missing: %+v", s)
	}
	if s := get("/empty"); s.ok {
		t.Fatalf("a 200 without a body passed: %+v", s)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1 (kept alive)", n)
	}
	if s := get("/close"); !s.ok {
		t.Fatalf("close: %+v", s)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2 (a new one after the error)", n)
	}
	if s := get("/sized"); !s.ok {
		t.Fatalf("after close: %+v", s)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
	post := k.do(ctx, request{method: http.MethodPost, path: "/post", body: []byte(`{"a":1}`), token: "tok"}, http.StatusOK)
	if !post.ok {
		t.Fatalf("post: %+v", post)
	}

	// the server drops the idle connection: a GET is retried on a new one
	srv.CloseClientConnections()
	time.Sleep(10 * time.Millisecond)
	if s := get("/sized"); !s.ok {
		t.Fatalf("after the server closed the connection: %+v", s)
	}
}
