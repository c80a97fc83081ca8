// Paid courses through the JS SDK against the real binary and stripe-mock:
// a paid course is bought, not joined; checkout opens a Stripe Checkout
// Session (asking twice reuses it); Stripe's signed event fulfils the order
// once (a replay changes nothing, a forged one is refused); the lessons open;
// a full refund locks them again, live.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects } from "../lib/sdk.mjs";
import { startStripeMock, event, paidSession, fullRefund, deliver } from "../lib/stripe.mjs";

let mock, w, student, other, instructor, admin, course, paidLesson, preview;
before(async () => {
  mock = await startStripeMock();
  w = await startWorld({ env: mock.env });
  [student, other, instructor, admin] = [await w.user("student"), await w.user("student"), await w.user("instructor"), await w.user("admin")];
  course = await instructor.pb.collection("courses").create({ title: "Go for money", durationDays: 10, price: 599, currency: "USD", status: "published" });
  preview = await instructor.pb.collection("lessons").create({ course: course.id, title: "Preview", position: 1, freePreview: true });
  paidLesson = await instructor.pb.collection("lessons").create({ course: course.id, title: "The paid part", position: 2 });
});
after(async () => {
  await w?.stop();
  mock?.stop();
});

const checkout = (pb, id) => pb.send(`/api/courses/${id}/checkout`, { method: "POST" });
const state = (pb, sid) => pb.send(`/api/checkout/${sid}`, { method: "GET" });

test("checkout: a paid course is bought, not joined; admins enroll for free", async () => {
  await rejects(student.pb.collection("enrollments").create({ course: course.id }), 400, { course: "validation_course_must_be_purchased" });
  await rejects(checkout(w.guest(), course.id), 401);
  const free = await instructor.pb.collection("courses").create({ title: "Free Go", durationDays: 1, status: "published" });
  await rejects(checkout(student.pb, free.id), 400, { course: "validation_course_free" });
  await student.pb.collection("enrollments").create({ course: free.id });

  const gift = await admin.pb.collection("enrollments").create({ course: course.id, user: other.id });
  assert.equal(gift.user, other.id);
  assert.equal(gift.status, "active");
  await rejects(checkout(other.pb, course.id), 400, { course: "validation_already_enrolled" });
});

test("checkout: pay, lessons open; replay and forgery change nothing; a refund locks them again, live", async () => {
  const first = await checkout(student.pb, course.id);
  assert.match(first.sessionId, /^cs_/);
  assert.match(first.url, /^https:\/\/checkout\.stripe\.com\//);
  const again = await checkout(student.pb, course.id);
  assert.equal(again.sessionId, first.sessionId, "an open session is reused");

  const orders = await student.pb.collection("orders").getFullList();
  assert.equal(orders.length, 1);
  const [order] = orders;
  assert.equal(order.status, "pending");
  assert.equal(order.course, course.id);
  assert.equal(order.user, student.id);
  await rejects(student.pb.collection("orders").update(order.id, { status: "paid" }), 403);
  assert.equal((await other.pb.collection("orders").getFullList()).length, 0);

  let s = await state(student.pb, first.sessionId);
  assert.equal(s.status, "pending");
  assert.equal(s.enrollment, null);
  await rejects(state(other.pb, first.sessionId), 404);
  await rejects(student.pb.collection("lessons").getOne(paidLesson.id), 404);

  const seen = [];
  await student.pb.collection("enrollments").subscribe("*", (e) => seen.push(e));

  // Stripe's event, and a forged copy of it
  const paid = event("checkout.session.completed", { ...paidSession(first.sessionId), metadata: { order: order.id } });
  assert.equal((await deliver(w.url, paid, { secret: "whsec_forged" })).status, 400);
  assert.equal((await deliver(w.url, paid, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status, 400);
  assert.equal((await state(student.pb, first.sessionId)).status, "pending");
  const r = await deliver(w.url, paid);
  assert.equal(r.status, 200);
  assert.equal(r.body.outcome, "fulfilled");
  const replay = await deliver(w.url, paid);
  assert.deepEqual([replay.status, replay.body.outcome], [200, "duplicate"]);

  s = await state(student.pb, first.sessionId);
  assert.equal(s.status, "paid");
  assert.equal(s.order.amount, 599);
  assert.equal(s.order.currency, "USD");
  assert.equal(s.enrollment.status, "active");
  assert.equal((await student.pb.collection("lessons").getOne(paidLesson.id)).title, "The paid part");
  assert.equal((await w.guest().collection("courses").getOne(course.id)).enrollmentsCount, 2);
  await rejects(checkout(student.pb, course.id), 400, { course: "validation_already_enrolled" });

  // a full refund: access goes, the count follows, subscribers hear it
  const refund = await deliver(w.url, event("charge.refunded", fullRefund(`pi_${first.sessionId}`)));
  assert.deepEqual([refund.status, refund.body.outcome], [200, "refunded"]);
  await rejects(student.pb.collection("lessons").getOne(paidLesson.id), 404);
  assert.equal((await student.pb.collection("lessons").getOne(preview.id)).title, "Preview");
  s = await state(student.pb, first.sessionId);
  assert.equal(s.status, "refunded");
  assert.equal(s.enrollment.status, "cancelled");
  assert.equal((await w.guest().collection("courses").getOne(course.id)).enrollmentsCount, 1);
  await rejects(student.pb.collection("enrollments").update(s.enrollment.id, { status: "active" }), 400, { course: "validation_course_must_be_purchased" });
  const deadline = Date.now() + 5000;
  while (!seen.some((e) => e.action === "update" && e.record.status === "cancelled") && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 25));
  }
  assert.ok(seen.some((e) => e.action === "create" && e.record.status === "active"), "realtime: enrollment created");
  assert.ok(seen.some((e) => e.action === "update" && e.record.status === "cancelled"), `realtime: enrollment cancelled (${JSON.stringify(seen.map((e) => [e.action, e.record.status]))})`);
  await student.pb.collection("enrollments").unsubscribe("*");
});
