// GraphQL from a frontend: the same records as the SDK's REST calls, as each
// role; relations null where expand is empty; REST's refusals as GraphQL
// errors; mutations with REST's field errors. The README's two examples
// (the browser's fetch, and pb.send) are the calls made here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld } from "../lib/sdk.mjs";

let w, student, author, other, instructor, published, draft, course;
before(async () => {
  w = await startWorld();
  [student, author, other, instructor] = [
    await w.user("student"),
    await w.user("author"),
    await w.user("author"),
    await w.user("instructor"),
  ];
  published = await author.pb.collection("posts").create({ title: "GraphQL published", body: "<p>x</p>", status: "published" });
  draft = await author.pb.collection("posts").create({ title: "GraphQL draft", body: "<p>y</p>" });
  await student.pb.collection("comments").create({ post: published.id, body: "First" });
  course = await instructor.pb.collection("courses").create({ title: "GraphQL course", durationDays: 2, status: "published" });
  await instructor.pb.collection("lessons").create({ course: course.id, title: "Free", position: 1, freePreview: true });
  await instructor.pb.collection("lessons").create({ course: course.id, title: "Paid", position: 2 });
});
after(async () => {
  await w?.stop();
});

// gql is the README's pb.send example: the SDK adds the Authorization header.
const gql = (pb, query, variables) => pb.send("/api/graphql", { method: "POST", body: { query, variables } });

const POSTS = `query($f: String, $s: String) { posts(filter: $f, sort: $s, perPage: 50) {
  totalItems items { id title status author { id name } comments { totalItems items { body author { id } } } } } }`;

test("posts: the same records, order and totals as getList, for every role", async () => {
  for (const [who, pb] of [["guest", w.guest()], ["student", student.pb], ["author", author.pb], ["other author", other.pb]]) {
    for (const opts of [{ sort: "-created" }, { filter: 'title ~ "GraphQL"', sort: "title" }]) {
      const rest = await pb.collection("posts").getList(1, 50, { ...opts, expand: "author" });
      const { data, errors } = await gql(pb, POSTS, { f: opts.filter, s: opts.sort });
      assert.equal(errors, undefined, who);
      assert.equal(data.posts.totalItems, rest.totalItems, who);
      assert.deepEqual(data.posts.items.map((p) => p.id), rest.items.map((p) => p.id), who);
      for (const [i, p] of data.posts.items.entries()) {
        assert.equal(p.author?.id ?? null, rest.items[i].expand?.author?.id ?? null, who);
      }
      const ids = data.posts.items.map((p) => p.id);
      assert.equal(ids.includes(draft.id), who === "author", `${who}: the draft`);
    }
  }
  const { data } = await gql(w.guest(), POSTS, { f: `id = "${published.id}"` });
  assert.deepEqual(data.posts.items[0].comments.items.map((c) => c.body), ["First"]);
});

test("lessons: a locked lesson is left out, as in REST", async () => {
  const q = `query($id: ID!) { course(id: $id) { title lessons(sort: "position") { totalItems items { title } } } }`;
  const guest = await gql(w.guest(), q, { id: course.id });
  const rest = await w.guest().collection("lessons").getList(1, 50, { filter: `course = "${course.id}"`, sort: "position" });
  assert.deepEqual(guest.data.course.lessons.items.map((l) => l.title), rest.items.map((l) => l.title));
  assert.deepEqual(guest.data.course.lessons.items.map((l) => l.title), ["Free"]);
  const own = await gql(instructor.pb, q, { id: course.id });
  assert.deepEqual(own.data.course.lessons.items.map((l) => l.title), ["Free", "Paid"]);
});

test("the browser's fetch, GET with ?query=, and a filter REST refuses", async () => {
  const res = await fetch(`${w.url}/api/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: author.pb.authStore.token },
    body: JSON.stringify({ query: `query($id: ID!) { post(id: $id) { title status } }`, variables: { id: draft.id } }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).data.post, { status: "draft", title: "GraphQL draft" });

  const get = await fetch(`${w.url}/api/graphql?query=${encodeURIComponent(`{ post(id: "${draft.id}") { title } }`)}`);
  assert.deepEqual(await get.json(), { data: { post: null } }, "a guest: null, as REST's 404");

  const bad = await gql(student.pb, `{ posts(filter: "nope = 1") { totalItems } }`);
  assert.equal(bad.data.posts, null);
  assert.equal(bad.errors[0].extensions.status, 400);
  await assert.rejects(student.pb.collection("posts").getList(1, 5, { filter: "nope = 1" }), (e) => e.status === 400);
});

test("mutations: REST's hooks, rules and field errors", async () => {
  const m = `mutation($d: JSON!) { createComment(data: $d) { body author { id } post { id } } }`;
  const ok = await gql(student.pb, m, { d: { post: published.id, body: "<b>Via</b> GraphQL" } });
  assert.equal(ok.errors, undefined);
  assert.deepEqual(ok.data.createComment, { body: "Via GraphQL", author: { id: student.id }, post: { id: published.id } });

  const refused = await gql(student.pb, m, { d: { post: draft.id, body: "early" } });
  assert.equal(refused.data.createComment, null);
  assert.equal(refused.errors[0].extensions.status, 400);
  assert.ok(refused.errors[0].extensions.data.post, "the field error on post");
});
