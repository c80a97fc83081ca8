// The admin dashboard (/_/) in Chromium: a superuser signs in, sees Lectern's
// collections, and writes and publishes a post through the dashboard UI; a guest
// then reads it with the JS SDK, with the slug and publish date the server set.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, watchPage, shot, client } from "./helpers.mjs";

const COLLECTIONS = ["users", "topics", "posts", "comments", "courses", "lessons", "enrollments", "reviews"];

let site;
let browser;

before(async () => {
  site = await startSite();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

test("a superuser publishes a post from the dashboard and guests read it", async () => {
  const started = Date.now();
  // The author the post is credited to; the dashboard picks it in the relation picker.
  const author = await site.user("author", { name: "Dana Dashboard" });
  const topic = await site.su.collection("topics").create({ name: "Announcements" });

  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);

  // 1. sign in
  await page.goto(`${site.url}/_/`);
  await page.locator("#login_identity").fill(site.superuser.email);
  await page.locator("#login_pass").fill(site.superuser.password);
  await shot(page, "dashboard-1-login");
  await page.getByRole("button", { name: /login/i }).click();

  // 2. Lectern's collections are in the sidebar
  for (const name of COLLECTIONS) {
    await page.locator(`button.nav-item[title="${name}"]`).waitFor({ timeout: 15_000 });
  }
  await shot(page, "dashboard-2-collections", { fullPage: false });

  // 3. a new post: title, body in the rich-text editor, author, topic, status
  await page.locator('button.nav-item[title="posts"]').click();
  await page.locator("button.new-record-btn").click();
  const title = "Dashboard post: Hello, Wörld!";
  await page.locator('textarea[name="title"]').fill(title);

  const editor = page.frameLocator(".field-type-editor iframe").first();
  await editor.locator("body").click();
  await page.keyboard.type("Written in the dashboard editor. ");
  await page.keyboard.type("It has two sentences.");

  await pickRelation(page, "author", "Dana Dashboard");
  await pickRelation(page, "topics", "Announcements");

  const status = page.locator('output[name="status"]');
  await status.locator("button.selected-container").click();
  await status.locator(".select-option", { hasText: /^published$/ }).click();
  await assertSelected(status, "published");
  await shot(page, "dashboard-3-new-post-form", { fullPage: false });

  const saved = page.waitForResponse((r) => r.url().includes("/api/collections/posts/records") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  const res = await saved;
  assert.equal(res.status(), 200, `dashboard create: ${res.status()} ${await res.text()}`);

  // 4. the list shows it, with the slug the server derived
  const row = page.locator("tr", { hasText: "Dashboard post: Hello" });
  await row.waitFor();
  await shot(page, "dashboard-4-post-saved", { fullPage: false });

  // 5. a guest reads it through the public API (the JS SDK, as a site would)
  const guest = client(site.url);
  const list = await guest.collection("posts").getList(1, 10, {
    filter: guest.filter("title = {:t}", { t: title }),
    expand: "author,topics",
  });
  assert.equal(list.totalItems, 1, "the published post is public");
  const post = list.items[0];
  assert.equal(post.status, "published");
  assert.match(post.slug, /^dashboard-post-hello-w(o|oe)?rld$/, `server-derived slug, got ${post.slug}`);
  assert.match(post.slug, /^[a-z0-9]+(-[a-z0-9]+)*$/);
  assert.equal(post.author, author.id, "the author picked in the dashboard");
  assert.deepEqual(post.topics, [topic.id]);
  assert.ok(post.publishedAt, "publishedAt set by the server on publish");
  assert.ok(Date.parse(post.publishedAt.replace(" ", "T")) >= started - 60_000, "publishedAt is now");
  assert.match(post.body, /Written in the dashboard editor/);
  assert.match(post.excerpt, /^Written in the dashboard editor\. It has two sentences\./);
  assert.ok(post.readingMinutes >= 1);
  assert.equal(post.commentsCount, 0);
  assert.equal(post.expand?.author?.name, "Dana Dashboard");
  assert.equal(post.expand?.author?.email, undefined, "email stays hidden from guests");

  // the slug is visible in the dashboard's row too
  await row.getByText(post.slug).waitFor();

  // 6. and the demo site shows it at its deep link
  await page.goto(`${site.url}/posts/${post.slug}`);
  await page.getByRole("heading", { level: 1, name: title }).waitFor();
  await page.getByText("Written in the dashboard editor.").waitFor();
  await shot(page, "dashboard-5-post-on-site");

  watch.assertClean("dashboard");
  await context.close();
});

/** Opens a relation field's records picker, picks the record showing `label`, confirms. */
async function pickRelation(page, field, label) {
  await page.locator(`output[name="${field}"]`).getByRole("button", { name: "Open records picker" }).click();
  const item = page.locator(".list-item.handle", { hasText: label }).first();
  await item.locator(".state-icon").click();
  await page.locator(".records-picker-selected-list", { hasText: label }).waitFor();
  await page.getByRole("button", { name: "Set selection" }).click();
  await page.locator(`output[name="${field}"]`, { hasText: label }).waitFor();
}

async function assertSelected(select, value) {
  const text = (await select.locator("button.selected-container").innerText()).trim();
  assert.equal(text, value);
}
