// The one SDK file that keeps Lectern's default rate limits ON (every other
// file relaxes them through startWorld, since the suite is a single IP): the
// limiter must answer 429 on the first password attempt past the configured count.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects } from "../lib/sdk.mjs";

let w;
before(async () => {
  w = await startWorld({ relaxRateLimits: false });
});
after(async () => {
  await w?.stop();
});

test("rate limits are on by default", async () => {
  const settings = await w.su.settings.getAll();
  assert.equal(settings.rateLimits.enabled, true);
  const auth = settings.rateLimits.rules.find((r) => r.label === "*:auth");
  assert.deepEqual({ max: auth.maxRequests, duration: auth.duration }, { max: 20, duration: 60 });
});

test("the password attempt past the configured count within a minute is a 429", async () => {
  const settings = await w.su.settings.getAll();
  const max = settings.rateLimits.rules.find((r) => r.label === "*:auth").maxRequests;
  const guest = w.guest();
  const email = `${w.uniq("limited")}@lectern.test`;
  await guest.collection("users").create({ email, password: "right-password-1", passwordConfirm: "right-password-1", name: "L" });

  const started = Date.now();
  for (let i = 1; i <= max; i++) {
    const err = await rejects(guest.collection("users").authWithPassword(email, `wrong-${i}`), 400);
    assert.equal(err.response.message, "Failed to authenticate.", `attempt ${i}`);
  }
  // even the right password is refused now: the limiter answers before the check
  const err = await rejects(guest.collection("users").authWithPassword(email, "right-password-1"), 429);
  assert.ok(Date.now() - started < 60_000, `the ${max + 1} attempts must fit in the limiter's minute`);
  assert.equal(guest.authStore.isValid, false);
  assert.equal(err.response.status, 429);
});
