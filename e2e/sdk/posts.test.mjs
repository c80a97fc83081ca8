// posts as each role sees them: create/read/update/delete, drafts hidden from
// others, server-owned fields, expand, filter, sort, pagination and fields.
// Rate limits are relaxed for this file (startWorld).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects } from "../lib/sdk.mjs";

let w, student, other, author, author2, instructor, admin;
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
});
after(async () => {
  await w?.stop();
});

test("create: author, instructor and admin may; student and guest get 400", async () => {
  await rejects(student.pb.collection("posts").create({ title: "Not allowed" }), 400);
  await rejects(w.guest().collection("posts").create({ title: "Not allowed" }), 400);
  for (const u of [author, instructor, admin]) {
    const p = await u.pb.collection("posts").create({ title: `By ${u.record.role}` });
    assert.equal(p.author, u.id);
    assert.equal(p.status, "draft");
    assert.equal(p.publishedAt, "");
  }
});

test("server fields: forged author, counters and publishedAt are ignored", async () => {
  const p = await author.pb.collection("posts").create({
    title: "Forged fields",
    body: "<p>" + "word ".repeat(450) + "</p>",
    author: other.id,
    commentsCount: 99,
    readingMinutes: 42,
    publishedAt: "2001-01-01 00:00:00.000Z",
    status: "published",
  });
  assert.equal(p.author, author.id);
  assert.equal(p.commentsCount, 0);
  assert.equal(p.readingMinutes, 3); // ceil(450 / 200)
  assert.notEqual(p.publishedAt.slice(0, 4), "2001");
  assert.ok(Math.abs(Date.parse(p.publishedAt.replace(" ", "T")) - Date.now()) < 60_000, p.publishedAt);

  // a frontend may send the whole record back
  const back = await author.pb.collection("posts").update(p.id, { ...p, author: admin.id, commentsCount: 7, title: "Forged fields 2" });
  assert.equal(back.author, author.id);
  assert.equal(back.commentsCount, 0);
  assert.equal(back.title, "Forged fields 2");
  assert.equal(back.publishedAt, p.publishedAt, "a re-save keeps the first publishedAt");
  assert.equal(back.slug, p.slug, "the slug is derived once");

  // an admin editing keeps the author too
  const byAdmin = await admin.pb.collection("posts").update(p.id, { author: admin.id, excerpt: "Short." });
  assert.equal(byAdmin.author, author.id);
  assert.equal(byAdmin.excerpt, "Short.");
});

test("slug and excerpt are derived; a taken explicit slug is a 400", async () => {
  const title = `Hello Lectern ${w.uniq("s")}`;
  const a = await author.pb.collection("posts").create({ title, body: "<p>First <b>words</b> here.</p>" });
  const b = await author.pb.collection("posts").create({ title });
  assert.match(a.slug, /^hello-lectern-/);
  assert.equal(b.slug, `${a.slug}-2`);
  assert.equal(a.excerpt, "First words here.");
  await rejects(author2.pb.collection("posts").create({ title: "Other", slug: a.slug }), 400, { slug: null });
  await rejects(author2.pb.collection("posts").create({ title: "Other", slug: "Not A Slug" }), 400, { slug: null });
  const c = await author2.pb.collection("posts").create({ title: "Other", slug: `custom-${process.pid}` });
  assert.equal(c.slug, `custom-${process.pid}`);
});

test("drafts are hidden from everyone but their author and admins", async () => {
  const draft = await author.pb.collection("posts").create({ title: "Secret draft", body: "<p>shh</p>" });
  const scheduled = await author.pb.collection("posts").create({
    title: "Secret scheduled",
    status: "scheduled",
    publishedAt: new Date(Date.now() + 86_400_000).toISOString(),
  });
  const archived = await author.pb.collection("posts").create({ title: "Secret archived", status: "archived" });

  for (const p of [draft, scheduled, archived]) {
    for (const pb of [w.guest(), student.pb, author2.pb, instructor.pb]) {
      await rejects(pb.collection("posts").getOne(p.id), 404);
      const list = await pb.collection("posts").getList(1, 200, { filter: pb.filter("id = {:id}", { id: p.id }) });
      assert.equal(list.totalItems, 0);
    }
    assert.equal((await author.pb.collection("posts").getOne(p.id)).id, p.id);
    assert.equal((await admin.pb.collection("posts").getOne(p.id)).id, p.id);
  }
  const guestAll = await w.guest().collection("posts").getFullList({ batch: 200 });
  assert.ok(guestAll.every((p) => p.status === "published"));

  // publishing makes it public, with a server publishedAt
  const pub = await author.pb.collection("posts").update(draft.id, { status: "published" });
  assert.ok(pub.publishedAt);
  assert.equal((await w.guest().collection("posts").getOne(draft.id)).title, "Secret draft");
  // archiving hides it again
  await author.pb.collection("posts").update(draft.id, { status: "archived" });
  await rejects(w.guest().collection("posts").getOne(draft.id), 404);
  const again = await author.pb.collection("posts").update(draft.id, { status: "published" });
  assert.equal(again.publishedAt, pub.publishedAt, "a re-publish keeps the first publishedAt");
});

