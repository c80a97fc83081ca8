// Realtime through the SDK's subscribe(), as a live page uses it: comments
// arriving on a post, a course's rating moving after a review, derived fields
// (counters, progress, scheduled publishing) reaching subscribers — and nobody
// receiving an event for a record their rules hide. Every subscription below
// has a leak predicate; the last test counts leaks across all of them and
// asserts 0.
//
// Waits are bounded: an expected event is awaited at most 2 s (the scheduler
// test longer, it runs every few seconds). "No event" is checked after a later
// sentinel event that IS expected has arrived on the same connection, plus a
// ~1 s grace, so a missed event is not just a sleep that happened to be short.
// Rate limits are relaxed for this file (startWorld).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, record, sleep } from "../lib/sdk.mjs";

const GRACE_MS = 1000;

let w, author, studentA, studentB, instructor, admin, post, course;
const watchers = [];

/** watch subscribes and registers leakIf(event) → true when the event is one
 * this subscriber must never receive. */
async function watch(name, pb, collection, topic, leakIf, options) {
  const rec = await record(pb, collection, topic, options);
  watchers.push({ name, collection, topic, rec, leakIf });
  return rec;
}

function leaks() {
  return watchers.flatMap((wt) =>
    wt.rec.events
      .filter((e) => wt.leakIf(e))
      .map((e) => ({ watcher: wt.name, action: e.action, id: e.record?.id, status: e.record?.status })),
  );
}

/** quiet waits for the sentinel on rec, then a grace period, and asserts that
 * no event matching pred arrived on any of recs. */
async function quiet(sentinel, recs, pred, what) {
  await sentinel;
  await sleep(GRACE_MS);
  for (const [name, r] of Object.entries(recs)) {
    const bad = r.events.filter(pred);
    assert.deepEqual(
      bad.map((e) => [e.action, e.record.id]),
      [],
      `${name} received ${what}`,
    );
  }
}

before(async () => {
  w = await startWorld();
  [author, studentA, studentB, instructor, admin] = [
    await w.user("author"),
    await w.user("student"),
    await w.user("student"),
    await w.user("instructor"),
    await w.user("admin"),
  ];
  post = await author.pb.collection("posts").create({ title: "Live post", status: "published" });
  course = await instructor.pb.collection("courses").create({ title: "Live course", durationDays: 10, status: "published" });
});
after(async () => {
  await w?.stop();
});

test("a subscriber to a post's comments receives create, update and delete", async () => {
  const guest = w.guest();
  const filter = guest.filter("post = {:p}", { p: post.id });
  const live = await watch("guest comments of the post", guest, "comments", "*", (e) => e.record.status !== "visible", { filter });
  const otherPost = await author.pb.collection("posts").create({ title: "Other live post", status: "published" });

  const c = await studentA.pb.collection("comments").create({ post: post.id, body: "hello live" });
  const created = await live.waitFor((e) => e.action === "create" && e.record.id === c.id, 2000, "create");
  assert.equal(created.record.body, "hello live");
  assert.equal(created.record.author, studentA.id);

  await studentA.pb.collection("comments").update(c.id, { body: "hello again" });
  const updated = await live.waitFor((e) => e.action === "update" && e.record.id === c.id, 2000, "update");
  assert.equal(updated.record.body, "hello again");
  assert.equal(updated.record.edited, true);

  const reply = await studentB.pb.collection("comments").create({ post: post.id, parent: c.id, body: "a reply" });
  await live.waitFor((e) => e.action === "create" && e.record.id === reply.id, 2000, "reply create");

  await studentA.pb.collection("comments").delete(c.id);
  await live.waitFor((e) => e.action === "delete" && e.record.id === c.id, 2000, "delete");
  // the reply goes with its parent, and its subscriber hears about it
  await live.waitFor((e) => e.action === "delete" && e.record.id === reply.id, 2000, "cascade delete");

  // the filter keeps other posts' comments out
  const elsewhere = await studentA.pb.collection("comments").create({ post: otherPost.id, body: "elsewhere" });
  const sentinel = await studentA.pb.collection("comments").create({ post: post.id, body: "sentinel" });
  await quiet(live.waitFor((e) => e.record.id === sentinel.id), { live }, (e) => e.record.id === elsewhere.id, "a comment of another post");

  // a record-id subscription gets that record's changes too
  const one = await watch("guest one comment", w.guest(), "comments", sentinel.id, (e) => e.record.status !== "visible");
  await studentA.pb.collection("comments").update(sentinel.id, { body: "sentinel edited" });
  const ev = await one.waitFor((e) => e.action === "update", 2000, "update by id");
  assert.equal(ev.record.body, "sentinel edited");
});

