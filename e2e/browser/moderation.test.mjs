// Moderation takes effect live: two open pages of one post, a guest's and the
// admin's; the admin hides a comment through the API and the guest's page drops
// it at once (the server sends a `delete` carrying the comment as the guest last
// saw it), while the admin's page keeps it, badged. The "Comments (N)" heading of
// both follows live creates and removals without reloading the thread.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, watchPage, publishPost, shot } from "./helpers.mjs";

let site;
let browser;
let author;
let admin;
let commenter;

before(async () => {
  site = await startSite();
  browser = await launchBrowser();
  author = await site.user("author", { name: "Mo Author" });
  admin = await site.user("admin", { name: "Ada Admin" });
  commenter = await site.user("student", { name: "Carla Commenter" });
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

/** Opens the post as a guest, or signed in with the SDK's auth in localStorage. */
async function openPost(slug, who) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  if (who) {
    // the site's SDK reads its auth from localStorage ("pocketbase_auth")
    const auth = JSON.stringify({ token: who.pb.authStore.token, record: who.pb.authStore.record });
    await context.addInitScript((value) => localStorage.setItem("pocketbase_auth", value), auth);
  }
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  // every comments list the page asks for after it loaded (a reconcile) is counted
  const listRequests = [];
  page.on("request", (r) => {
    if (r.method() === "GET" && new URL(r.url()).pathname === "/api/collections/comments/records") listRequests.push(r.url());
  });
  await page.goto(`${site.url}/posts/${slug}`);
  await page.locator('.comments-section[data-live="ready"]').waitFor();
  return { context, page, watch, listRequests };
}

test("a hidden comment leaves the guest's page at once; the heading follows creates and removals", async () => {
  const post = await publishPost(author, { title: "Moderated live", body: "<p>Be nice.</p>" });
  const guest = await openPost(post.slug);
  const mod = await openPost(post.slug, admin);
  for (const p of [guest, mod]) await p.page.getByRole("heading", { name: "Comments (0)" }).waitFor();
  const loaded = [guest.listRequests.length, mod.listRequests.length];

  // live creates: the comment and the heading together (the heading used to
  // stay at "Comments (0)" under a live comment)
  const spam = await commenter.pb.collection("comments").create({ post: post.id, body: "Buy cheap watches" });
  const kept = await commenter.pb.collection("comments").create({ post: post.id, body: "Thanks for this" });
  const reply = await author.pb.collection("comments").create({ post: post.id, parent: spam.id, body: "Please don't" });
  for (const p of [guest, mod]) {
    await p.page.locator(`#comment-${reply.id}`).waitFor({ timeout: 5000 });
    await p.page.getByRole("heading", { name: "Comments (3)" }).waitFor({ timeout: 5000 });
  }

  // the admin hides the spam through the API
  const hidden = await admin.pb.collection("comments").update(spam.id, { status: "hidden" });
  assert.equal(hidden.status, "hidden");

  // the guest's page drops it, its reply stays (a level up), the heading says 2
  await guest.page.locator(`#comment-${spam.id}`).waitFor({ state: "detached", timeout: 5000 });
  await guest.page.getByRole("heading", { name: "Comments (2)" }).waitFor({ timeout: 5000 });
  assert.ok(!(await guest.page.locator("main").innerText()).includes("Buy cheap watches"));
  await guest.page.locator(`#comment-${reply.id}`).waitFor();
  await guest.page.locator(`#comment-${kept.id}`).waitFor();
  assert.equal(await guest.page.locator("li.comment").count(), 2);

  // the admin's page keeps it, marked, and counts the visible ones
  await mod.page.locator(`#comment-${spam.id} .comment-flags`, { hasText: "hidden by a moderator" }).waitFor({ timeout: 5000 });
  await mod.page.getByRole("heading", { name: "Comments (2)" }).waitFor({ timeout: 5000 });
  assert.equal(await mod.page.locator("li.comment").count(), 3);

  // shown again: an update for a comment the guest's page does not have adds it
  await admin.pb.collection("comments").update(spam.id, { status: "visible" });
  await guest.page.locator(`#comment-${spam.id}`).waitFor({ timeout: 5000 });
  for (const p of [guest, mod]) await p.page.getByRole("heading", { name: "Comments (3)" }).waitFor({ timeout: 5000 });

  // a live removal: the author deletes the kept comment
  await author.pb.collection("comments").delete(kept.id);
  for (const p of [guest, mod]) {
    await p.page.locator(`#comment-${kept.id}`).waitFor({ state: "detached", timeout: 5000 });
    await p.page.getByRole("heading", { name: "Comments (2)" }).waitFor({ timeout: 5000 });
  }

  // all of it came from the events: neither page asked for the comments again
  // (its fallback, when the server's count disagrees with the page's for 1.5 s)
  await guest.page.waitForTimeout(2000);
  assert.deepEqual([guest.listRequests.length, mod.listRequests.length], loaded, "no reconcile fetch");

  await shot(guest.page, "moderation-guest");
  await shot(mod.page, "moderation-admin");
  guest.watch.assertClean("guest's post page");
  mod.watch.assertClean("admin's post page");
  await guest.context.close();
  await mod.context.close();
});

test("a post taken back to draft tells its open page, and its comments leave it", async () => {
  const post = await publishPost(author, { title: "Back to draft soon", body: "<p>Not for long.</p>" });
  const c = await commenter.pb.collection("comments").create({ post: post.id, body: "Read it while it lasted" });
  const guest = await openPost(post.slug);
  await guest.page.locator(`#comment-${c.id}`).waitFor();
  await author.pb.collection("posts").update(post.id, { status: "draft" });
  await guest.page.getByRole("status").filter({ hasText: "This post is no longer published." }).waitFor({ timeout: 5000 });
  // the comment's own rule reads its post: it arrives as a delete too
  await guest.page.locator(`#comment-${c.id}`).waitFor({ state: "detached", timeout: 5000 });
  await guest.page.getByRole("heading", { name: "Comments (0)" }).waitFor();
  guest.watch.assertClean("guest's post page");
  await guest.context.close();
});
