// comments as each role sees them: who writes, who reads hidden ones, who
// moderates, threads, the post's commentsCount. Rate limits are relaxed for
// this file (startWorld).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects } from "../lib/sdk.mjs";

let w, student, other, author, author2, instructor, admin, post;
before(async () => {
  w = await startWorld();
  [student, other, author, author2, instructor, admin] = [
    await w.user("student"),
    await w.user("student"),
    await w.user("author"),
    await w.user("author"),
    await w.user("instructor"),
    await w.user("admin"),
  ];
  post = await author.pb.collection("posts").create({ title: "Discussed", status: "published" });
});
after(async () => {
  await w?.stop();
});

const count = async (id) => (await w.guest().collection("posts").getOne(id)).commentsCount;

test("create: any signed-in user on a published post; guests get 400", async () => {
  await rejects(w.guest().collection("comments").create({ post: post.id, body: "anon" }), 400);
  for (const u of [student, author2, instructor, admin, author]) {
    const c = await u.pb.collection("comments").create({ post: post.id, body: `from ${u.record.role}` });
    assert.equal(c.author, u.id);
    assert.equal(c.status, "visible");
    assert.equal(c.edited, false);
  }
  const draft = await author.pb.collection("posts").create({ title: "Closed draft" });
  await rejects(author.pb.collection("comments").create({ post: draft.id, body: "on a draft" }), 400, { post: null });
  await rejects(student.pb.collection("comments").create({ post: draft.id, body: "on a draft" }), 400, { post: null });
  await rejects(student.pb.collection("comments").create({ post: post.id, body: "" }), 400, { body: "validation_required" });
});

test("forged author, status and edited are ignored; body is stored as plain text", async () => {
  const before = await count(post.id);
  const c = await student.pb.collection("comments").create({
    post: post.id,
    body: "<b>bold</b> &amp; <script>x()</script>plain",
    author: other.id,
    status: "hidden",
    edited: true,
  });
  assert.equal(c.author, student.id);
  assert.equal(c.status, "visible");
  assert.equal(c.edited, false);
  assert.doesNotMatch(c.body, /<|&amp;/);
  assert.match(c.body, /bold & .*plain/);
  assert.equal(await count(post.id), before + 1);

  // the whole record sent back: nothing server-owned moves
  const other2 = await author2.pb.collection("posts").create({ title: "Elsewhere", status: "published" });
  const back = await student.pb.collection("comments").update(c.id, { ...c, post: other2.id, author: other.id, edited: false });
  assert.equal(back.post, post.id);
  assert.equal(back.author, student.id);
});

test("the comment's author edits the body (edited=true); others get 403, moderation does not set edited", async () => {
  const c = await student.pb.collection("comments").create({ post: post.id, body: "first version" });
  for (const u of [other, author2, instructor]) {
    await rejects(u.pb.collection("comments").update(c.id, { body: "not mine" }), 403);
  }
  // the post's author moderates but does not rewrite someone's words
  await rejects(author.pb.collection("comments").update(c.id, { body: "rewritten" }), 403);
  await rejects(w.guest().collection("comments").update(c.id, { body: "anon" }), 404);

  const edited = await student.pb.collection("comments").update(c.id, { body: "second version" });
  assert.equal(edited.body, "second version");
  assert.equal(edited.edited, true);

  const c2 = await other.pb.collection("comments").create({ post: post.id, body: "to moderate" });
  const byAdmin = await admin.pb.collection("comments").update(c2.id, { body: "[removed by moderator]" });
  assert.equal(byAdmin.body, "[removed by moderator]");
  assert.equal(byAdmin.edited, false);
});

