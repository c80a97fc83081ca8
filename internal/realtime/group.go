package realtime

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// Grouping: PocketBase's broadcast of a created or updated record works
// client by client, and everything it computes for a client — the rule check,
// the subscription's filter query (one SQL query each, apis/realtime.go
// realtimeCanAccessRecord), the record's copy, enrich hooks, expand with the
// client's rights, the fields picker, the JSON encoding — is a function of
// two things the client holds and nothing else: its auth record (the store's
// "auth" key) and its subscriptions to the record's collection (the topic
// strings; a topic's options, and so its query, headers, filter, expand and
// fields, are parsed from the string). Clients holding equal values of both
// are therefore sent equal messages.
//
// So, for a record of a base or view collection, the event's broker does not
// hold every client but one groupClient per distinct (auth record state,
// subscriptions to the collection), carrying a snapshot of both, and the
// broadcast — still PocketBase's own loop, unchanged — runs once per group;
// each message it sends is handed to every member of the group. With 5,000
// guests on one post's filter that is one rule check, one filter query, one
// encoding instead of 5,000 of each; clients without a topic of the
// collection are left out, as PocketBase would skip them.
//
// What makes two clients "equal" is the whole point, so the key is strict:
//   - the auth record's collection, id and full state (authState: every field
//     value, hidden ones included, custom data and expand): a guest, a
//     student, the post's author, an admin, a superuser, and one user before
//     and after a role change are all different groups;
//   - every topic of the collection, verbatim (any difference in expand,
//     fields, filter, headers makes another group).
//
// Records of auth collections are not grouped: PocketBase's handler that
// refreshes or signs out the connections of an updated user runs in the same
// event and sets each client's store, and their email visibility depends on
// who the client is. They keep one wrapper per client (eventClient).

// groupClient stands for the clients of one event that hold equal auth and
// subscriptions. PocketBase's broadcast only reads its auth (Get), its
// subscriptions and sends to it.
type groupClient struct {
	id      string
	auth    *core.Record                                 // snapshot, shared by every member
	subs    map[string]subscriptions.SubscriptionOptions // snapshot of the topics of the collection
	members []subscriptions.Client
	fanout  *fanout

	mu    sync.Mutex
	store map[string]any // anything else set on the group during the event
}

var _ subscriptions.Client = (*groupClient)(nil)

func (g *groupClient) Id() string { return g.id }

// Channel is never read: messages go to the members' channels.
func (g *groupClient) Channel() chan subscriptions.Message { return nil }

// Subscriptions filters the snapshot as subscriptions.DefaultClient does.
func (g *groupClient) Subscriptions(prefixes ...string) map[string]subscriptions.SubscriptionOptions {
	out := make(map[string]subscriptions.SubscriptionOptions, len(g.subs))
	for s, o := range g.subs {
		if len(prefixes) == 0 {
			out[s] = o
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(s+"?", p) {
				out[s] = o
				break
			}
		}
	}
	return out
}

func (g *groupClient) HasSubscription(sub string) bool { _, ok := g.subs[sub]; return ok }

// Subscribe and Unsubscribe would change one event's snapshot only: nothing
// in the broadcast calls them, and a client's own subscribe request goes to
// the client itself, not to this event's group.
func (g *groupClient) Subscribe(...string)   {}
func (g *groupClient) Unsubscribe(...string) {}

// Get answers the auth snapshot; other keys are the group's own for the
// event (PocketBase's create/update broadcast reads no other).
func (g *groupClient) Get(key string) any {
	g.mu.Lock()
	defer g.mu.Unlock()
	if v, ok := g.store[key]; ok {
		return v
	}
	if key == apis.RealtimeClientAuthKey && g.auth != nil {
		return g.auth
	}
	return nil
}

// Set and Unset apply to every member too, so that whatever a handler does
// to "the client" reaches each real client.
func (g *groupClient) Set(key string, v any) {
	g.mu.Lock()
	if g.store == nil {
		g.store = map[string]any{}
	}
	g.store[key] = v
	g.mu.Unlock()
	for _, c := range g.members {
		c.Set(key, v)
	}
}

func (g *groupClient) Unset(key string) {
	g.mu.Lock()
	if g.store == nil {
		g.store = map[string]any{}
	}
	g.store[key] = nil
	g.mu.Unlock()
	for _, c := range g.members {
		c.Unset(key)
	}
}

// Discard is not the group's to do: members are discarded by their own
// connections.
func (g *groupClient) Discard()          {}
func (g *groupClient) IsDiscarded() bool { return false }

// Send hands m to every member, after the earlier events' messages (see
// fanout). A buffered client queues it at once; another kind may block for as
// long as its reader likes, so it gets a goroutine of its own, as PocketBase
// gives every message.
func (g *groupClient) Send(m subscriptions.Message) {
	if !g.fanout.hold(func() { g.send(m) }) {
		g.send(m)
	}
}

