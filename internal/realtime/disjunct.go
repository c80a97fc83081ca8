package realtime

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ganigeorgiev/fexpr"
)

// A rule `A || B || …` holds for a record as soon as one disjunct does. When a
// disjunct A reads nothing of the request (no @request.* at all: not the
// caller, query, headers, body, method or context), its answer for a record
// is everyone's, so an event asks it once (with no auth) and grants the rule
// to every caller when it holds; otherwise each caller's own check runs as
// before. For the comments' rule, `(visible on a published post) || (the
// caller is involved)`, a visible comment costs one query for all the
// signed-in readers instead of one each.
//
// Why evaluating A alone is sound: PocketBase builds the rule's SQL from
// fexpr's groups joined in order with AND/OR (search.buildParsedFilterExpr),
// each group enclosed or a single comparison, so with every top-level join an
// `||` the rule is `A OR B OR …`. Its joins are LEFT JOINs, which keep every
// row A's own joins make, so a record that satisfies A alone satisfies the
// whole rule (SQL's TRUE OR NULL is TRUE).

// publicDisjuncts returns the rule texts of the top-level disjuncts of rule
// that read nothing of the request, or nil when rule cannot be split soundly.
// A split is kept per rule text: there are as many as collections' rules.
func publicDisjuncts(rule string) []string {
	if v, ok := disjuncts.Load(rule); ok {
		return v.([]string)
	}
	d := splitPublic(rule, 0)
	disjuncts.Store(rule, d)
	return d
}

var disjuncts sync.Map // rule text → []string

func splitPublic(rule string, depth int) []string {
	if depth > 8 {
		return nil
	}
	if _, err := fexpr.Parse(rule); err != nil {
		return nil // PocketBase refuses it too: nothing to shortcut
	}
	var tokens []fexpr.Token
	s := fexpr.NewScanner([]byte(rule))
	for {
		t, err := s.Scan()
		if err != nil {
			return nil
		}
		if t.Type == fexpr.TokenEOF {
			break
		}
		if t.Type != fexpr.TokenWS && t.Type != fexpr.TokenComment {
			tokens = append(tokens, t)
		}
	}
	// `(A || B)` is the rule `A || B`
	if len(tokens) == 1 && tokens[0].Type == fexpr.TokenGroup {
		return splitPublic(tokens[0].Literal, depth+1)
	}
	var segments [][]fexpr.Token
	start := 0
	for i, t := range tokens {
		if t.Type != fexpr.TokenJoin {
			continue
		}
		if t.Literal != "||" {
			return nil // an && at the top binds tighter than the ||s around it
		}
		segments = append(segments, tokens[start:i])
		start = i + 1
	}
	segments = append(segments, tokens[start:])

	var out []string
	for _, seg := range segments {
		if text, ok := segmentText(seg); ok && readsNoRequest(text) {
			out = append(out, text)
		}
	}
	return out
}

// segmentText is a rule text that parses as the segment does, or false.
func segmentText(seg []fexpr.Token) (string, bool) {
	switch {
	case len(seg) == 1 && seg[0].Type == fexpr.TokenGroup:
		// the group's text as written: PocketBase parses it as a rule of its own
		return seg[0].Literal, true
	case len(seg) == 3 && seg[1].Type == fexpr.TokenSign:
		l, lok := operandText(seg[0])
		r, rok := operandText(seg[2])
		if !lok || !rok {
			return "", false
		}
		text := l + " " + seg[1].Literal + " " + r
		// written back, it must scan to the very same tokens
		got := fexpr.NewScanner([]byte(text))
		for _, want := range seg {
			t, err := got.Scan()
			for err == nil && t.Type == fexpr.TokenWS {
				t, err = got.Scan()
			}
			if err != nil || t.Type != want.Type || t.Literal != want.Literal {
				return "", false
			}
		}
		if t, err := got.Scan(); err != nil || t.Type != fexpr.TokenEOF {
			return "", false
		}
		return text, true
	}
	return "", false
}

func operandText(t fexpr.Token) (string, bool) {
	switch t.Type {
	case fexpr.TokenIdentifier, fexpr.TokenNumber:
		return t.Literal, true
	case fexpr.TokenText:
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(t.Literal) + `"`, true
	}
	return "", false // functions are not written back
}

// readsNoRequest reports whether rule has no @request.* operand anywhere,
// function arguments included (an operand of an unknown shape counts as
// reading the request).
func readsNoRequest(rule string) bool {
	groups, err := fexpr.Parse(rule)
	if err != nil {
		return false
	}
	return groupsReadNoRequest(groups)
}

func groupsReadNoRequest(groups []fexpr.ExprGroup) bool {
	for _, g := range groups {
		switch item := g.Item.(type) {
		case fexpr.Expr:
			if !tokenReadsNoRequest(item.Left) || !tokenReadsNoRequest(item.Right) {
				return false
			}
		case []fexpr.ExprGroup:
			if !groupsReadNoRequest(item) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func tokenReadsNoRequest(t fexpr.Token) bool {
	switch t.Type {
	case fexpr.TokenText, fexpr.TokenNumber:
		return true // values, never resolved
	case fexpr.TokenIdentifier:
		return !strings.Contains(strings.ToLower(t.Literal), "@request")
	case fexpr.TokenFunction:
		args, ok := t.Meta.([]fexpr.Token)
		if !ok {
			return false
		}
		for _, a := range args {
			if !tokenReadsNoRequest(a) {
				return false
			}
		}
		return true
	}
	return false
}

// noShortcut turns publicGrant off for the events that begin after it is set:
// the tests compare what is sent with and without it.
var noShortcut atomic.Bool
