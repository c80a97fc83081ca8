// The mail endpoints through the JS SDK (pb.send), against a real SMTP server
// (mailpit): subscribe → confirmation mail → confirm; an issue sent by
// `lectern newsletter send` with its one-click unsubscribe; the contact form.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects } from "../lib/sdk.mjs";
import { startMailpit, useMailpit, tokenIn } from "../lib/mailpit.mjs";

let w, mp, author, admin;
before(async () => {
  mp = await startMailpit();
  w = await startWorld();
  await useMailpit(w.su, mp, w.url);
  author = await w.user("author");
  admin = await w.user("admin");
});
after(async () => {
  await w?.stop();
  await mp?.stop();
});

test("newsletter: subscribe answers 202 {} and mails one confirmation link; confirm activates", async () => {
  const guest = w.guest();
  const email = `${w.uniq("reader")}@example.test`;
  assert.deepEqual(await guest.send("/api/newsletter/subscribe", { method: "POST", body: { email } }), {});
  const [msg] = await mp.waitFor(1, `to:${email}`);
  const full = await mp.message(msg.ID);
  const token = tokenIn(full.Text, `${w.url}/newsletter/confirm?token=`);
  // again: the same answer, no second mail within the hour
  assert.deepEqual(await guest.send("/api/newsletter/subscribe", { method: "POST", body: { email } }), {});
  await rejects(guest.send("/api/newsletter/confirm", { method: "POST", body: { token: "x".repeat(43) } }), 400, { token: "validation_invalid_token" });
  const res = await guest.send("/api/newsletter/confirm", { method: "POST", body: { token } });
  assert.deepEqual(res, { email, status: "active" });
  const sub = await w.su.collection("subscribers").getFirstListItem(`email = "${email}"`);
  assert.equal(sub.status, "active");
  assert.equal((await mp.messages(`to:${email}`)).length, 1);
  // subscribers are the admins' business
  assert.equal((await guest.collection("subscribers").getList(1, 10)).totalItems, 0);
  assert.ok((await admin.pb.collection("subscribers").getList(1, 50)).items.some((s) => s.email === email));
});

test("newsletter: a bad email is a 400 on email", async () => {
  await rejects(w.guest().send("/api/newsletter/subscribe", { method: "POST", body: { email: "nope" } }), 400, { email: "validation_is_email" });
});

test("newsletter: an issue carries one-click unsubscribe headers; the POST unsubscribes at once", async () => {
  const email = `${w.uniq("digest")}@example.test`;
  await w.su.collection("subscribers").create({ email, status: "active" });
  const post = await author.pb.collection("posts").create({ title: "Mail-ready post", body: "<p>Hello readers.</p>", status: "published" });
  const dry = w.server.run(["newsletter", "send", "--dry-run"]);
  assert.match(dry, /Issue #\d+ \(dry run, nothing sent\)/);
  assert.ok(dry.includes(`${w.url}/posts/${post.slug}`), dry);
  assert.equal((await w.su.collection("newsletterIssues").getList(1, 1)).totalItems, 0, "a dry run writes nothing");
  const out = w.server.run(["newsletter", "send"]);
  assert.match(out, /Issue #\d+: \d+ of \d+ sent/);
  const [msg] = await mp.waitFor(1, `to:${email}`);
  const full = await mp.message(msg.ID);
  assert.ok(full.Text.includes(`${w.url}/posts/${post.slug}`), "plain-text part links the post");
  const headers = await mp.headers(msg.ID);
  assert.deepEqual(headers["List-Unsubscribe-Post"], ["List-Unsubscribe=One-Click"]);
  const lu = headers["List-Unsubscribe"][0];
  assert.match(lu, /^<http:\/\/127\.0\.0\.1:\d+\/api\/newsletter\/unsubscribe\?token=[\w-]+>$/);
  // what a mail client does: POST, form body, no cookie, no auth
  const res = await fetch(lu.slice(1, -1), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "List-Unsubscribe=One-Click",
  });
  assert.equal(res.status, 200);
  const sub = await w.su.collection("subscribers").getFirstListItem(`email = "${email}"`);
  assert.equal(sub.status, "unsubscribed");
});

test("contact: 202, stored for admins, mailed with Reply-To; field errors are 400s", async () => {
  const guest = w.guest();
  const email = `${w.uniq("writer")}@example.test`;
  assert.deepEqual(await guest.send("/api/contact", { method: "POST", body: { name: "Wren Writer", email, subject: "Hi", message: "A question." } }), {});
  const msgs = await admin.pb.collection("messages").getFullList({ filter: `email = "${email}"` });
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].status, "new");
  const [m] = await mp.waitFor(1, `to:${admin.email}`);
  const full = await mp.message(m.ID);
  assert.equal(full.ReplyTo[0].Address, email);
  await rejects(guest.send("/api/contact", { method: "POST", body: { email: "bad" } }), 400, { name: "validation_required", email: "validation_is_email", message: "validation_required" });
});
