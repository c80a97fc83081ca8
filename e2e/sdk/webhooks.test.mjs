// Webhooks from an admin's frontend: an admin creates a webhook, a student's
// comment is delivered to a receiver run by the test (its Standard Webhooks
// signature checked here with node:crypto, from the specification's text),
// the delivery and its attempts are read back, one delivery and then every
// failed one since a time are sent again through the retry routes, and a
// student or a guest is refused all of it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import crypto from "node:crypto";
import { startWorld, rejects } from "../lib/sdk.mjs";

// --- a receiver -------------------------------------------------------------

// Each request is kept with its raw body; answer(n) gives the status (and
// headers) of the nth request, 1-based.
function startReceiver() {
  const got = [];
  let answer = () => ({ status: 204 });
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const { status, headers = {} } = answer(got.length);
      res.writeHead(status, headers);
      res.end(status >= 400 ? "receiver says no" : "");
    });
  });
  return new Promise((resolve) =>
    srv.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${srv.address().port}/lectern`,
        got,
        answerWith: (fn) => (answer = fn),
        close: () => new Promise((r) => srv.close(r)),
      }),
    ),
  );
}

// verify is Standard Webhooks' verification written from the specification:
// the signed content is "{webhook-id}.{webhook-timestamp}.{body}", the key the
// base64-decoded secret after "whsec_", each signature in webhook-signature
// "v1,<base64 HMAC-SHA256>", space separated; the timestamp within 5 minutes.
function verify(secret, headers, body) {
  const id = headers["webhook-id"], ts = headers["webhook-timestamp"];
  assert.ok(id && ts && headers["webhook-signature"], "the three webhook-* headers");
  assert.ok(Math.abs(Date.now() / 1000 - Number(ts)) < 300, `timestamp ${ts} is now`);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const want = "v1," + crypto.createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
  const ok = headers["webhook-signature"]
    .split(" ")
    .some((s) => s.length === want.length && crypto.timingSafeEqual(Buffer.from(s), Buffer.from(want)));
  assert.ok(ok, `a signature matches ${want}: ${headers["webhook-signature"]}`);
}

async function eventually(what, fn, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---

let w, rc, admin, student, author, post, hook;
before(async () => {
  rc = await startReceiver();
  // the receiver is on loopback, which production refuses
  w = await startWorld({ env: { LECTERN_WEBHOOKS_ALLOW_PRIVATE: "true" } });
  [admin, student, author] = [await w.user("admin"), await w.user("student"), await w.user("author")];
  post = await author.pb.collection("posts").create({ title: "Webhooks e2e", body: "<p>Hooked</p>", status: "published" });
  hook = await admin.pb.collection("webhooks").create({ url: rc.url, events: ["comments.create"], description: "e2e" });
});
after(async () => {
  await w?.stop();
  await rc?.close();
});

test("an admin's webhook: generated secret, active by default", async () => {
  assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  assert.equal(Buffer.from(hook.secret.slice(6), "base64").length, 32);
  assert.equal(hook.active, true);
  assert.deepEqual(hook.events, ["comments.create"]);
});

test("a comment is delivered signed, and the admin sees the delivery and its attempt", async () => {
  const comment = await student.pb.collection("comments").create({ post: post.id, body: "Delivered to the receiver" });
  const req = await eventually("the delivery", () => rc.got.find((r) => r.body.includes(comment.id)));
  verify(hook.secret, req.headers, req.body);
  assert.equal(req.headers["content-type"], "application/json");
  const event = JSON.parse(req.body);
  assert.equal(event.type, "comments.create");
  assert.ok(!Number.isNaN(Date.parse(event.timestamp)), event.timestamp);
  assert.equal(event.data.collection, "comments");
  assert.equal(event.data.action, "create");
  assert.equal(event.data.record.id, comment.id);
  assert.equal(event.data.record.body, comment.body);

  const id = req.headers["webhook-id"];
  const d = await eventually("delivered", async () => {
    const d = await admin.pb.collection("webhookDeliveries").getOne(id);
    return d.status === "delivered" && d;
  });
  assert.equal(d.webhook, hook.id);
  assert.equal(d.type, "comments.create");
  assert.equal(d.attempts, 1);
  assert.equal(d.lastStatus, 204);
  assert.equal(d.payload.data.record.id, comment.id);
  const attempts = await admin.pb.collection("webhookAttempts").getFullList({ filter: `delivery = "${id}"`, sort: "attempt" });
  assert.equal(attempts.length, 1);
  assert.equal(attempts[0].attempt, 1);
  assert.equal(attempts[0].status, 204);
  assert.equal(attempts[0].error, "");
  assert.ok(attempts[0].durationMs >= 0);

  // one delivery sent again: the same webhook-id and body, a second attempt
  const again = await admin.pb.send(`/api/webhooks/deliveries/${id}/retry`, { method: "POST" });
  assert.equal(again.id, id);
  assert.equal(again.status, "pending");
  const second = await eventually("the second post", () => rc.got.filter((r) => r.headers["webhook-id"] === id)[1]);
  verify(hook.secret, second.headers, second.body);
  assert.equal(second.body, req.body);
  await eventually("two attempts", async () => {
    const d = await admin.pb.collection("webhookDeliveries").getOne(id);
    return d.status === "delivered" && d.attempts === 2;
  });
  const list = await admin.pb.collection("webhookAttempts").getList(1, 10, { filter: `delivery = "${id}"`, sort: "attempt" });
  assert.deepEqual(list.items.map((a) => a.attempt), [1, 2]);
});

test("after an outage, every failed delivery since a time is sent again", async () => {
  const since = new Date(Date.now() - 1000).toISOString();
  // the receiver is down and asks for an hour: no automatic retry meanwhile
  rc.answerWith(() => ({ status: 503, headers: { "Retry-After": "3600" } }));
  const comment = await student.pb.collection("comments").create({ post: post.id, body: "During the outage" });
  const req = await eventually("the failed attempt", () => rc.got.find((r) => r.body.includes(comment.id)));
  const id = req.headers["webhook-id"];
  const failed = await eventually("failed", async () => {
    const d = await admin.pb.collection("webhookDeliveries").getOne(id);
    return d.status === "failed" && d;
  });
  assert.equal(failed.lastStatus, 503);
  assert.match(failed.lastError, /HTTP 503/);
  const [attempt] = await admin.pb.collection("webhookAttempts").getFullList({ filter: `delivery = "${id}"` });
  assert.equal(attempt.status, 503);
  assert.equal(attempt.response, "receiver says no");

  rc.answerWith(() => ({ status: 200 }));
  const res = await admin.pb.send(`/api/webhooks/${hook.id}/retry-failed`, { method: "POST", body: { since } });
  assert.deepEqual(res, { retried: 1 });
  await eventually("delivered after the outage", async () => {
    const d = await admin.pb.collection("webhookDeliveries").getOne(id);
    return d.status === "delivered" && d.attempts === 2;
  });
  const retried = rc.got.filter((r) => r.headers["webhook-id"] === id);
  assert.equal(retried.length, 2);
  verify(hook.secret, retried[1].headers, retried[1].body);

  await rejects(admin.pb.send(`/api/webhooks/${hook.id}/retry-failed`, { method: "POST", body: { since: "last week" } }), 400, {
    since: "validation_since",
  });
});

test("a student or a guest is refused webhooks, deliveries, attempts and the retry routes", async () => {
  const [delivery] = (await admin.pb.collection("webhookDeliveries").getList(1, 1)).items;
  assert.ok(delivery);
  const since = { since: "2026-01-01T00:00:00Z" };
  for (const [who, pb, status] of [
    ["student", student.pb, 404],
    ["guest", w.guest(), 401],
  ]) {
    await rejects(pb.send(`/api/webhooks/deliveries/${delivery.id}/retry`, { method: "POST" }), status);
    await rejects(pb.send(`/api/webhooks/${hook.id}/retry-failed`, { method: "POST", body: since }), status);
    for (const c of ["webhooks", "webhookDeliveries", "webhookAttempts"]) {
      const list = await pb.collection(c).getList(1, 5);
      assert.equal(list.totalItems, 0, `${who} lists no ${c}`);
    }
    await rejects(pb.collection("webhookDeliveries").getOne(delivery.id), 404);
    await rejects(pb.collection("webhooks").create({ url: "https://evil.example.com/x", events: ["*"] }), 400);
  }
});