test("status: only the post's author or an admin; hidden comments are seen by their author, the post's author and admins", async () => {
  const c = await student.pb.collection("comments").create({ post: post.id, body: "borderline" });
  const n = await count(post.id);
  await rejects(student.pb.collection("comments").update(c.id, { status: "hidden" }), 403);
  await rejects(other.pb.collection("comments").update(c.id, { status: "flagged" }), 403);
  await rejects(author2.pb.collection("comments").update(c.id, { status: "hidden" }), 403);

  const hidden = await author.pb.collection("comments").update(c.id, { status: "hidden" });
  assert.equal(hidden.status, "hidden");
  assert.equal(hidden.edited, false);
  assert.equal(await count(post.id), n - 1);

  for (const pb of [w.guest(), other.pb, author2.pb, instructor.pb]) {
    await rejects(pb.collection("comments").getOne(c.id), 404);
    const list = await pb.collection("comments").getList(1, 50, { filter: pb.filter("id = {:id}", { id: c.id }) });
    assert.equal(list.totalItems, 0);
  }
  for (const pb of [student.pb, author.pb, admin.pb]) {
    assert.equal((await pb.collection("comments").getOne(c.id)).status, "hidden");
  }
  // the comment's author still edits their hidden comment but cannot unhide it
  await rejects(student.pb.collection("comments").update(c.id, { status: "visible" }), 403);
  assert.equal((await student.pb.collection("comments").update(c.id, { body: "toned down" })).edited, true);

  const flagged = await admin.pb.collection("comments").update(c.id, { status: "flagged" });
  assert.equal(flagged.status, "flagged");
  const back = await admin.pb.collection("comments").update(c.id, { status: "visible" });
  assert.equal(back.status, "visible");
  assert.equal(await count(post.id), n);
  await rejects(author.pb.collection("comments").update(c.id, { status: "deleted" }), 400, { status: null });
});

test("threads: replies on the same post, listed with filter and sort, deleting a comment deletes its replies", async () => {
  const p = await author.pb.collection("posts").create({ title: "Threads", status: "published" });
  const root = await student.pb.collection("comments").create({ post: p.id, body: "root" });
  const r1 = await other.pb.collection("comments").create({ post: p.id, parent: root.id, body: "reply 1" });
  const r2 = await student.pb.collection("comments").create({ post: p.id, parent: r1.id, body: "reply 2" });
  const r3 = await other.pb.collection("comments").create({ post: p.id, parent: r2.id, body: "reply 3" });
  assert.equal(r3.parent, r2.id);
  assert.equal(await count(p.id), 4);

  const guest = w.guest();
  const thread = await guest.collection("comments").getFullList({
    filter: guest.filter("post = {:p}", { p: p.id }),
    sort: "created,id",
    expand: "author",
  });
  assert.deepEqual(
    thread.map((c) => c.body),
    ["root", "reply 1", "reply 2", "reply 3"],
  );
  assert.equal(thread[1].expand.author.name, other.record.name);
  const replies = await guest.collection("comments").getList(1, 10, { filter: guest.filter("parent = {:c}", { c: root.id }) });
  assert.deepEqual(
    replies.items.map((c) => c.id),
    [r1.id],
  );

  // a reply must stay on its parent's post
  await rejects(student.pb.collection("comments").create({ post: post.id, parent: root.id, body: "wrong post" }), 400, { parent: null });

  // delete: the comment's author, the post's author, an admin; others 404
  await rejects(other.pb.collection("comments").delete(root.id), 404);
  await rejects(author2.pb.collection("comments").delete(root.id), 404);
  await rejects(guest.collection("comments").delete(root.id), 404);
  await student.pb.collection("comments").delete(root.id);
  for (const c of [root, r1, r2, r3]) await rejects(guest.collection("comments").getOne(c.id), 404);
  assert.equal(await count(p.id), 0);

  const c1 = await student.pb.collection("comments").create({ post: p.id, body: "post author removes" });
  await author.pb.collection("comments").delete(c1.id);
  const c2 = await student.pb.collection("comments").create({ post: p.id, body: "admin removes" });
  await admin.pb.collection("comments").delete(c2.id);
  assert.equal(await count(p.id), 0);
});

test("a post turned back to draft hides its comments", async () => {
  const p = await author.pb.collection("posts").create({ title: "Unpublished later", status: "published" });
  const c = await student.pb.collection("comments").create({ post: p.id, body: "soon hidden" });
  await author.pb.collection("posts").update(p.id, { status: "draft" });
  await rejects(w.guest().collection("comments").getOne(c.id), 404);
  await rejects(other.pb.collection("comments").getOne(c.id), 404);
  assert.equal((await student.pb.collection("comments").getOne(c.id)).id, c.id, "its author still sees it");
  await rejects(student.pb.collection("comments").create({ post: p.id, body: "closed" }), 400, { post: null });
});
