// Filters across relations, as a frontend meets them (README "Filters and
// sorts across relations"): the questions a filter could ask about records the
// rules hide are refused with a 400 naming the path — for lists,
// getFirstListItem and realtime subscriptions — and the any-match forms keep
// working over what the caller may see.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects, record } from "../lib/sdk.mjs";

let w, author, student, topic, published, draft;
before(async () => {
  w = await startWorld();
  author = await w.user("author");
  student = await w.user("student");
  topic = await w.su.collection("topics").create({ name: w.uniq("Topic") });
  published = await author.pb.collection("posts").create({
    title: "Visible post", body: "<p>public words</p>", status: "published", topics: [topic.id],
  });
  draft = await author.pb.collection("posts").create({
    title: "Secret draft", body: "<p>codename falcon</p>", status: "draft", topics: [topic.id],
  });
  await student.pb.collection("comments").create({ post: published.id, body: "thanks for this" });
});
after(async () => {
  await w?.stop();
});

test("a guest cannot ask whether a draft in a topic says 'codename'", async () => {
  const guest = w.guest();
  for (const guess of ["codename", "wrong guess"]) {
    const filter = guest.filter("id = {:t} && posts_via_topics.body !~ {:g}", { t: topic.id, g: guess });
    const err = await rejects(guest.collection("topics").getList(1, 20, { filter }), 400, {
      filter: "validation_filter_every_match",
    });
    assert.match(err.response.data.filter.message, /posts_via_topics\.body/);
  }
  // getFirstListItem is a list too
  await rejects(
    guest.collection("topics").getFirstListItem(guest.filter("posts_via_topics.title = {:g}", { g: "Secret draft" })),
    400,
    { filter: "validation_filter_every_match" },
  );
});

test("any-match forms keep working and see only what the caller may see", async () => {
  const guest = w.guest();
  const byTopic = await guest.collection("posts").getList(1, 20, {
    filter: guest.filter('status = "published" && topics.id ?= {:t}', { t: topic.id }),
  });
  assert.deepEqual(byTopic.items.map((p) => p.id), [published.id]);

  const withComment = await guest.collection("posts").getList(1, 20, {
    filter: guest.filter("comments_via_post.body ?~ {:q}", { q: "thanks" }),
  });
  assert.deepEqual(withComment.items.map((p) => p.id), [published.id]);

  // the same question about the draft's body answers 0 for the truth and a wrong guess alike
  for (const guess of ["codename", "wrong guess"]) {
    const res = await guest.collection("topics").getList(1, 20, {
      filter: guest.filter("id = {:t} && posts_via_topics.body ?~ {:g}", { t: topic.id, g: guess }),
    });
    assert.equal(res.totalItems, 0, guess);
  }
  // the author sees their own draft through the same filter
  const own = await author.pb.collection("topics").getList(1, 20, {
    filter: author.pb.filter("id = {:t} && posts_via_topics.body ?~ {:g}", { t: topic.id, g: "codename" }),
  });
  assert.equal(own.totalItems, 1);
});

test("a sort through a back-relation is refused; a single relation's is not", async () => {
  const guest = w.guest();
  await rejects(guest.collection("posts").getList(1, 20, { sort: "-comments_via_post.created" }), 400, {
    sort: "validation_sort_path",
  });
  const res = await guest.collection("comments").getList(1, 20, {
    filter: guest.filter("post = {:p}", { p: published.id }), sort: "post.title,-created",
  });
  assert.equal(res.totalItems, 1);
});

test("realtime: a subscription that asks about hidden records is refused at subscribe", async () => {
  const guest = w.guest();
  let refused;
  try {
    await guest.collection("topics").subscribe("*", () => {}, {
      filter: guest.filter("posts_via_topics.body !~ {:g}", { g: "codename" }),
    });
  } catch (err) {
    refused = err;
  }
  assert.equal(refused?.status, 400);
  assert.equal(refused.response.data.filter.code, "validation_filter_every_match");
  // the README's live-comments filter still subscribes and delivers
  const reader = w.guest();
  const live = await record(reader, "comments", "*", { filter: reader.filter("post = {:p}", { p: published.id }) });
  const c = await student.pb.collection("comments").create({ post: published.id, body: "live one" });
  await live.waitFor((e) => e.action === "create" && e.record.id === c.id);
  await live.unsubscribe();
});
