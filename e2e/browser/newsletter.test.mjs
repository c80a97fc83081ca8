// The newsletter and contact pages of the demo site in Chromium, with a real
// SMTP server (mailpit): a reader subscribes, confirms from the mail, receives
// the next issue once and unsubscribes from its link.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, watchPage, publishPost, audit, shot, client } from "./helpers.mjs";
import { startMailpit, useMailpit, tokenIn } from "../lib/mailpit.mjs";

let site, browser, mp, author, topic;

before(async () => {
  mp = await startMailpit();
  site = await startSite();
  await useMailpit(site.su, mp, site.url);
  browser = await launchBrowser();
  author = await site.user("author", { name: "Nora Newsletter" });
  topic = await site.su.collection("topics").create({ name: "Databases" });
});

after(async () => {
  await browser?.close();
  await site?.stop();
  await mp?.stop();
});

const subscriberOf = (email) => site.su.collection("subscribers").getFirstListItem(site.su.filter("email = {:e}", { e: email }));

test("subscribe → confirm from the mail → one issue → unsubscribe from its link", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  const email = `reader-${Date.now()}@example.test`;

  await page.goto(`${site.url}/`);
  await page.getByRole("link", { name: "Newsletter" }).click();
  await page.getByRole("heading", { level: 1, name: "Newsletter" }).waitFor();
  await audit(page, "newsletter page");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Databases").check();
  await page.getByRole("button", { name: "Subscribe" }).click();
  await page.locator("#main").getByText("check your inbox").waitFor();
  let sub = await subscriberOf(email);
  assert.equal(sub.status, "pending");
  assert.deepEqual(sub.topics, [topic.id]);

  const [confirmMail] = await mp.waitFor(1, `to:${email}`);
  const link = `${site.url}/newsletter/confirm?token=${encodeURIComponent(tokenIn((await mp.message(confirmMail.ID)).HTML, `${site.url}/newsletter/confirm?token=`))}`;
  await page.goto(link);
  await page.getByRole("heading", { level: 1, name: "Confirm your subscription" }).waitFor();
  assert.equal((await subscriberOf(email)).status, "pending", "opening the link changes nothing");
  await page.getByRole("button", { name: "Confirm my subscription" }).click();
  await page.locator("#main").getByText(`You're subscribed as ${email}`).waitFor();
  assert.equal((await subscriberOf(email)).status, "active");

  const post = await publishPost(author, { title: "Indexes that pay off", topics: [topic.id] });
  site.server.run(["newsletter", "send"]);
  const issues = await mp.waitFor(2, `to:${email}`);
  const issue = await mp.message(issues[0].ID);
  assert.match(issue.Subject, /Indexes that pay off/);
  assert.ok(issue.HTML.includes(`${site.url}/posts/${post.slug}`));
  const unsubscribe = `${site.url}/newsletter/unsubscribe?token=${encodeURIComponent(tokenIn(issue.HTML, `${site.url}/newsletter/unsubscribe?token=`))}`;
  await page.goto(unsubscribe);
  await page.getByRole("heading", { level: 1, name: "Unsubscribe" }).waitFor();
  await audit(page, "unsubscribe page");
  await page.getByRole("button", { name: "Unsubscribe" }).click();
  await page.locator("#main").getByText("You're unsubscribed").waitFor();
  sub = await subscriberOf(email);
  assert.equal(sub.status, "unsubscribed");
  await shot(page, "newsletter-unsubscribed");

  // the next issue does not reach the unsubscribed address
  await publishPost(author, { title: "After you left", topics: [topic.id] });
  site.server.run(["newsletter", "send"]);
  assert.equal((await mp.messages(`to:${email}`)).length, 2);
  watch.assertClean("newsletter");
  await context.close();
});

test("contact page: a message reaches the admins; the honeypot is invisible", async () => {
  const admin = await site.user("admin", { name: "Adele Admin" });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  await page.goto(`${site.url}/contact`);
  await page.getByRole("heading", { level: 1, name: "Contact us" }).waitFor();
  await audit(page, "contact page");
  // off-screen (not display:none, which some bots skip), out of the tab order and the a11y tree
  const hp = await page.locator("input[name=website]").boundingBox();
  assert.ok(hp.x + hp.width <= 0, `honeypot on screen at ${JSON.stringify(hp)}`);
  assert.equal(await page.locator("input[name=website]").getAttribute("tabindex"), "-1");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("#main").getByText("Please fix the highlighted fields.").waitFor();
  await page.getByLabel("Name").fill("Paula Page");
  await page.getByLabel("Email").fill("paula@example.test");
  await page.getByLabel("Message").fill("Do you run workshops?");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("#main").getByText("Thanks! Your message is on its way").waitFor();
  const [m] = await mp.waitFor(1, `to:${admin.email}`);
  assert.equal((await mp.message(m.ID)).ReplyTo[0].Address, "paula@example.test");
  watch.assertClean("contact");
  await context.close();
});

test("account mail: the verification and password-reset links open the site's pages", async () => {
  const user = await site.user("student", { name: "Vera Verify" });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);

  await user.pb.collection("users").requestVerification(user.email);
  const [v] = await mp.waitFor(1, `to:${user.email} subject:Verify`);
  const verify = (await mp.message(v.ID)).HTML;
  assert.match(verify, /Lectern/);
  await page.goto(`${site.url}/verify?token=${encodeURIComponent(tokenIn(verify, `${site.url}/verify?token=`))}`);
  await page.getByRole("button", { name: "Verify my email" }).click();
  await page.locator("#main").getByText("Your email address is verified.").waitFor();
  assert.equal((await site.su.collection("users").getOne(user.id)).verified, true);

  await user.pb.collection("users").requestPasswordReset(user.email);
  const [r] = await mp.waitFor(1, `to:${user.email} subject:Reset`);
  const reset = (await mp.message(r.ID)).HTML;
  await page.goto(`${site.url}/reset-password?token=${encodeURIComponent(tokenIn(reset, `${site.url}/reset-password?token=`))}`);
  await audit(page, "reset-password page");
  await page.getByLabel("New password", { exact: true }).fill("a-brand-new-password");
  await page.getByLabel("Repeat password").fill("a-brand-new-password");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await page.locator("#main").getByText("Your password is changed.").waitFor();
  await client(site.url).collection("users").authWithPassword(user.email, "a-brand-new-password");
  watch.assertClean("account mail");
  await context.close();
});
