package hooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/stretchr/testify/require"

	"lectern/internal/realtime"
	"lectern/internal/testkit"
)

// TestFilterLeaks asks, through the records API, every question a filter can
// ask about a record the caller may not view, and checks that the answer does
// not depend on that record. It is generated from the schema, so new
// collections and relations are covered without editing it:
//
//   - every collection as the base of a list request;
//   - every relation path from it one and two hops deep: forward single and
//     multiple relations and back-relations (`<collection>_via_<field>`);
//   - at the end of each path, the "secret" fields of the collection reached
//     (see secretFields);
//   - every comparison operator, with and without the any-match "?";
//   - every identity but the superuser.
//
// The oracle is differential: for each record H hidden from an identity and
// each secret field, every filter `path.field OP "<H's value>"` is asked
// twice — once as the fixture holds it, once after H's field was changed to
// another value behind the API's back. A caller who may not view H must get
// the same status, total and items both times, whatever the operator.
// (Guessing right or wrong is the same question: the answer for the truth
// must equal the answer in a world where the truth is something else.)
func TestFilterLeaks(t *testing.T) {
	app := fixture.NewApp(t)
	defer app.Cleanup()
	app.Settings().Logs.MaxDays = 0 // no request log: tens of thousands of requests
	h, err := testkit.Handler(app)
	require.NoError(t, err)

	s := newLeakSchema(t, app)
	identities := slices.DeleteFunc(testkit.Identities(), func(id string) bool { return id == testkit.Superuser })

	questions, refused, rounds, leaks := 0, 0, 0, 0
	for _, target := range s.names {
		for _, hidden := range s.records[target] {
			for _, field := range secretFields(hidden) {
				value := hidden.GetString(field)
				var asks []leakAsk
				for _, identity := range identities {
					if s.canView(t, app, identity, hidden) {
						continue
					}
					for _, p := range s.pathsTo[target] {
						for _, op := range leakOps {
							asks = append(asks, leakAsk{identity: identity, base: p.base,
								filter: fmt.Sprintf("%s.%s %s %s", p.path, field, op, strconv.Quote(likeSafe(op, value)))})
						}
					}
				}
				if len(asks) == 0 {
					continue
				}
				rounds++
				began := time.Now()
				before := askAll(h, asks)
				setRaw(t, app, target, hidden.Id, field, "zzmoved"+hidden.Id)
				after := askAll(h, asks)
				setRaw(t, app, target, hidden.Id, field, value)
				t.Logf("%s %s.%s: %d questions in %s", target, hidden.Id, field, len(asks), time.Since(began).Round(time.Millisecond))
				for i, a := range asks {
					questions++
					if before[i].status == http.StatusBadRequest {
						refused++
					}
					if before[i] != after[i] && leaks < 20 {
						leaks++
						t.Errorf("%s learns %s %s.%s of %s: GET %s ?filter=%s answered %v, and %v once the value moved",
							a.identity, target, hidden.Id, field, target, a.base, a.filter, before[i], after[i])
					}
				}
				if leaks > 0 {
					t.FailNow() // one leaking round says it all
				}
			}
		}
	}
	t.Logf("%d rounds, %d questions (%d refused with a 400), %d paths", rounds, questions, refused, s.pathCount)
	require.Greater(t, questions-refused, 0, "no filter was answered: the test would pass whatever the rules")
}

// leakOps are PocketBase's comparison operators, every-match and any-match.
var leakOps = []string{"=", "!=", "~", "!~", "<", "<=", ">", ">=", "?=", "?!=", "?~", "?!~", "?<", "?<=", "?>", "?>="}

// likeSafe keeps a LIKE guess a plain substring (PocketBase wraps it in %…%
// unless it holds a % itself).
func likeSafe(op, v string) string {
	if strings.Contains(op, "~") {
		v = strings.ReplaceAll(v, "%", "")
		if len(v) > 40 {
			v = v[:40]
		}
	}
	return v
}

