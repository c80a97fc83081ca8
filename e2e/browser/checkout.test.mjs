// Buying a paid course on the demo site in Chromium, against the real binary
// and stripe-mock: "Buy for $599.00" sends the student to Stripe Checkout
// (intercepted here: no request leaves the machine), Stripe's signed event
// fulfils the order, the success URL shows the order's state and opens the
// lessons, "My courses" lists the purchase, and a refund locks them again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, shot, signInThroughForm, audit } from "./helpers.mjs";
import { startStripeMock, event, paidSession, fullRefund, deliver } from "../lib/stripe.mjs";

let mock, site, browser, course;
before(async () => {
  mock = await startStripeMock();
  site = await startSite({ env: mock.env });
  browser = await launchBrowser();
  const instructor = await site.user("instructor", { name: "Pat Payne" });
  course = await instructor.pb.collection("courses").create({
    title: "Production Go", summary: "Ship Go services.", durationDays: 20, mode: "online", level: "advanced",
    price: 599, currency: "USD", status: "published",
  });
  for (const [i, [title, freePreview]] of [["Welcome", true], ["Profiling", false], ["Tracing", false]].entries()) {
    await instructor.pb.collection("lessons").create({ course: course.id, title, position: i + 1, freePreview, body: `<p>${title} notes.</p>` });
  }
});

after(async () => {
  await browser?.close();
  await site?.stop();
  mock?.stop();
});

test("buy a paid course: Checkout, the success page, lessons open; a refund locks them again", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const student = await site.user("student", { name: "Bea Buyer" });

  // Stripe's hosted page is intercepted: the test plays Stripe
  const toStripe = [];
  await context.route("https://checkout.stripe.com/**", (route) => {
    toStripe.push(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Stripe Checkout</title><h1>Stripe Checkout (test)</h1>" });
  });

  await signInThroughForm(page, site.url, student, `/courses/${course.slug}`);
  await page.waitForURL(`${site.url}/courses/${course.slug}`);
  await page.getByText("The other lessons unlock when you buy the course.").waitFor();
  assert.equal(await page.locator(".lesson:not(.locked)").count(), 1, "only the free preview open before buying");
  assert.equal(await page.getByRole("button", { name: "Enroll" }).count(), 0, "a paid course has no free Enroll button");
  await audit(page, "course page, paid course");

  await page.getByRole("button", { name: "Buy for $599.00" }).click();
  await page.waitForURL(/^https:\/\/checkout\.stripe\.com\//);
  assert.equal(toStripe.length, 1);

  const order = await site.su.collection("orders").getFirstListItem(site.su.filter("user = {:u}", { u: student.id }));
  assert.equal(order.status, "pending");
  const sid = order.stripeSessionId;

  // Stripe sends the buyer back before its webhook arrives: the page waits, then opens the lessons
  await page.goto(`${site.url}/courses/${course.slug}?checkout=${sid}`);
  await page.locator('[data-order-status="pending"]', { hasText: "Confirming your payment" }).waitFor();
  await shot(page, "checkout-pending");
  const r = await deliver(site.url, event("checkout.session.completed", { ...paidSession(sid), metadata: { order: order.id } }));
  assert.equal(r.status, 200);
  await page.locator(".enrolled-note", { hasText: "You're enrolled." }).waitFor({ timeout: 10000 });
  await page.locator('[data-order-status="paid"]', { hasText: "Payment received" }).waitFor();
  assert.equal(await page.locator(".lesson:not(.locked)").count(), 3, "every lesson is open once paid");
  await page.locator(".lesson", { hasText: "Tracing" }).getByText("Open lesson").click();
  await page.getByText("Tracing notes.").waitFor();
  await audit(page, "course page, bought");
  await shot(page, "checkout-paid");

  // My courses lists the purchase
  await page.getByRole("link", { name: "My courses" }).click();
  await page.getByRole("heading", { level: 1, name: "My courses" }).waitFor();
  const row = page.locator(`tr[data-order-id="${order.id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Production Go.*\$599\.00.*Paid/);
  await page.locator('li[data-status="active"]', { hasText: "Production Go" }).waitFor();
  await audit(page, "my courses");
  await shot(page, "my-courses");

  // a full refund locks the paid lessons again
  const refund = await deliver(site.url, event("charge.refunded", fullRefund(`pi_${sid}`)));
  assert.equal(refund.status, 200);
  await page.goto(`${site.url}/courses/${course.slug}`);
  await page.getByRole("button", { name: "Buy for $599.00" }).waitFor();
  assert.equal(await page.locator(".lesson:not(.locked)").count(), 1, "locked again after the refund");
  await page.goto(`${site.url}/my-courses`);
  await page.locator(`tr[data-order-id="${order.id}"][data-status="refunded"]`, { hasText: "Refunded" }).waitFor();
  await context.close();
});
