// Errors as a frontend sees them: a ClientResponseError whose status and
// response.data.<field>.code a form can show next to the right input.
// Rate limits are relaxed for this file (startWorld).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects, ClientResponseError } from "../lib/sdk.mjs";

let w, student, other, author, instructor, post, course;
before(async () => {
  w = await startWorld();
  [student, other, author, instructor] = [
    await w.user("student"),
    await w.user("student"),
    await w.user("author"),
    await w.user("instructor"),
  ];
  post = await author.pb.collection("posts").create({ title: "Errors", status: "published" });
  course = await instructor.pb.collection("courses").create({ title: "Errors 101", durationDays: 3, status: "published" });
});
after(async () => {
  await w?.stop();
});

test("the error's shape: ClientResponseError with status, message and response.data", async () => {
  const err = await rejects(author.pb.collection("posts").create({ title: "ab" }), 400, {
    title: "validation_min_text_constraint",
  });
  assert.ok(err instanceof ClientResponseError);
  assert.equal(err.isAbort, false);
  assert.equal(err.response.status, 400);
  assert.equal(typeof err.response.message, "string");
  assert.match(err.url, /\/api\/collections\/posts\/records/);
  assert.deepEqual(Object.keys(err.response.data), ["title"]);
});

test("400: a title of 2 characters", async () => {
  await rejects(author.pb.collection("posts").create({ title: "ab" }), 400, { title: "validation_min_text_constraint" });
  await rejects(instructor.pb.collection("courses").create({ title: "ab", durationDays: 1 }), 400, {
    title: "validation_min_text_constraint",
  });
  await rejects(author.pb.collection("posts").update(post.id, { title: "ab" }), 400, { title: "validation_min_text_constraint" });
});

test("400: a scheduled post without publishedAt, or with a past one", async () => {
  await rejects(author.pb.collection("posts").create({ title: "Later", status: "scheduled" }), 400, {
    publishedAt: "validation_required",
  });
  await rejects(author.pb.collection("posts").create({ title: "Later", status: "scheduled", publishedAt: "2020-01-01 10:00:00.000Z" }), 400, {
    publishedAt: "validation_date_not_future",
  });
  await rejects(author.pb.collection("posts").update(post.id, { status: "scheduled" }), 400, { publishedAt: null });
});

test("400: a rating of 9", async () => {
  await student.pb.collection("enrollments").create({ course: course.id });
  await rejects(student.pb.collection("reviews").create({ course: course.id, rating: 9, body: "too good" }), 400, {
    rating: "validation_max_number_constraint",
  });
  await rejects(student.pb.collection("reviews").create({ course: course.id, rating: 0 }), 400, { rating: null });
  await rejects(student.pb.collection("reviews").create({ course: course.id, rating: 4.5 }), 400, { rating: null });
  const r = await student.pb.collection("reviews").create({ course: course.id, rating: 5 });
  await rejects(student.pb.collection("reviews").update(r.id, { rating: 9 }), 400, { rating: "validation_max_number_constraint" });
  await rejects(student.pb.collection("reviews").create({ course: course.id, rating: 4 }), 400, { course: "validation_already_reviewed" });
});

test("400: a duplicate enrollment", async () => {
  await other.pb.collection("enrollments").create({ course: course.id });
  await rejects(other.pb.collection("enrollments").create({ course: course.id }), 400, { course: "validation_already_enrolled" });
});

test("400: a reply too deep", async () => {
  let parent = await student.pb.collection("comments").create({ post: post.id, body: "depth 0" });
  for (let depth = 1; depth <= 3; depth++) {
    parent = await other.pb.collection("comments").create({ post: post.id, parent: parent.id, body: `depth ${depth}` });
  }
  await rejects(student.pb.collection("comments").create({ post: post.id, parent: parent.id, body: "depth 4" }), 400, {
    parent: "validation_reply_too_deep",
  });
});

test("403: a student changing a comment's status", async () => {
  const c = await student.pb.collection("comments").create({ post: post.id, body: "mine" });
  const own = await rejects(student.pb.collection("comments").update(c.id, { status: "hidden" }), 403);
  assert.equal(typeof own.response.message, "string");
  await rejects(other.pb.collection("comments").update(c.id, { status: "flagged" }), 403);
  assert.equal((await w.guest().collection("comments").getOne(c.id)).status, "visible");
});

test("404: a student viewing a draft", async () => {
  const draft = await author.pb.collection("posts").create({ title: "Not yet" });
  const err = await rejects(student.pb.collection("posts").getOne(draft.id), 404);
  assert.deepEqual(err.response.data, {});
  await rejects(student.pb.collection("posts").getOne("nosuchrecord123"), 404);
  const draftCourse = await instructor.pb.collection("courses").create({ title: "Not yet either", durationDays: 1 });
  await rejects(student.pb.collection("courses").getOne(draftCourse.id), 404);
});

test("400 on a refused create has empty data; type mismatches name the field; a non-JSON body is a 400", async () => {
  const refused = await rejects(student.pb.collection("posts").create({ title: "Students don't post" }), 400);
  assert.deepEqual(refused.response.data, {});

  await rejects(author.pb.collection("posts").create({ title: { x: 1 } }), 400, { title: null });
  await rejects(author.pb.collection("posts").create({ title: "Body object", body: { x: 1 } }), 400, { body: null });
  await rejects(instructor.pb.collection("courses").create({ title: "Typed", durationDays: "many" }), 400, { durationDays: null });
  await rejects(instructor.pb.collection("courses").create({ title: "Typed", durationDays: 2, price: 10.555 }), 400, {
    price: "validation_price_precision",
  });

  const res = await fetch(`${w.url}/api/collections/posts/records`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: author.pb.authStore.token },
    body: "{not json",
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.deepEqual(body.data, {});
});