// secretFields are the fields of a record whose values the test guesses:
// its single relations (who wrote it, who is enrolled, which course) and its
// first editor or text field with a value (a body, else a title). Empty
// values are no secret.
func secretFields(r *core.Record) []string {
	var out []string
	var text string
	for _, f := range r.Collection().Fields {
		if f.GetHidden() || f.GetSystem() || r.GetString(f.GetName()) == "" {
			continue
		}
		switch ff := f.(type) {
		case *core.EditorField:
			if text == "" || r.Collection().Fields.GetByName(text).Type() != core.FieldTypeEditor {
				text = ff.Name
			}
		case *core.TextField:
			if text == "" && ff.Name != "slug" {
				text = ff.Name
			}
		case *core.RelationField:
			if !ff.IsMultiple() {
				out = append(out, ff.Name)
			}
		}
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

type leakPath struct{ base, path string }

type leakSchema struct {
	names     []string
	colls     map[string]*core.Collection
	records   map[string][]*core.Record
	pathsTo   map[string][]leakPath // target collection → paths reaching it
	pathCount int
	users     map[string]*core.Record // identity → auth record
}

// hopsFrom lists the relation hops out of c: its relation fields and every
// back-relation pointing at it.
func (s *leakSchema) hopsFrom(c *core.Collection) (hops []struct{ name, target string }) {
	for _, f := range c.Fields {
		if r, ok := f.(*core.RelationField); ok && !r.GetHidden() {
			if t := s.byID(r.CollectionId); t != nil {
				hops = append(hops, struct{ name, target string }{r.Name, t.Name})
			}
		}
	}
	for _, other := range s.names {
		for _, f := range s.colls[other].Fields {
			if r, ok := f.(*core.RelationField); ok && !r.GetHidden() && r.CollectionId == c.Id {
				hops = append(hops, struct{ name, target string }{other + "_via_" + r.Name, other})
			}
		}
	}
	return hops
}

func (s *leakSchema) byID(id string) *core.Collection {
	for _, c := range s.colls {
		if c.Id == id {
			return c
		}
	}
	return nil
}

func newLeakSchema(t *testing.T, app *tests.TestApp) *leakSchema {
	t.Helper()
	s := &leakSchema{colls: map[string]*core.Collection{}, records: map[string][]*core.Record{},
		pathsTo: map[string][]leakPath{}, users: map[string]*core.Record{}}
	all, err := app.FindAllCollections(core.CollectionTypeBase, core.CollectionTypeAuth)
	require.NoError(t, err)
	for _, c := range all {
		if c.System || strings.HasPrefix(c.Name, "_") {
			continue
		}
		s.names = append(s.names, c.Name)
		s.colls[c.Name] = c
		recs, err := app.FindAllRecords(c)
		require.NoError(t, err)
		s.records[c.Name] = recs
	}
	sort.Strings(s.names)
	for _, base := range s.names {
		for _, h1 := range s.hopsFrom(s.colls[base]) {
			s.pathsTo[h1.target] = append(s.pathsTo[h1.target], leakPath{base, h1.name})
			s.pathCount++
			for _, h2 := range s.hopsFrom(s.colls[h1.target]) {
				s.pathsTo[h2.target] = append(s.pathsTo[h2.target], leakPath{base, h1.name + "." + h2.name})
				s.pathCount++
			}
		}
	}
	for _, id := range testkit.Identities() {
		if id == testkit.Guest || id == testkit.Superuser {
			continue
		}
		u, err := app.FindAuthRecordByEmail("users", id+"@lectern.test")
		require.NoError(t, err)
		s.users[id] = u
	}
	return s
}

// canView reports whether identity may view r, by the collection's view rule.
func (s *leakSchema) canView(t *testing.T, app core.App, identity string, r *core.Record) bool {
	t.Helper()
	info := &core.RequestInfo{Context: core.RequestInfoContextDefault, Method: http.MethodGet, Auth: s.users[identity]}
	ok, err := app.CanAccessRecord(r, info, r.Collection().ViewRule)
	require.NoError(t, err)
	return ok
}

// setRaw changes one column without hooks, as if the hidden record had been
// written differently.
func setRaw(t *testing.T, app core.App, table, id, field, value string) {
	t.Helper()
	_, err := app.DB().Update(table, dbx.Params{field: value}, dbx.HashExp{"id": id}).Execute()
	require.NoError(t, err)
}

var askSeq atomic.Uint32

type leakAsk struct{ identity, base, filter string }

// leakAnswer is what a caller sees of a list: status, total and the items' ids.
type leakAnswer struct {
	status int
	total  int
	ids    string
}

func askAll(h http.Handler, asks []leakAsk) []leakAnswer {
	out := make([]leakAnswer, len(asks))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = ask(h, asks[i])
			}
		}()
	}
	for i := range asks {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func ask(h http.Handler, a leakAsk) leakAnswer {
	q := url.Values{"filter": {a.filter}, "perPage": {"200"}, "fields": {"id"}, "sort": {"id"}}
	req := httptest.NewRequest(http.MethodGet, "/api/collections/"+a.base+"/records?"+q.Encode(), nil)
	// a client address of its own: PocketBase throttles a client whose
	// filtered lists come back empty more than 3 times in 3 s (by up to 500 ms)
	n := askSeq.Add(1)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", n>>16&255, n>>8&255, n&255)
	if tok := fixture.Tokens[a.identity]; tok != "" {
		req.Header.Set("Authorization", tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	ans := leakAnswer{status: rec.Code}
	if rec.Code == http.StatusOK {
		var body struct {
			TotalItems int `json:"totalItems"`
			Items      []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &body) == nil {
			ans.total = body.TotalItems
			ids := make([]string, len(body.Items))
			for i, it := range body.Items {
				ids[i] = it.ID
			}
			ans.ids = strings.Join(ids, ",")
		}
	}
	return ans
}

// TestFilterLeaksRealtime asks the questions of TestFilterLeaks through a
// realtime subscription's filter option, as the JS SDK's
// subscribe("*", cb, { filter }) sends it: POST /api/realtime either refuses
// the subscription with a 400, or the events it delivers after every record
// of the base collection is saved are the same whether the hidden record
// holds the guessed value or another one. One hidden record per collection,
// a guest and a signed-in student who may not view it, every path and
// operator.
func TestFilterLeaksRealtime(t *testing.T) {
	// PocketBase's broadcast alone, and as `serve` runs it: with
	// internal/realtime's groups of identical clients and its memo of filter
	// queries, where a shared answer reaching the wrong client would leak
	for _, withPackage := range []bool{false, true} {
		name := "pocketbase"
		if withPackage {
			name = "internal/realtime"
		}
		t.Run(name, func(t *testing.T) { filterLeaksRealtime(t, withPackage) })
	}
}

func filterLeaksRealtime(t *testing.T, withPackage bool) {
	app := fixture.NewApp(t)
	defer app.Cleanup()
	if withPackage {
		realtime.Register(app) // before the router, as main.go
	}
	app.Settings().Logs.MaxDays = 0
	app.Settings().RateLimits.Enabled = false // thousands of subscribe requests from one address
	h, err := testkit.Handler(app)
	require.NoError(t, err)
	s := newLeakSchema(t, app)
	identities := []string{testkit.Guest, testkit.Student2}

	subscribed, refused := 0, 0
	for _, target := range s.names {
		hidden, field, value := s.hiddenFromAll(t, app, target, identities)
		if hidden == nil {
			continue
		}
		for _, identity := range identities {
			var subs []string
			for _, p := range s.pathsTo[target] {
				for _, op := range leakOps {
					f := fmt.Sprintf("%s.%s %s %s", p.path, field, op, strconv.Quote(likeSafe(op, value)))
					opts, _ := json.Marshal(map[string]any{"query": map[string]string{"filter": f}})
					subs = append(subs, p.base+"/*?options="+url.QueryEscape(string(opts)))
				}
			}
			before := realtimeAnswers(t, app, h, s, identity, subs)
			setRaw(t, app, target, hidden.Id, field, "zzmoved"+hidden.Id)
			after := realtimeAnswers(t, app, h, s, identity, subs)
			setRaw(t, app, target, hidden.Id, field, value)
			for i, sub := range subs {
				subscribed++
				if before[i] == "refused" {
					refused++
				}
				if before[i] != after[i] {
					t.Errorf("%s learns %s %s.%s through realtime: %s delivered %q, and %q once the value moved",
						identity, target, hidden.Id, field, sub, before[i], after[i])
				}
			}
			if t.Failed() {
				t.FailNow() // one leaking identity says it all
			}
		}
	}
	t.Logf("%d subscriptions (%d refused with a 400)", subscribed, refused)
	require.Greater(t, subscribed-refused, 0, "no subscription was accepted: the test would pass whatever the rules")
}

// hiddenFromAll picks a record of target none of identities may view, and a
// secret field of it with a value.
func (s *leakSchema) hiddenFromAll(t *testing.T, app core.App, target string, identities []string) (*core.Record, string, string) {
	for _, r := range s.records[target] {
		visible := false
		for _, id := range identities {
			if id != testkit.Guest && s.canView(t, app, id, r) || id == testkit.Guest && s.canViewGuest(t, app, r) {
				visible = true
			}
		}
		if visible {
			continue
		}
		if fs := secretFields(r); len(fs) > 0 {
			f := fs[len(fs)-1] // the text one when there is one
			return r, f, r.GetString(f)
		}
	}
	return nil, "", ""
}

func (s *leakSchema) canViewGuest(t *testing.T, app core.App, r *core.Record) bool {
	ok, err := app.CanAccessRecord(r, &core.RequestInfo{Method: http.MethodGet}, r.Collection().ViewRule)
	require.NoError(t, err)
	return ok
}

// realtimeAnswers subscribes identity to each of subs on its own client
// (a refused one answers "refused"), saves every record of the base
// collections, and returns, per subscription, the ids it received.
func realtimeAnswers(t *testing.T, app *tests.TestApp, h http.Handler, s *leakSchema, identity string, subs []string) []string {
	t.Helper()
	out := make([]string, len(subs))
	clients := make([]subscriptions.Client, len(subs))
	bases := map[string]bool{}
	for i, sub := range subs {
		c := subscriptions.NewDefaultClient()
		app.SubscriptionsBroker().Register(c)
		defer app.SubscriptionsBroker().Unregister(c.Id())
		body, _ := json.Marshal(map[string]any{"clientId": c.Id(), "subscriptions": []string{sub}})
		req := httptest.NewRequest(http.MethodPost, "/api/realtime", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if tok := fixture.Tokens[identity]; tok != "" {
			req.Header.Set("Authorization", tok)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent:
			clients[i] = c
			base, _, _ := strings.Cut(sub, "/")
			bases[base] = true
		case http.StatusBadRequest:
			out[i] = "refused"
		default:
			t.Fatalf("subscribe %s as %s: %d %s", sub, identity, rec.Code, rec.Body.String())
		}
	}
	for base := range bases {
		for _, r := range s.records[base] {
			fresh, err := app.FindRecordById(base, r.Id)
			require.NoError(t, err)
			// announce it as saved unchanged: PocketBase's realtime broadcast
			// runs as after any update (a real save could be refused while a
			// relation id is moved)
			ev := &core.ModelEvent{App: app, Context: context.Background(), Type: core.ModelEventTypeUpdate, Model: fresh}
			require.NoError(t, app.OnModelAfterUpdateSuccess().Trigger(ev))
		}
	}
	// PocketBase hands each message to its client from a goroutine of its
	// own: read every channel until nothing more arrives
	var mu sync.Mutex
	got := make([][]string, len(clients))
	received := 0
	for i, c := range clients {
		if c == nil {
			continue
		}
		go func() {
			for m := range c.Channel() { // closed by Unregister
				var data struct {
					Record struct {
						ID string `json:"id"`
					} `json:"record"`
				}
				_ = json.Unmarshal(m.Data, &data)
				mu.Lock()
				got[i] = append(got[i], data.Record.ID)
				received++
				mu.Unlock()
			}
		}()
	}
	for last := -1; ; {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		n := received
		mu.Unlock()
		if n == last {
			break
		}
		last = n
	}
	mu.Lock()
	defer mu.Unlock()
	for i, c := range clients {
		if c != nil {
			sort.Strings(got[i])
			out[i] = strings.Join(got[i], ",")
		}
	}
	return out
}
