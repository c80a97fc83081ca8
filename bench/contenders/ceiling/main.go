// Command ceiling is the net/http ceiling of the benchmark: a plain net/http
// server that answers each read scenario's URL with the response bytes
// captured from Lectern, so it measures what the HTTP stack and the load
// client cost with no framework, database or JSON encoding behind them.
//
//	ceiling --http 127.0.0.1:8099 --responses capture.json
//
// capture.json maps "path?query" (exactly as the load client sends it) to
// {"body": identity bytes, "gzip": gzip bytes or absent}, base64 in JSON. A
// request whose Accept-Encoding mentions gzip gets the gzip bytes when there
// are some, as it does from Lectern's cache (the load client always sends
// one; the ceiling does not parse q-values).
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
)

type captured struct {
	Body []byte `json:"body"`
	Gzip []byte `json:"gzip,omitempty"`
}

func main() {
	addr := flag.String("http", "127.0.0.1:8099", "listen address")
	file := flag.String("responses", "capture.json", `JSON object mapping path?query to {"body", "gzip"}`)
	flag.Parse()

	raw, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	var responses map[string]captured
	if err := json.Unmarshal(raw, &responses); err != nil {
		log.Fatal(err)
	}
	health := captured{Body: []byte(`{"message":"API is healthy.","code":200,"data":{}}`)}
	gzipValue := []string{"gzip"}

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		res, ok := responses[key]
		if r.URL.Path == "/api/health" {
			res, ok = health, true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		body := res.Body
		w.Header().Set("Content-Type", "application/json")
		if res.Gzip != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			body = res.Gzip
			w.Header()["Content-Encoding"] = gzipValue
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	log.Printf("ceiling: %d responses on http://%s", len(responses), *addr)
	log.Fatal(http.ListenAndServe(*addr, h))
}
