// The course catalogue as each role sees it: courses, lessons, enrollments and
// reviews, with expand=course, the derived counters and progress. Rate limits
// are relaxed for this file (startWorld).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects } from "../lib/sdk.mjs";

let w, student, other, author, instructor, instructor2, admin;
before(async () => {
  w = await startWorld();
  [student, other, author, instructor, instructor2, admin] = [
    await w.user("student"),
    await w.user("student"),
    await w.user("author"),
    await w.user("instructor"),
    await w.user("instructor"),
    await w.user("admin"),
  ];
});
after(async () => {
  await w?.stop();
});

const course = (pb, fields = {}) =>
  pb.collection("courses").create({ title: "Node.JS", durationDays: 45, mode: "hybrid", level: "beginner", price: 99.5, ...fields });

test("courses: instructors and admins create; forged server fields are ignored", async () => {
  await rejects(course(student.pb), 400);
  await rejects(course(author.pb), 400);
  await rejects(course(w.guest()), 400);

  const c = await course(instructor.pb, {
    instructor: instructor2.id,
    ratingAvg: 4.9,
    ratingCount: 1000,
    enrollmentsCount: 5000,
    summary: "<b>Fast</b> intro",
  });
  assert.equal(c.instructor, instructor.id);
  assert.equal(c.ratingAvg, 0);
  assert.equal(c.ratingCount, 0);
  assert.equal(c.enrollmentsCount, 0);
  assert.equal(c.currency, "USD");
  assert.equal(c.status, "draft");
  assert.equal(c.summary, "Fast intro");
  assert.match(c.slug, /^node-js/);

  const byAdmin = await course(admin.pb, { title: "Go in depth", currency: "EUR", price: 0 });
  assert.equal(byAdmin.instructor, admin.id);
  assert.equal(byAdmin.currency, "EUR");

  await rejects(course(instructor.pb, { price: 10.999 }), 400, { price: null });
  await rejects(course(instructor.pb, { durationDays: 0 }), 400, { durationDays: null });
  await rejects(course(instructor.pb, { mode: "remote" }), 400, { mode: null });
  await rejects(course(instructor.pb, { currency: "dollars" }), 400, { currency: null });
});

test("courses: drafts hidden from others; update/delete by the instructor or an admin", async () => {
  const c = await course(instructor.pb, { title: "Draft course" });
  for (const pb of [w.guest(), student.pb, author.pb, instructor2.pb]) {
    await rejects(pb.collection("courses").getOne(c.id), 404);
    await rejects(pb.collection("courses").update(c.id, { title: "Taken" }), 404);
    await rejects(pb.collection("courses").delete(c.id), 404);
  }
  assert.equal((await admin.pb.collection("courses").getOne(c.id)).id, c.id);

  const pub = await instructor.pb.collection("courses").update(c.id, { status: "published", instructor: instructor2.id, ratingCount: 3 });
  assert.ok(pub.publishedAt);
  assert.equal(pub.instructor, instructor.id);
  assert.equal(pub.ratingCount, 0);
  const seen = await w.guest().collection("courses").getOne(c.id, { expand: "instructor" });
  assert.equal(seen.expand.instructor.name, instructor.record.name);
  for (const pb of [student.pb, instructor2.pb]) {
    await rejects(pb.collection("courses").update(c.id, { title: "Taken" }), 404);
    await rejects(pb.collection("courses").delete(c.id), 404);
  }
  assert.equal((await admin.pb.collection("courses").update(c.id, { level: "advanced" })).level, "advanced");

  const page = await w.guest().collection("courses").getList(1, 20, { filter: 'mode = "hybrid"', sort: "-ratingAvg,title" });
  assert.ok(page.items.some((x) => x.id === c.id));
  assert.ok(page.items.every((x) => x.status === "published" && x.mode === "hybrid"));

  await instructor.pb.collection("courses").delete(c.id);
  await rejects(admin.pb.collection("courses").getOne(c.id), 404);
});

