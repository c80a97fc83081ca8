package realtime

import (
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGroupKey: clients are grouped only when PocketBase's broadcast would
// read the same of them — the same auth record state (not merely the same
// id) and the same topics of the collection, verbatim.
func TestGroupKey(t *testing.T) {
	f := newKeyFixture()
	const topic = "comments/*"
	client := func(auth any, topics ...string) subscriptions.Client {
		c := subscriptions.NewDefaultClient()
		if auth != nil {
			c.Set(apis.RealtimeClientAuthKey, auth)
		}
		c.Subscribe(topics...)
		return newBufferedClient(c, 4, 4, 0, nil)
	}
	ada := f.user("u1", "student", "Ada")
	adaAgain := f.user("u1", "student", "Ada") // another object, same state
	adaAdmin := f.user("u1", "admin", "Ada")   // same id, another version
	bob := f.user("u2", "student", "Ada")      // same fields but the id
	su := f.record(f.superusers, "u1")         // same id, another collection

	clients := map[string]subscriptions.Client{}
	add := func(name string, c subscriptions.Client) { clients[name] = c }
	add("guest", client(nil, topic))
	add("guest again", client(nil, topic))
	add("guest, not a record", client("not a record", topic)) // PocketBase reads it as a guest
	add("ada", client(ada, topic))
	add("ada again", client(adaAgain, topic))
	add("ada admin", client(adaAdmin, topic))
	add("bob", client(bob, topic))
	add("superuser", client(su, topic))
	add("guest expanding", client(nil, topic+"?options=%7B%22query%22%3A%7B%22expand%22%3A%22author%22%7D%7D"))
	add("guest, two topics", client(nil, topic, "comments/c1"))
	add("guest, posts only", client(nil, "posts/*"))

	groups := groupClients(clients, f.comments, &fanout{}, authState)
	byMember := map[subscriptions.Client]*groupClient{}
	for _, g := range groups {
		for _, m := range g.members {
			require.NotContains(t, byMember, m, "a client in two groups")
			byMember[m] = g
		}
	}
	same := func(a, b string) bool { return byMember[clients[a]] == byMember[clients[b]] }

	assert.NotContains(t, byMember, clients["guest, posts only"], "no topic of the collection: left out")
	assert.True(t, same("guest", "guest again"))
	assert.True(t, same("guest", "guest, not a record"))
	assert.True(t, same("ada", "ada again"), "equal state shares")
	for _, pair := range [][2]string{
		{"guest", "ada"}, {"ada", "ada admin"}, {"ada", "bob"}, {"ada", "superuser"},
		{"guest", "guest expanding"}, {"guest", "guest, two topics"},
	} {
		assert.False(t, same(pair[0], pair[1]), "%s and %s grouped", pair[0], pair[1])
	}
	assert.Len(t, groups, 7)

	// the group answers PocketBase as its members would
	g := byMember[clients["ada admin"]]
	assert.Same(t, adaAdmin, g.Get(apis.RealtimeClientAuthKey))
	assert.Nil(t, byMember[clients["guest"]].Get(apis.RealtimeClientAuthKey))
	two := byMember[clients["guest, two topics"]]
	assert.Len(t, two.Subscriptions("comments/c1?"), 1)
	assert.Len(t, two.Subscriptions("comments/*?"), 1)
	assert.Len(t, two.Subscriptions("posts/*?"), 0)
}

// TestGroupTopicsFollowSubscriptionChanges: the cached topics of a client
// are read again once it subscribes or unsubscribes.
func TestGroupTopicsFollowSubscriptionChanges(t *testing.T) {
	f := newKeyFixture()
	inner := subscriptions.NewDefaultClient()
	c := newBufferedClient(inner, 4, 4, 0, nil)
	c.Subscribe("comments/*")
	subs, _ := c.topicsOf(f.comments.Id, f.comments.Name)
	assert.Len(t, subs, 1)
	c.Unsubscribe()
	subs, _ = c.topicsOf(f.comments.Id, f.comments.Name)
	assert.Empty(t, subs)
	c.Subscribe("comments/c1", "comments/*?options=%7B%7D")
	subs, key := c.topicsOf(f.comments.Id, f.comments.Name)
	assert.Len(t, subs, 2)
	_, key2 := c.topicsOf(f.comments.Id, f.comments.Name)
	assert.Equal(t, key, key2)
	// another collection, then back: both cached
	posts, _ := c.topicsOf(f.posts.Id, f.posts.Name)
	assert.Empty(t, posts)
	subs, _ = c.topicsOf(f.comments.Id, f.comments.Name)
	assert.Len(t, subs, 2)
}