test("derived fields reach subscribers: commentsCount on the post, ratingAvg/ratingCount on the course", async () => {
  const guest = w.guest();
  const postLive = await watch("guest post by id", guest, "posts", post.id, (e) => e.record.status !== "published");
  const before = (await guest.collection("posts").getOne(post.id)).commentsCount;
  await studentB.pb.collection("comments").create({ post: post.id, body: "counted" });
  await postLive.waitFor((e) => e.action === "update" && e.record.commentsCount === before + 1, 2000, "commentsCount update");

  const courseLive = await watch("guest course by id", w.guest(), "courses", course.id, (e) => e.record.status !== "published");
  await studentA.pb.collection("enrollments").create({ course: course.id });
  await courseLive.waitFor((e) => e.record.enrollmentsCount === 1, 2000, "enrollmentsCount 1");
  await studentB.pb.collection("enrollments").create({ course: course.id });

  await studentA.pb.collection("reviews").create({ course: course.id, rating: 4, body: "good" });
  let ev = await courseLive.waitFor((e) => e.action === "update" && e.record.ratingCount === 1, 2000, "rating after 1 review");
  assert.equal(ev.record.ratingAvg, 4);
  const r = await studentB.pb.collection("reviews").create({ course: course.id, rating: 5 });
  ev = await courseLive.waitFor((e) => e.action === "update" && e.record.ratingCount === 2, 2000, "rating after 2 reviews");
  assert.equal(ev.record.ratingAvg, 4.5);
  assert.equal(ev.record.enrollmentsCount, 2);
  await studentB.pb.collection("reviews").update(r.id, { rating: 1 });
  ev = await courseLive.waitFor((e) => e.action === "update" && e.record.ratingAvg === 2.5, 2000, "rating after a changed review");
  assert.equal(ev.record.ratingCount, 2);

  // the enrolled student sees their own progress move when a lesson is added
  const mine = await watch("student A own enrollments", studentA.pb, "enrollments", "*", (e) => e.record.user !== studentA.id);
  const l1 = await instructor.pb.collection("lessons").create({ course: course.id, title: "One", position: 1 });
  const [enr] = await studentA.pb.collection("enrollments").getFullList({ filter: studentA.pb.filter("course = {:c}", { c: course.id }) });
  await studentA.pb.collection("enrollments").update(enr.id, { completedLessons: [l1.id] });
  await mine.waitFor((e) => e.record.id === enr.id && e.record.progress === 100, 2000, "progress 100");
  await instructor.pb.collection("lessons").create({ course: course.id, title: "Two", position: 2 });
  await mine.waitFor((e) => e.record.id === enr.id && e.record.progress === 50, 2000, "progress 50 after a new lesson");
});

test("a scheduled post reaches subscribers when the server publishes it", async () => {
  const guest = w.guest();
  const live = await watch("guest posts (scheduler)", guest, "posts", "*", (e) => e.record.status !== "published");
  const at = new Date(Date.now() + 3000).toISOString();
  const p = await author.pb.collection("posts").create({ title: "Scheduled live", status: "scheduled", publishedAt: at });
  const ev = await live.waitFor((e) => e.record.id === p.id, 70_000, "the scheduled publish");
  assert.equal(ev.action, "update");
  assert.equal(ev.record.status, "published");
  assert.equal(new Date(ev.record.publishedAt.replace(" ", "T")).getTime(), new Date(at).getTime());
});

