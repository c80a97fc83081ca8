// Command ceiling is the net/http ceiling of the benchmark: a plain net/http
// server that answers each read scenario's URL with the response bytes
// captured from Lectern, so it measures what the HTTP stack and the load
// client cost with no framework, database or JSON encoding behind them.
//
//	ceiling --http 127.0.0.1:8099 --responses capture.json
//
// capture.json maps "path?query" (exactly as the load client sends it) to the
// response body.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("http", "127.0.0.1:8099", "listen address")
	file := flag.String("responses", "capture.json", "JSON object mapping path?query to the response body")
	flag.Parse()

	raw, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	var captured map[string]string
	if err := json.Unmarshal(raw, &captured); err != nil {
		log.Fatal(err)
	}
	bodies := make(map[string][]byte, len(captured))
	for k, v := range captured {
		bodies[k] = []byte(v)
	}
	health := []byte(`{"message":"API is healthy.","code":200,"data":{}}`)

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		body, ok := bodies[key]
		if r.URL.Path == "/api/health" {
			body, ok = health, true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	log.Printf("ceiling: %d responses on http://%s", len(bodies), *addr)
	log.Fatal(http.ListenAndServe(*addr, h))
}