func (g *groupClient) send(m subscriptions.Message) {
	g.fanout.awaitEarlier()
	for _, c := range g.members {
		if _, ordered := c.(*bufferedClient); ordered {
			c.Send(m)
		} else {
			go c.Send(m)
		}
	}
	g.fanout.sent(1)
}

// groupClients groups clients by what PocketBase's broadcast of a record of
// collection reads of them, leaving out those without a topic of the
// collection. PocketBase's topics of a record all start with the
// collection's name or id (name/id, name/*, name and the same with the id,
// each followed by "?" and its options), so a client whose topics start with
// neither is sent nothing either way.
func groupClients(clients map[string]subscriptions.Client, collection *core.Collection, f *fanout, stateOf func(*core.Record) (string, error)) []*groupClient {
	// by auth state, then by topics: no key is built per client
	groups := map[string]map[string]*groupClient{}
	var order []*groupClient
	states := map[*core.Record]string{} // one client's auth record is often another's (same user)
	for _, c := range clients {
		var subs map[string]subscriptions.SubscriptionOptions
		var topics string
		if bc, ok := c.(*bufferedClient); ok {
			subs, topics = bc.topicsOf(collection.Id, collection.Name)
		} else {
			subs, topics = readTopics(c, collection.Id, collection.Name)
		}
		if len(subs) == 0 {
			continue
		}
		// as PocketBase reads it: anything but a record is a guest. The auth
		// state is read at every event, never cached on the client: a
		// record can change in place.
		auth, _ := c.Get(apis.RealtimeClientAuthKey).(*core.Record)

		state := "guest"
		if auth != nil {
			var ok bool
			if state, ok = states[auth]; !ok {
				s, err := stateOf(auth)
				if err != nil || auth.Collection() == nil {
					// cannot fingerprint it: a group of its own
					s = "unique:" + c.Id()
				} else {
					// "auth " cannot be read as "guest"
					s = "auth " + auth.Collection().Id + "/" + auth.Id + "/" + s
				}
				state = s
				states[auth] = state
			}
		}
		byTopics := groups[state]
		if byTopics == nil {
			byTopics = map[string]*groupClient{}
			groups[state] = byTopics
		}
		g, ok := byTopics[topics]
		if !ok {
			g = &groupClient{id: "group:" + c.Id(), auth: auth, subs: subs, fanout: f}
			byTopics[topics] = g
			order = append(order, g)
		}
		g.members = append(g.members, c)
	}
	return order
}

// readTopics reads a client's topics of a collection (id and name) and
// their key: every topic, verbatim, sorted.
func readTopics(c subscriptions.Client, id, name string) (map[string]subscriptions.SubscriptionOptions, string) {
	subs := c.Subscriptions(name, id)
	if len(subs) == 0 {
		return nil, ""
	}
	topics := make([]string, 0, len(subs))
	for s := range subs {
		topics = append(topics, s)
	}
	slices.Sort(topics)
	var key strings.Builder
	for _, s := range topics {
		writeField(&key, "topic", s)
	}
	return subs, key.String()
}

// writeField writes a length-prefixed field: no topic string, however it is
// made, can be read as two fields or run into the next one.
func writeField(b *strings.Builder, name, v string) {
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(v)))
	b.WriteByte(':')
	b.WriteString(v)
	b.WriteByte('\n')
}

// prefetchRules runs the rule checks PocketBase's broadcast is about to make
// for the groups, spread over the CPUs, without waiting: PocketBase checks
// the clients of a chunk (150) one after the other, so a hundred signed-in
// readers (each their own question: the rule reads the caller's id) would
// otherwise queue their queries on one goroutine. The answers land in the
// event's memo (single-flight: PocketBase's loop takes an answer being
// computed instead of asking again), with the very keys PocketBase's calls
// make, so who is sent what does not change.
func (a *eventApp) prefetchRules(r *core.Record, groups []*groupClient) {
	workers := min(runtime.GOMAXPROCS(0), 4)
	if workers < 2 || len(groups) < 2*workers {
		return
	}
	type check struct {
		info *core.RequestInfo
		rule *string
	}
	var checks []check
	seen := map[accessKey]bool{}
	for _, g := range groups {
		for prefix, rule := range topicRules(r.Collection(), r.Id) {
			for _, opts := range g.Subscriptions(prefix) {
				info := requestInfo(opts, g.auth)
				k, ok := accessKeyWith(r, info, rule, a.authState)
				if !ok || seen[k] {
					continue
				}
				seen[k] = true
				checks = append(checks, check{info, rule})
			}
		}
	}
	if len(checks) < 2*workers {
		return
	}
	for w := range workers {
		go func() {
			for i := w; i < len(checks); i += workers {
				_, _ = a.CanAccessRecord(r, checks[i].info, checks[i].rule)
			}
		}()
	}
}