test("guests subscribed to posts get nothing for drafts; nor do other authors", async () => {
  const guest = await watch("guest posts", w.guest(), "posts", "*", (e) => e.record.status !== "published");
  const student = await watch("student B posts", studentB.pb, "posts", "*", (e) => e.record.status !== "published");
  const otherAuthor = await w.user("author");
  const peer = await watch("other author posts", otherAuthor.pb, "posts", "*", (e) => e.record.status !== "published");
  const owner = await watch("post author posts", author.pb, "posts", "*", (e) => e.record.author !== author.id && e.record.status !== "published");

  const draft = await author.pb.collection("posts").create({ title: "Live draft", body: "<p>secret</p>" });
  await author.pb.collection("posts").update(draft.id, { title: "Live draft, edited" });
  const scheduled = await author.pb.collection("posts").create({
    title: "Live scheduled",
    status: "scheduled",
    publishedAt: new Date(Date.now() + 86_400_000).toISOString(),
  });
  // a published post taken back to draft, then its comment deleted (which re-saves the post)
  const pub = await author.pb.collection("posts").create({ title: "Soon unpublished", status: "published" });
  const c = await studentA.pb.collection("comments").create({ post: pub.id, body: "on a soon-draft" });
  await author.pb.collection("posts").update(pub.id, { status: "draft" });
  await author.pb.collection("comments").delete(c.id);
  await author.pb.collection("posts").delete(draft.id);

  // the author sees their own drafts live (the rule lets them)
  await owner.waitFor((e) => e.record.id === draft.id && e.action === "update", 2000, "own draft update");

  const sentinel = await author.pb.collection("posts").create({ title: "Live sentinel", status: "published" });
  const secret = new Set([draft.id, scheduled.id]);
  const hidden = (e) => secret.has(e.record.id) || (e.record.id === pub.id && e.record.status !== "published");
  await Promise.all([
    quiet(guest.waitFor((e) => e.record.id === sentinel.id), { guest }, hidden, "a draft"),
    quiet(student.waitFor((e) => e.record.id === sentinel.id), { student }, hidden, "a draft"),
    quiet(peer.waitFor((e) => e.record.id === sentinel.id), { peer }, hidden, "a draft"),
  ]);
  // the guest did see pub while it was published
  assert.ok(guest.events.some((e) => e.record.id === pub.id && e.action === "create"));
});

test("guests subscribed to comments get nothing for hidden comments", async () => {
  const notVisible = (e) => e.record.status !== "visible";
  const guest = await watch("guest comments", w.guest(), "comments", "*", notVisible);
  const student = await watch("student B comments", studentB.pb, "comments", "*", (e) => notVisible(e) && e.record.author !== studentB.id);
  const writer = await watch("student A comments", studentA.pb, "comments", "*", (e) => notVisible(e) && e.record.author !== studentA.id);

  // a comment the post's author creates hidden, and one hidden by moderation
  const hiddenAtBirth = await author.pb.collection("comments").create({ post: post.id, body: "hidden at birth", status: "hidden" });
  assert.equal(hiddenAtBirth.status, "hidden");
  const c = await studentA.pb.collection("comments").create({ post: post.id, body: "soon hidden" });
  await guest.waitFor((e) => e.record.id === c.id && e.action === "create", 2000, "the visible create");
  await author.pb.collection("comments").update(c.id, { status: "hidden" });
  await studentA.pb.collection("comments").update(c.id, { body: "soon hidden, edited" });
  await admin.pb.collection("comments").update(c.id, { status: "flagged" });
  // the author of the hidden comment still sees its changes
  await writer.waitFor((e) => e.record.id === c.id && e.record.status === "flagged", 2000, "own flagged comment");
  await author.pb.collection("comments").delete(hiddenAtBirth.id);

  const sentinel = await studentA.pb.collection("comments").create({ post: post.id, body: "visible sentinel" });
  // the hide reached them once, as a delete of what they saw; nothing after it
  for (const r of [guest, student]) {
    const gone = await r.waitFor((e) => e.record.id === c.id && e.action === "delete", 2000, "the hide, as a delete");
    assert.equal(gone.record.status, "visible");
    assert.equal(gone.record.body, "soon hidden");
  }
  const seenAsDelete = (e) => e.action === "delete" && e.record.status === "visible" && e.record.body === "soon hidden";
  const secret = (e) => e.record.id === hiddenAtBirth.id || (e.record.id === c.id && e.action !== "create" && !seenAsDelete(e));
  await Promise.all([
    quiet(guest.waitFor((e) => e.record.id === sentinel.id), { guest }, secret, "a hidden comment"),
    quiet(student.waitFor((e) => e.record.id === sentinel.id), { student }, secret, "a hidden comment"),
  ]);
});

test("a student subscribed to enrollments gets nothing for another student's enrollment", async () => {
  const other = (e) => e.record.user !== studentB.id;
  const b = await watch("student B enrollments", studentB.pb, "enrollments", "*", other);
  const guest = await watch("guest enrollments", w.guest(), "enrollments", "*", () => true);
  const teacher = await watch("instructor enrollments", instructor.pb, "enrollments", "*", () => false);

  const c2 = await instructor.pb.collection("courses").create({ title: "Second live course", durationDays: 2, status: "published" });
  const lesson = await instructor.pb.collection("lessons").create({ course: c2.id, title: "Only", position: 1 });
  const a = await studentA.pb.collection("enrollments").create({ course: c2.id });
  await studentA.pb.collection("enrollments").update(a.id, { completedLessons: [lesson.id] });
  await instructor.pb.collection("lessons").create({ course: c2.id, title: "Another", position: 2 }); // re-saves A's progress
  await studentA.pb.collection("enrollments").update(a.id, { status: "cancelled" });
  await teacher.waitFor((e) => e.record.id === a.id && e.record.status === "cancelled", 2000, "the instructor sees it");
  await admin.pb.collection("enrollments").delete(a.id);

  const sentinel = await studentB.pb.collection("enrollments").create({ course: c2.id });
  await quiet(b.waitFor((e) => e.record.id === sentinel.id), { b }, (e) => e.record.id === a.id, "another student's enrollment");
  await quiet(teacher.waitFor((e) => e.record.id === sentinel.id), { guest }, () => true, "any enrollment");
});

