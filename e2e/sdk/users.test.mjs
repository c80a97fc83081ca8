// users and topics as each role sees them (DATA_MODEL.md: users, topics).
// Rate limits are relaxed for this file (startWorld).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects } from "../lib/sdk.mjs";

let w, student, other, author, instructor, admin;
before(async () => {
  w = await startWorld();
  [student, other, author, instructor, admin] = [
    await w.user("student"),
    await w.user("student"),
    await w.user("author"),
    await w.user("instructor"),
    await w.user("admin"),
  ];
});
after(async () => {
  await w?.stop();
});

test("users: anyone views a public profile, never the email", async () => {
  for (const pb of [w.guest(), other.pb, author.pb, instructor.pb]) {
    const u = await pb.collection("users").getOne(student.id);
    assert.equal(u.id, student.id);
    assert.equal(u.name, student.record.name);
    assert.equal(u.role, "student");
    assert.ok(!u.email, "email must stay hidden");
  }
  const sliced = await w.guest().collection("users").getOne(author.id, { fields: "id,name" });
  assert.deepEqual(Object.keys(sliced).sort(), ["id", "name"]);
});

test("users: list is for admins; others get 200 with no items", async () => {
  for (const pb of [w.guest(), student.pb, author.pb, instructor.pb]) {
    const page = await pb.collection("users").getList(1, 50);
    assert.equal(page.items.length, 0);
    assert.equal(page.totalItems, 0);
  }
  const all = await admin.pb.collection("users").getFullList({ sort: "created" });
  const ids = all.map((u) => u.id);
  for (const u of [student, other, author, instructor, admin]) assert.ok(ids.includes(u.id));
  const filtered = await admin.pb.collection("users").getList(1, 10, { filter: 'role = "instructor"' });
  assert.ok(filtered.items.every((u) => u.role === "instructor"));
  assert.ok(filtered.items.some((u) => u.id === instructor.id));
});

test("users: a user updates only themself; others get 404", async () => {
  const me = await student.pb.collection("users").update(student.id, { bio: "I study", website: "https://example.com" });
  assert.equal(me.bio, "I study");
  assert.equal(me.website, "https://example.com");
  await rejects(other.pb.collection("users").update(student.id, { bio: "hacked" }), 404);
  await rejects(author.pb.collection("users").update(student.id, { bio: "hacked" }), 404);
  await rejects(w.guest().collection("users").update(student.id, { bio: "hacked" }), 404);
  await rejects(student.pb.collection("users").update(student.id, { name: "" }), 400, { name: "validation_required" });
  await rejects(student.pb.collection("users").update(student.id, { bio: "x".repeat(1001) }), 400, { bio: null });
  const still = await w.guest().collection("users").getOne(student.id);
  assert.equal(still.bio, "I study");
});

test("users: only an admin user (or a superuser) sets a role", async () => {
  const target = await w.user("student");
  const r1 = await instructor.pb.collection("users").update(instructor.id, { role: "admin" });
  assert.equal(r1.role, "instructor");
  await rejects(author.pb.collection("users").update(target.id, { role: "author" }), 404);

  const r2 = await admin.pb.collection("users").update(target.id, { role: "author", name: "Promoted" });
  assert.equal(r2.role, "author");
  assert.equal(r2.name, "Promoted");
  const { record } = await target.pb.collection("users").authRefresh();
  assert.equal(record.role, "author");
  // the new role takes effect at once: the user may now write posts
  const post = await target.pb.collection("posts").create({ title: "First as author" });
  assert.equal(post.author, target.id);

  await rejects(admin.pb.collection("users").update(target.id, { role: "superhero" }), 400, { role: null });
});

test("users: delete is self or admin; authors of posts are refused with 400; comments go with the user", async () => {
  const a = await w.user("author");
  const post = await a.pb.collection("posts").create({ title: "Keeps its author", status: "published" });
  const commenter = await w.user("student");
  const c = await commenter.pb.collection("comments").create({ post: post.id, body: "bye soon" });

  await rejects(other.pb.collection("users").delete(commenter.id), 404);
  await rejects(w.guest().collection("users").delete(commenter.id), 404);
  await commenter.pb.collection("users").delete(commenter.id);
  await rejects(w.guest().collection("users").getOne(commenter.id), 404);
  await rejects(w.guest().collection("comments").getOne(c.id), 404);
  assert.equal((await w.guest().collection("posts").getOne(post.id)).commentsCount, 0);

  await rejects(a.pb.collection("users").delete(a.id), 400);
  await rejects(admin.pb.collection("users").delete(a.id), 400);
  await a.pb.collection("posts").delete(post.id);
  await admin.pb.collection("users").delete(a.id);
  await rejects(w.guest().collection("users").getOne(a.id), 404);
});

test("topics: public read, admin write, server slug", async () => {
  for (const u of [student, author, instructor]) {
    await rejects(u.pb.collection("topics").create({ name: w.uniq("Go") }), 400);
  }
  await rejects(w.guest().collection("topics").create({ name: "Guests" }), 400);

  const name = `Node JS ${w.uniq("t")}`;
  const t = await admin.pb.collection("topics").create({ name, slug: "Forged Slug!", description: "Runtime" });
  assert.match(t.slug, /^node-js-/);
  await rejects(admin.pb.collection("topics").create({ name }), 400, { name: null });

  const seen = await w.guest().collection("topics").getOne(t.id);
  assert.equal(seen.name, name);
  const list = await w.guest().collection("topics").getList(1, 10, { filter: w.guest().filter("slug = {:s}", { s: t.slug }) });
  assert.equal(list.totalItems, 1);

  await rejects(author.pb.collection("topics").update(t.id, { description: "x" }), 404);
  await rejects(student.pb.collection("topics").delete(t.id), 404);
  const upd = await admin.pb.collection("topics").update(t.id, { description: "JavaScript runtime" });
  assert.equal(upd.description, "JavaScript runtime");
  await admin.pb.collection("topics").delete(t.id);
  await rejects(w.guest().collection("topics").getOne(t.id), 404);
});