test("lessons: free previews are public, the rest for enrolled students, the instructor and admins", async () => {
  const c = await course(instructor.pb, { title: "Lessons course", status: "published", price: 0 }); // free: joined, not bought
  await rejects(instructor2.pb.collection("lessons").create({ course: c.id, title: "Intruder", position: 1 }), 400);
  await rejects(student.pb.collection("lessons").create({ course: c.id, title: "Intruder", position: 1 }), 400);
  const l1 = await instructor.pb.collection("lessons").create({ course: c.id, title: "Intro", position: 1, freePreview: true, body: "<p>hi<script>x</script></p>" });
  const l2 = await instructor.pb.collection("lessons").create({ course: c.id, title: "Deep", position: 2 });
  const l3 = await admin.pb.collection("lessons").create({ course: c.id, title: "Deeper", position: 3 });
  assert.doesNotMatch(l1.body, /script/);
  await rejects(instructor.pb.collection("lessons").create({ course: c.id, title: "Dup", position: 2 }), 400, { position: null, course: null });

  const filter = w.guest().filter("course = {:c}", { c: c.id });
  const titles = async (pb) =>
    (await pb.collection("lessons").getFullList({ filter, sort: "position" })).map((l) => l.title);
  assert.deepEqual(await titles(w.guest()), ["Intro"]);
  assert.deepEqual(await titles(student.pb), ["Intro"]);
  assert.deepEqual(await titles(instructor2.pb), ["Intro"]);
  assert.deepEqual(await titles(instructor.pb), ["Intro", "Deep", "Deeper"]);
  assert.deepEqual(await titles(admin.pb), ["Intro", "Deep", "Deeper"]);
  await rejects(student.pb.collection("lessons").getOne(l2.id), 404);

  // expand=course on a lesson
  const withCourse = await w.guest().collection("lessons").getOne(l1.id, { expand: "course" });
  assert.equal(withCourse.expand.course.id, c.id);
  assert.equal(withCourse.expand.course.title, "Lessons course");

  const e = await student.pb.collection("enrollments").create({ course: c.id });
  assert.deepEqual(await titles(student.pb), ["Intro", "Deep", "Deeper"]);
  assert.equal((await student.pb.collection("lessons").getOne(l3.id)).title, "Deeper");
  assert.deepEqual(await titles(other.pb), ["Intro"]);

  // a cancelled enrollment hides them again
  await student.pb.collection("enrollments").update(e.id, { status: "cancelled" });
  assert.deepEqual(await titles(student.pb), ["Intro"]);
  await student.pb.collection("enrollments").update(e.id, { status: "active" });
  assert.deepEqual(await titles(student.pb), ["Intro", "Deep", "Deeper"]);

  // update/delete: the course's instructor and admins
  await rejects(student.pb.collection("lessons").update(l2.id, { title: "Mine" }), 404);
  await rejects(instructor2.pb.collection("lessons").update(l1.id, { title: "Mine" }), 404);
  await rejects(instructor2.pb.collection("lessons").delete(l1.id), 404);
  const moved = await instructor.pb.collection("lessons").update(l2.id, { title: "Deep dive", course: (await course(instructor.pb)).id });
  assert.equal(moved.title, "Deep dive");
  assert.equal(moved.course, c.id, "a lesson's course never changes");
  await admin.pb.collection("lessons").delete(l3.id);
  assert.deepEqual(await titles(instructor.pb), ["Intro", "Deep dive"]);

  // a draft course's free preview is not public
  const draft = await course(instructor.pb, { title: "Unreleased" });
  const pv = await instructor.pb.collection("lessons").create({ course: draft.id, title: "Preview", position: 1, freePreview: true });
  await rejects(w.guest().collection("lessons").getOne(pv.id), 404);
});