test("guests get nothing for draft courses, locked lessons, users' lists or emails", async () => {
  const courses = await watch("guest courses", w.guest(), "courses", "*", (e) => e.record.status !== "published");
  const lessons = await watch("guest lessons", w.guest(), "lessons", "*", (e) => !e.record.freePreview);
  const users = await watch("guest users list", w.guest(), "users", "*", () => true);
  const profile = await watch("guest user profile", w.guest(), "users", studentA.id, (e) => Boolean(e.record.email));
  const authorProfile = await watch("guest author profile (expand)", w.guest(), "posts", "*", (e) => Boolean(e.record.expand?.author?.email), {
    expand: "author",
  });

  const draft = await instructor.pb.collection("courses").create({ title: "Live draft course", durationDays: 1 });
  await instructor.pb.collection("courses").update(draft.id, { summary: "still secret" });
  await instructor.pb.collection("lessons").create({ course: draft.id, title: "Draft preview", position: 1, freePreview: true });
  const locked = await instructor.pb.collection("lessons").create({ course: course.id, title: "Locked", position: 10 });
  await instructor.pb.collection("lessons").update(locked.id, { title: "Locked, edited" });
  await studentA.pb.collection("users").update(studentA.id, { name: "Renamed live" });
  await profile.waitFor((e) => e.record.name === "Renamed live", 2000, "the public profile update");

  const preview = await instructor.pb.collection("lessons").create({ course: course.id, title: "Free", position: 11, freePreview: true });
  const sentinel = await instructor.pb.collection("courses").update(course.id, { summary: "sentinel" });
  const p = await author.pb.collection("posts").create({ title: "Expanded live", status: "published" });
  await authorProfile.waitFor((e) => e.record.id === p.id, 2000, "the expanded post");
  await quiet(courses.waitFor((e) => e.record.id === sentinel.id), { courses }, (e) => e.record.id === draft.id, "a draft course");
  await quiet(lessons.waitFor((e) => e.record.id === preview.id), { lessons }, (e) => !e.record.freePreview || e.record.course === draft.id, "a locked lesson");
  assert.deepEqual(users.events.length, 0, "a guest may not list users, so gets no users events");
});

test("a course taken back to draft: its reviews and free previews stop reaching guests", async () => {
  const c = await instructor.pb.collection("courses").create({ title: "Soon withdrawn", durationDays: 1, status: "published" });
  const preview = await instructor.pb.collection("lessons").create({ course: c.id, title: "Preview", position: 1, freePreview: true });
  await studentA.pb.collection("enrollments").create({ course: c.id });
  const review = await studentA.pb.collection("reviews").create({ course: c.id, rating: 4 });
  const withdrawn = new Set([c.id, preview.id, review.id]);
  let afterDraft = false;
  // the course, its free preview and its review leave the guest's view, each as
  // one delete of the record as the guest saw it (the published course)
  const leavesView = (e) => e.action === "delete" && (e.record.id !== c.id || e.record.status === "published");
  const leak = (e) => afterDraft && withdrawn.has(e.record.id) && !leavesView(e);
  const reviews = await watch("guest reviews", w.guest(), "reviews", "*", leak);
  const lessons = await watch("guest lessons (withdrawn)", w.guest(), "lessons", "*", leak);
  const courses = await watch("guest courses (withdrawn)", w.guest(), "courses", "*", leak);
  await instructor.pb.collection("courses").update(c.id, { status: "draft" });
  afterDraft = true; // the update above must not reach guests either: checked by leak()

  await studentA.pb.collection("reviews").update(review.id, { rating: 2, body: "changed my mind" });
  await instructor.pb.collection("lessons").update(preview.id, { title: "Preview, edited" });
  await studentA.pb.collection("reviews").delete(review.id);

  // sentinels on the published course (student B enrolled and reviewed it above)
  const rs = await studentB.pb.collection("reviews").getFirstListItem(studentB.pb.filter("course = {:c} && user = {:u}", { c: course.id, u: studentB.id }));
  await studentB.pb.collection("reviews").update(rs.id, { body: "sentinel" });
  const ls = await instructor.pb.collection("lessons").create({ course: course.id, title: "Free 2", position: 12, freePreview: true });
  await instructor.pb.collection("courses").update(course.id, { summary: "sentinel 2" });
  await Promise.all([
    quiet(reviews.waitFor((e) => e.record.id === rs.id), { reviews }, (e) => withdrawn.has(e.record.id) && !leavesView(e), "a review of a draft course"),
    quiet(lessons.waitFor((e) => e.record.id === ls.id), { lessons }, (e) => withdrawn.has(e.record.id) && !leavesView(e), "a lesson of a draft course"),
    quiet(courses.waitFor((e) => e.record.id === course.id), { courses }, (e) => withdrawn.has(e.record.id) && !leavesView(e), "a draft course"),
  ]);
  assert.equal(courses.events.filter(leavesView).length, 1, "the course left the guest's view once");
  assert.deepEqual(lessons.events.filter(leavesView).map((e) => e.record.id), [preview.id], "its free preview too");
  assert.deepEqual(reviews.events.filter(leavesView).map((e) => e.record.id), [review.id], "and its review");
});