test("update and delete: the post's author or an admin; others 404", async () => {
  const p = await author.pb.collection("posts").create({ title: "Owned", status: "published" });
  for (const pb of [student.pb, author2.pb, instructor.pb, w.guest()]) {
    await rejects(pb.collection("posts").update(p.id, { title: "Taken over" }), 404);
    await rejects(pb.collection("posts").delete(p.id), 404);
  }
  assert.equal((await author.pb.collection("posts").update(p.id, { title: "Owned, edited" })).title, "Owned, edited");
  assert.equal((await admin.pb.collection("posts").update(p.id, { title: "Owned, moderated" })).title, "Owned, moderated");
  await author.pb.collection("posts").delete(p.id);
  await rejects(w.guest().collection("posts").getOne(p.id), 404);

  const q = await author.pb.collection("posts").create({ title: "Admin removes" });
  await admin.pb.collection("posts").delete(q.id);
  await rejects(author.pb.collection("posts").getOne(q.id), 404);
});

test("body is sanitized on the server", async () => {
  const p = await author.pb.collection("posts").create({
    title: "Sanitized",
    body: `<p onclick="alert(1)">Hi <a href="javascript:alert(1)">x</a></p><script>alert(1)</script>`,
  });
  assert.doesNotMatch(p.body, /<script|onclick|javascript:/i);
  assert.match(p.body, /Hi/);
});

test("expand author: the public profile, without the email", async () => {
  const p = await author.pb.collection("posts").create({ title: "With author", status: "published" });
  const seen = await w.guest().collection("posts").getOne(p.id, { expand: "author" });
  assert.equal(seen.expand.author.id, author.id);
  assert.equal(seen.expand.author.name, author.record.name);
  assert.ok(!seen.expand.author.email);

  const sliced = await w.guest().collection("posts").getOne(p.id, {
    expand: "author",
    fields: "id,title,expand.author.name",
  });
  assert.deepEqual(Object.keys(sliced).sort(), ["expand", "id", "title"]);
  assert.deepEqual(sliced.expand, { author: { name: author.record.name } });
});

test("filter, sort, pagination and fields, as the blog's index page uses them", async () => {
  const writer = await w.user("author");
  const titles = [];
  for (let i = 0; i < 7; i++) {
    const title = `Paged ${String.fromCharCode(71 - i)} ${i}`; // G 0, F 1, … A 6
    titles.push(title);
    await writer.pb.collection("posts").create({ title, status: "published", body: `<p>${"w ".repeat(i * 200)}</p>` });
  }
  await writer.pb.collection("posts").create({ title: "Paged draft", status: "draft" });

  const guest = w.guest();
  const filter = guest.filter('author = {:a} && status = "published"', { a: writer.id });
  const p1 = await guest.collection("posts").getList(1, 3, { filter, sort: "title", expand: "author" });
  assert.equal(p1.page, 1);
  assert.equal(p1.perPage, 3);
  assert.equal(p1.totalItems, 7);
  assert.equal(p1.totalPages, 3);
  assert.deepEqual(
    p1.items.map((p) => p.title),
    [...titles].sort().slice(0, 3),
  );
  assert.equal(p1.items[0].expand.author.name, writer.record.name);
  const p3 = await guest.collection("posts").getList(3, 3, { filter, sort: "title" });
  assert.equal(p3.items.length, 1);
  assert.equal(p3.items[0].title, [...titles].sort()[6]);

  // the draft is counted for nobody but its author
  const mine = await writer.pb.collection("posts").getList(1, 50, { filter: writer.pb.filter("author = {:a}", { a: writer.id }) });
  assert.equal(mine.totalItems, 8);
  assert.equal((await guest.collection("posts").getList(1, 50, { filter: guest.filter("author = {:a}", { a: writer.id }) })).totalItems, 7);

  const byLength = await guest.collection("posts").getList(1, 2, { filter, sort: "-readingMinutes,title" });
  assert.equal(byLength.items[0].readingMinutes, 6);

  const sliced = await guest.collection("posts").getList(1, 2, {
    filter,
    sort: "-publishedAt",
    fields: "id,title,slug,excerpt,publishedAt,readingMinutes,commentsCount,expand.author.name",
    expand: "author",
  });
  for (const item of sliced.items) {
    assert.deepEqual(
      Object.keys(item).sort(),
      ["commentsCount", "excerpt", "expand", "id", "publishedAt", "readingMinutes", "slug", "title"],
    );
  }
  assert.ok(sliced.items[0].publishedAt >= sliced.items[1].publishedAt);

  const bySlug = await guest.collection("posts").getFirstListItem(guest.filter("slug = {:s}", { s: p1.items[0].slug }));
  assert.equal(bySlug.id, p1.items[0].id);
  await rejects(guest.collection("posts").getFirstListItem('slug = "no-such-post"'), 404);
  await rejects(guest.collection("posts").getList(1, 10, { filter: "nosuchfield = 1" }), 400);
});

test("perPage above 200 is clamped to 200", async () => {
  const writer = await w.user("author");
  for (let i = 0; i < 205; i += 41) {
    await Promise.all(
      Array.from({ length: 41 }, (_, j) =>
        writer.pb.collection("posts").create({ title: `Bulk ${i + j}`, status: "published" }),
      ),
    );
  }
  const guest = w.guest();
  const filter = guest.filter("author = {:a}", { a: writer.id });
  const page = await guest.collection("posts").getList(1, 500, { filter });
  assert.equal(page.perPage, 200);
  assert.equal(page.items.length, 200);
  assert.equal(page.totalItems, 205);
  assert.equal(page.totalPages, 2);
  const rest = await guest.collection("posts").getList(2, 500, { filter });
  assert.equal(rest.items.length, 5);
  const all = await guest.collection("posts").getFullList({ filter, batch: 1000 });
  assert.equal(all.length, 205);
});