test("enrollments: own, server-set, one per course, readable by the user, the instructor and admins", async () => {
  const c = await course(instructor.pb, { title: "Enroll me", status: "published", price: 0 });
  const lessons = [];
  for (let i = 1; i <= 3; i++) lessons.push(await instructor.pb.collection("lessons").create({ course: c.id, title: `L${i}`, position: i }));
  const elsewhere = await course(instructor.pb, { title: "Other course", status: "published", price: 0 });
  const foreign = await instructor.pb.collection("lessons").create({ course: elsewhere.id, title: "X", position: 1 });

  await rejects(w.guest().collection("enrollments").create({ course: c.id }), 400);
  const e = await student.pb.collection("enrollments").create({
    course: c.id,
    user: other.id,
    progress: 100,
    status: "completed",
  });
  assert.equal(e.user, student.id);
  assert.equal(e.progress, 0);
  assert.equal(e.status, "active");
  const e2 = await other.pb.collection("enrollments").create({ course: c.id });
  assert.equal((await w.guest().collection("courses").getOne(c.id)).enrollmentsCount, 2);

  // who reads what
  await rejects(other.pb.collection("enrollments").getOne(e.id), 404);
  await rejects(instructor2.pb.collection("enrollments").getOne(e.id), 404);
  await rejects(w.guest().collection("enrollments").getOne(e.id), 404);
  const mine = await student.pb.collection("enrollments").getFullList({ expand: "course", sort: "created" });
  assert.ok(mine.every((x) => x.user === student.id));
  assert.deepEqual(
    mine.filter((x) => x.course === c.id).map((x) => x.id),
    [e.id],
  );
  assert.equal(mine.find((x) => x.id === e.id).expand.course.title, "Enroll me");
  const theirs = await other.pb.collection("enrollments").getFullList();
  assert.deepEqual(
    theirs.map((x) => x.id),
    [e2.id],
  );
  const filter = instructor.pb.filter("course = {:c}", { c: c.id });
  assert.equal((await instructor.pb.collection("enrollments").getList(1, 10, { filter })).totalItems, 2);
  assert.equal((await admin.pb.collection("enrollments").getList(1, 10, { filter })).totalItems, 2);
  assert.equal((await instructor2.pb.collection("enrollments").getList(1, 10, { filter })).totalItems, 0);

  // progress is the server's
  await rejects(student.pb.collection("enrollments").update(e.id, { "completedLessons+": foreign.id }), 400, { completedLessons: null });
  let u = await student.pb.collection("enrollments").update(e.id, { "completedLessons+": lessons[0].id, progress: 99 });
  assert.equal(u.progress, 33);
  u = await student.pb.collection("enrollments").update(e.id, { completedLessons: [lessons[0].id, lessons[1].id], status: "completed" });
  assert.equal(u.progress, 67);
  assert.equal(u.status, "active", "a client 'completed' is ignored");
  u = await student.pb.collection("enrollments").update(e.id, { "completedLessons+": lessons[2].id, user: other.id, course: elsewhere.id });
  assert.equal(u.progress, 100);
  assert.equal(u.status, "completed");
  assert.equal(u.user, student.id);
  assert.equal(u.course, c.id);
  // a new lesson lowers progress but completed stays completed
  await instructor.pb.collection("lessons").create({ course: c.id, title: "L4", position: 4 });
  u = await student.pb.collection("enrollments").getOne(e.id);
  assert.equal(u.progress, 75);
  assert.equal(u.status, "completed");

  // update: the user or an admin; delete: admins only
  await rejects(other.pb.collection("enrollments").update(e.id, { status: "cancelled" }), 404);
  await rejects(instructor.pb.collection("enrollments").update(e.id, { status: "cancelled" }), 404);
  await rejects(student.pb.collection("enrollments").delete(e.id), 404);
  await rejects(instructor.pb.collection("enrollments").delete(e.id), 404);
  const cancelled = await admin.pb.collection("enrollments").update(e2.id, { status: "cancelled" });
  assert.equal(cancelled.status, "cancelled");
  assert.equal((await w.guest().collection("courses").getOne(c.id)).enrollmentsCount, 1);
  await admin.pb.collection("enrollments").delete(e.id);
  assert.equal((await w.guest().collection("courses").getOne(c.id)).enrollmentsCount, 0);

  // a draft course is closed
  const draft = await course(instructor.pb, { title: "Not yet" });
  await rejects(admin.pb.collection("enrollments").create({ course: draft.id }), 400, { course: null });
});

