// Sign-up, sign-in, token refresh and password change, as a frontend does them
// with the official SDK against the real binary. Rate limits are relaxed for
// this file (startWorld); ratelimit.test.mjs checks the limiter itself.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, client, rejects } from "../lib/sdk.mjs";

let w;
before(async () => {
  w = await startWorld();
});
after(async () => {
  await w?.stop();
});

test("sign-up forces role student and emailVisibility off, whatever is sent", async () => {
  const pb = w.guest();
  const email = `${w.uniq("signup")}@lectern.test`;
  const created = await pb.collection("users").create({
    email,
    password: "a-long-password-1",
    passwordConfirm: "a-long-password-1",
    name: "Ada",
    role: "admin",
    emailVisibility: true,
  });
  assert.equal(created.role, "student");
  assert.equal(created.emailVisibility, false);
  assert.equal(created.name, "Ada");

  const auth = await pb.collection("users").authWithPassword(email, "a-long-password-1");
  assert.ok(auth.token);
  assert.equal(pb.authStore.isValid, true);
  assert.equal(auth.record.id, created.id);
  assert.equal(auth.record.role, "student");
  assert.equal(auth.record.emailVisibility, false);
  assert.equal(auth.record.email, email, "a user sees their own email");

  // another visitor sees the public profile without the email
  const seen = await w.guest().collection("users").getOne(created.id);
  assert.equal(seen.name, "Ada");
  assert.ok(!seen.email, `email leaked: ${seen.email}`);
});

test("sign-up validates: name required, passwords must match, email unique", async () => {
  const pb = w.guest();
  const email = `${w.uniq("v")}@lectern.test`;
  await rejects(
    pb.collection("users").create({ email, password: "a-long-password-1", passwordConfirm: "a-long-password-1" }),
    400,
    { name: "validation_required" },
  );
  await rejects(
    pb.collection("users").create({ email, password: "a-long-password-1", passwordConfirm: "other-password-1", name: "A" }),
    400,
    { passwordConfirm: null },
  );
  await pb.collection("users").create({ email, password: "a-long-password-1", passwordConfirm: "a-long-password-1", name: "A" });
  await rejects(
    pb.collection("users").create({ email, password: "a-long-password-1", passwordConfirm: "a-long-password-1", name: "B" }),
    400,
    { email: null },
  );
});

test("password login: wrong password is a 400, right one signs in", async () => {
  const u = await w.user("student");
  const pb = w.guest();
  const err = await rejects(pb.collection("users").authWithPassword(u.email, "wrong-password"), 400);
  assert.equal(err.response.message, "Failed to authenticate.");
  assert.equal(pb.authStore.isValid, false);
  await pb.collection("users").authWithPassword(u.email, u.password);
  assert.equal(pb.authStore.record.id, u.id);
});

test("authRefresh returns a fresh token and the current record", async () => {
  const u = await w.user("student");
  const before = u.pb.authStore.token;
  await u.pb.collection("users").update(u.id, { name: "Renamed" });
  const res = await u.pb.collection("users").authRefresh();
  assert.ok(res.token);
  assert.equal(res.record.id, u.id);
  assert.equal(res.record.name, "Renamed");
  assert.equal(u.pb.authStore.token, res.token);
  assert.ok(before);

  // a guest cannot refresh
  await rejects(w.guest().collection("users").authRefresh(), 401);
});

test("a password change invalidates the old token", async () => {
  const u = await w.user("student");
  const oldToken = u.pb.authStore.token;

  // a stale copy of the session, e.g. another tab
  const otherTab = client(w.url);
  otherTab.authStore.save(oldToken, u.pb.authStore.record);
  await otherTab.collection("users").authRefresh(); // still fine before the change
  otherTab.authStore.save(oldToken, u.pb.authStore.record);

  // the old password is required
  await rejects(
    u.pb.collection("users").update(u.id, { oldPassword: "not-it", password: "new-password-123", passwordConfirm: "new-password-123" }),
    400,
    { oldPassword: null },
  );
  await u.pb.collection("users").update(u.id, {
    oldPassword: u.password,
    password: "new-password-123",
    passwordConfirm: "new-password-123",
  });

  await rejects(otherTab.collection("users").authRefresh(), 401);
  const stale = client(w.url);
  stale.authStore.save(oldToken, null);
  await rejects(stale.collection("users").authRefresh(), 401);

  await rejects(w.guest().collection("users").authWithPassword(u.email, u.password), 400);
  const fresh = w.guest();
  await fresh.collection("users").authWithPassword(u.email, "new-password-123");
  assert.equal(fresh.authStore.record.id, u.id);
});

