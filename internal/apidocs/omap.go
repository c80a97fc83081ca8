package apidocs

import (
	"bytes"
	"encoding/json"
)

// obj is a JSON object that keeps its keys in insertion order, so the
// document reads top-down (openapi, info, paths, components) and each
// operation lists its parameters and answers in a sensible order.
type obj struct {
	keys []string
	vals map[string]any
}

// o builds an obj from alternating keys and values.
func o(kv ...any) *obj {
	m := &obj{vals: make(map[string]any, len(kv)/2)}
	for i := 0; i+1 < len(kv); i += 2 {
		m.set(kv[i].(string), kv[i+1])
	}
	return m
}

// set adds or replaces key; a nil value or an empty string removes nothing
// and adds nothing, which keeps optional keywords out of the output.
func (m *obj) set(key string, v any) *obj {
	switch t := v.(type) {
	case nil:
		return m
	case string:
		if t == "" && key != "const" && key != "default" {
			return m
		}
	case *obj:
		if t == nil {
			return m
		}
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = v
	return m
}

func (m *obj) get(key string) any { return m.vals[key] }

func (m *obj) len() int { return len(m.keys) }

// MarshalJSON writes the keys in insertion order.
func (m *obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshal(m.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping: descriptions quote rules
// with && and <, which should stay readable in the raw document.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