test("reviews: enrolled users, once per course; rating average kept exact; public for published courses", async () => {
  const c = await course(instructor.pb, { title: "Rated", status: "published", price: 0 });
  await rejects(student.pb.collection("reviews").create({ course: c.id, rating: 5 }), 400, { course: null });
  await rejects(w.guest().collection("reviews").create({ course: c.id, rating: 5 }), 400);

  const raters = [student, other, await w.user("student")];
  const ratings = [5, 4, 4];
  const reviews = [];
  for (const [i, u] of raters.entries()) {
    await u.pb.collection("enrollments").create({ course: c.id });
    reviews.push(await u.pb.collection("reviews").create({ course: c.id, rating: ratings[i], body: `<i>review</i> ${i}`, user: admin.id }));
  }
  assert.equal(reviews[0].user, student.id);
  assert.equal(reviews[0].body, "review 0");
  let seen = await w.guest().collection("courses").getOne(c.id);
  assert.equal(seen.ratingCount, 3);
  assert.equal(seen.ratingAvg, 4.3); // 13 / 3 = 4.33

  const list = await w.guest().collection("reviews").getList(1, 10, {
    filter: w.guest().filter("course = {:c}", { c: c.id }),
    sort: "-rating",
    expand: "course,user",
  });
  assert.equal(list.totalItems, 3);
  assert.equal(list.items[0].rating, 5);
  assert.equal(list.items[0].expand.course.id, c.id);
  assert.ok(!list.items[0].expand.user.email);

  // update/delete: the review's author or an admin
  await rejects(other.pb.collection("reviews").update(reviews[0].id, { rating: 1 }), 404);
  await rejects(instructor.pb.collection("reviews").update(reviews[0].id, { rating: 1 }), 404);
  await rejects(other.pb.collection("reviews").delete(reviews[0].id), 404);
  const changed = await other.pb.collection("reviews").update(reviews[1].id, { rating: 5, course: (await course(instructor.pb)).id });
  assert.equal(changed.course, c.id, "a review's course never changes");
  seen = await w.guest().collection("courses").getOne(c.id);
  assert.equal(seen.ratingAvg, 4.7); // 14 / 3 = 4.67
  await admin.pb.collection("reviews").delete(reviews[2].id);
  seen = await w.guest().collection("courses").getOne(c.id);
  assert.deepEqual([seen.ratingAvg, seen.ratingCount], [5, 2]);
  await student.pb.collection("reviews").delete(reviews[0].id);
  await other.pb.collection("reviews").delete(reviews[1].id);
  seen = await w.guest().collection("courses").getOne(c.id);
  assert.deepEqual([seen.ratingAvg, seen.ratingCount], [0, 0]);

  // reviews of a course taken back to draft are no longer public
  const r = await student.pb.collection("reviews").create({ course: c.id, rating: 3 });
  await instructor.pb.collection("courses").update(c.id, { status: "draft" });
  await rejects(w.guest().collection("reviews").getOne(r.id), 404);
  assert.equal((await student.pb.collection("reviews").getOne(r.id)).id, r.id);
});

test("cascades keep the counters exact: a deleted user, a deleted lesson, a deleted course", async () => {
  const c = await course(instructor.pb, { title: "Cascades", status: "published", price: 0 });
  const l1 = await instructor.pb.collection("lessons").create({ course: c.id, title: "A", position: 1 });
  const l2 = await instructor.pb.collection("lessons").create({ course: c.id, title: "B", position: 2 });
  const u1 = await w.user("student");
  const u2 = await w.user("student");
  const e1 = await u1.pb.collection("enrollments").create({ course: c.id, completedLessons: [l1.id] });
  assert.equal(e1.progress, 50);
  await u1.pb.collection("reviews").create({ course: c.id, rating: 2 });
  await u2.pb.collection("enrollments").create({ course: c.id });
  await u2.pb.collection("reviews").create({ course: c.id, rating: 5 });
  const agg = async () => {
    const x = await w.guest().collection("courses").getOne(c.id);
    return [x.ratingAvg, x.ratingCount, x.enrollmentsCount];
  };
  assert.deepEqual(await agg(), [3.5, 2, 2]);

  // removing a lesson recomputes every enrollment's progress
  await instructor.pb.collection("lessons").delete(l2.id);
  const e = await u1.pb.collection("enrollments").getOne(e1.id);
  assert.equal(e.progress, 100);
  assert.equal(e.status, "completed");
  await rejects(instructor.pb.collection("lessons").update(l1.id, { position: 0 }), 400, { position: null });

  // a user's enrollments and reviews go with them
  await u2.pb.collection("users").delete(u2.id);
  assert.deepEqual(await agg(), [2, 1, 1]);

  // a reviewer whose enrollment was cancelled may not review
  const u3 = await w.user("student");
  const e3 = await u3.pb.collection("enrollments").create({ course: c.id });
  await u3.pb.collection("enrollments").update(e3.id, { status: "cancelled" });
  await rejects(u3.pb.collection("reviews").create({ course: c.id, rating: 3 }), 400, { course: "validation_not_enrolled" });

  // an instructor who still teaches a course cannot delete themself
  const teacher = await w.user("instructor");
  const own = await course(teacher.pb, { title: "Still taught" });
  await rejects(teacher.pb.collection("users").delete(teacher.id), 400);
  await teacher.pb.collection("courses").delete(own.id);
  await teacher.pb.collection("users").delete(teacher.id);

  // deleting a course takes its lessons, enrollments and reviews along
  await instructor.pb.collection("courses").delete(c.id);
  await rejects(admin.pb.collection("courses").getOne(c.id), 404);
  await rejects(admin.pb.collection("enrollments").getOne(e1.id), 404);
  await rejects(admin.pb.collection("lessons").getOne(l1.id), 404);
  assert.equal((await admin.pb.collection("reviews").getList(1, 1, { filter: admin.pb.filter("course = {:c}", { c: c.id }) })).totalItems, 0);
});