test("a user cannot raise their own role or make their email public", async () => {
  const u = await w.user("student");
  const updated = await u.pb.collection("users").update(u.id, { role: "admin", emailVisibility: true, bio: "hi" });
  assert.equal(updated.role, "student");
  assert.equal(updated.emailVisibility, false);
  assert.equal(updated.bio, "hi");
  const { record } = await u.pb.collection("users").authRefresh();
  assert.equal(record.role, "student");
});

test("an expired token is a 401 that says so; the SDK keeps it until the app clears it", async () => {
  const u = await w.user("student");
  // a superuser's impersonation token with a 1-second life: a session about to expire
  // (plain fetch: impersonation is a superuser tool outside the documented API)
  const res = await fetch(`${w.url}/api/collections/users/impersonate/${u.id}`, {
    method: "POST",
    headers: { Authorization: w.su.authStore.token, "Content-Type": "application/json" },
    body: JSON.stringify({ duration: 1 }),
  });
  assert.equal(res.status, 200);
  const { token, record } = await res.json();
  const short = { authStore: { token, record } };
  const tab = client(w.url);
  tab.authStore.save(token, record);
  const deadline = Date.now() + 10_000;
  while (tab.authStore.isValid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(tab.authStore.isValid, false, "the SDK reads the token's exp");
  await new Promise((r) => setTimeout(r, 1100)); // the server compares whole seconds

  const err = await rejects(tab.collection("posts").getList(1, 5), 401, { token: "token_expired" });
  assert.match(err.response.message, /expired/);
  await rejects(tab.collection("posts").create({ title: "Stale session" }), 401, { token: "token_expired" });
  assert.equal(tab.authStore.token, short.authStore.token, "the SDK does not clear its store on a 401");

  // what a frontend does on that 401: clear, and it is a guest again
  tab.authStore.clear();
  assert.ok((await tab.collection("posts").getList(1, 5)).items);
  // signing in again works even while the stale token is still in the store
  tab.authStore.save(short.authStore.token, short.authStore.record);
  await tab.collection("users").authWithPassword(u.email, u.password);
  assert.equal(tab.authStore.isValid, true);
  assert.ok((await tab.collection("posts").getList(1, 5)).items);
});

test("a garbled or re-signed token is a 401 on every API route, no header is a guest", async () => {
  const u = await w.user("student");
  const [head, body] = u.pb.authStore.token.split(".");
  const cases = {
    token_malformed: "garbled",
    token_signature_invalid: `${head}.${body}.${"A".repeat(43)}`,
  };
  for (const [code, token] of Object.entries(cases)) {
    const bad = client(w.url);
    bad.authStore.save(token, null);
    await rejects(bad.collection("posts").getList(1, 5), 401, { token: code });
    await rejects(bad.collection("courses").getOne("nosuchcourse00"), 401, { token: code });
    await rejects(bad.send("/api/search", { query: { q: "go" } }), 401, { token: code });
    await rejects(bad.send("/api/graphql", { method: "POST", body: { query: "{ __typename }" } }), 401, { token: code });
    await rejects(
      bad.send("/api/newsletter/subscribe", { method: "POST", body: { email: `${w.uniq("nl")}@lectern.test` } }),
      401,
      { token: code },
    );
    await assert.rejects(
      bad.collection("posts").subscribe("*", () => {}),
      (err) => err.status === 401 && err.response.data.token?.code === code,
    );
    bad.realtime.unsubscribe().catch(() => {});
    bad.realtime.disconnect?.();
  }
  // no header at all: a guest, as before
  const guest = w.guest();
  assert.ok(Array.isArray((await guest.collection("posts").getList(1, 5)).items));
  assert.ok(await guest.send("/api/search", { query: { q: "go" } }));
});
