package realtime_test

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
)

// readSSE reads PocketBase's realtime stream from body until it ends: the
// PB_CONNECT event's client id goes to hello, every record message to
// onMessage with its topic. The tests' two kinds of connection (realtime_test's
// sse, visibility_test's watcher) keep different parts of a message; the
// protocol is read here once.
func readSSE(body io.Reader, hello chan<- string, onMessage func(topic, action string, record map[string]any)) {
	rd := bufio.NewReader(body)
	var name, data string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimSpace(line[len("data:"):])
		case line == "" && name != "":
			if name == "PB_CONNECT" {
				var c struct{ ClientID string }
				_ = json.Unmarshal([]byte(data), &c)
				hello <- c.ClientID
			} else {
				var m struct {
					Action string         `json:"action"`
					Record map[string]any `json:"record"`
				}
				if json.Unmarshal([]byte(data), &m) == nil {
					onMessage(name, m.Action, m.Record)
				}
			}
			name, data = "", ""
		}
	}
}