test("moderation is live: a hidden comment is a delete, as each subscriber saw it", async () => {
  const p = await author.pb.collection("posts").create({ title: "Moderated post", status: "published" });
  const onPost = { filter: w.guest().filter("post = {:p}", { p: p.id }) };
  const c = await studentA.pb.collection("comments").create({ post: p.id, body: "spam spam" });
  const other = await studentA.pb.collection("comments").create({ post: post.id, body: "on another post" });
  const notVisible = (e) => e.action !== "delete" && e.record.status !== "visible";
  const page = await watch("guest post page (expand)", w.guest(), "comments", "*", notVisible, { ...onPost, expand: "author" });
  // (no status in its events: its shape is checked below)
  const slim = await watch("guest (fields)", w.guest(), "comments", c.id, () => false, { fields: "id,body" });
  const elsewhere = await watch("guest other post", w.guest(), "comments", "*", notVisible, {
    filter: w.guest().filter("post = {:p}", { p: post.id }),
  });
  const writer = await watch("comment author", studentA.pb, "comments", "*", () => false, onPost);
  const mod = await watch("admin", admin.pb, "comments", "*", () => false, onPost);

  await admin.pb.collection("comments").update(c.id, { status: "hidden" });

  const gone = await page.waitFor((e) => e.record.id === c.id, 2000, "the hide");
  assert.equal(gone.action, "delete");
  assert.equal(gone.record.status, "visible", "the comment as the guest saw it, never the new status");
  assert.equal(gone.record.body, "spam spam");
  assert.equal(gone.record.expand?.author?.id, studentA.id, "with the subscription's expand");
  assert.equal(gone.record.expand?.author?.email, undefined, "and the guest's rights");
  const cut = await slim.waitFor((e) => e.record.id === c.id, 2000, "the hide on a record topic");
  assert.equal(cut.action, "delete");
  assert.deepEqual(Object.keys(cut.record).sort(), ["body", "id"], "fields=id,body");
  for (const r of [writer, mod]) {
    const kept = await r.waitFor((e) => e.record.id === c.id, 2000, "the update");
    assert.equal(kept.action, "update");
    assert.equal(kept.record.status, "hidden");
  }

  // shown again: an update (a page adds the id it lacks)
  await admin.pb.collection("comments").update(c.id, { status: "visible" });
  const back = await page.waitFor((e) => e.record.id === c.id && e.action === "update", 2000, "shown again");
  assert.equal(back.record.status, "visible");

  // never a delete for a comment the subscription never saw
  await admin.pb.collection("comments").update(other.id, { body: "on another post, edited" });
  const sentinel = await studentA.pb.collection("comments").create({ post: post.id, body: "sentinel" });
  await quiet(elsewhere.waitFor((e) => e.record.id === sentinel.id), { elsewhere }, (e) => e.record.id === c.id, "a comment it never saw");
});

test("leaks across all subscriptions: 0", (t) => {
  const found = leaks();
  const events = watchers.reduce((n, wt) => n + wt.rec.events.length, 0);
  t.diagnostic(`realtime leaks: ${found.length} across ${watchers.length} subscriptions (${events} events received)`);
  assert.deepEqual(found, []);
  assert.ok(events > 20, "the subscriptions received events at all");
});
