// The demo site (pb_public/) in Chromium: a post page whose comments arrive live
// while other people comment through the API, hidden comments that never show,
// comment and reply forms, the blog list on a phone, and a page that makes no
// console errors and no requests to any other host.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startSite, launchBrowser, watchPage, shot, signInThroughForm, publishPost, horizontalOverflow, assertHeaderOneRow, coverFile, audit,
} from "./helpers.mjs";

// Lectern's per-IP rate limits stay ON here (the file makes 5 users, ~10
// comments and a few sign-ins, within the defaults), so the site is tested with
// the configuration it ships with.
let site;
let browser;
let author;
let reader;
let commenter;
let post;
let topic;

before(async () => {
  site = await startSite();
  browser = await launchBrowser();
  author = await site.user("author", { name: "Ada Author", bio: "Writes the tests." });
  reader = await site.user("student", { name: "Rita Reader" });
  commenter = await site.user("student", { name: "Carl Commenter" });
  topic = await site.su.collection("topics").create({ name: "Browsers" });
  post = await publishPost(author, {
    title: "Live comments in the browser",
    topics: [topic.id],
    body: '<h2>What you get</h2><p>Comments that <em>arrive by themselves</em>.</p>'
      + '<script>window.__pwned = 1</script><img src="data:," onerror="window.__pwned = 2">'
      + '<p><img src="https://example.com/tracker.png" alt="a remote picture"></p>',
  });
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

test("post page: comments from other people appear live, hidden ones never", async () => {
  assert.equal(post.slug, "live-comments-in-the-browser", "server-derived slug");
  const first = await commenter.pb.collection("comments").create({ post: post.id, body: "First!" });

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  const t0 = Date.now();

  // Rita signs in through the site and is sent back to the post (a deep link).
  await signInThroughForm(page, site.url, reader, `/posts/${post.slug}`);
  await page.waitForURL(`${site.url}/posts/${post.slug}`);
  await page.getByRole("heading", { level: 1, name: post.title }).waitFor();
  await page.locator('.comments-section[data-live="ready"]').waitFor();

  // the body is the server-sanitized HTML, rendered as HTML
  await page.locator(".post-body h2", { hasText: "What you get" }).waitFor();
  assert.equal(await page.locator(".post-body em").innerText(), "arrive by themselves");
  assert.equal(await page.locator(".post-body script").count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, "no script ran");
  // a remote image is shown as a link, never loaded
  await page.getByRole("link", { name: "[External image: a remote picture]" }).waitFor();
  assert.equal(await page.locator('.post-body img[src^="https://"]').count(), 0);

  // the existing comment, and the count
  await page.locator(`#comment-${first.id} .comment-body`, { hasText: "First!" }).waitFor();
  await page.getByRole("heading", { name: "Comments (1)" }).waitFor();

  // from here on, the page must not reload
  await page.evaluate(() => (window.__sameDocument = true));

  // Someone else comments through the API: it appears without a reload, as text.
  const tLive = Date.now();
  const live = await commenter.pb.collection("comments").create({
    post: post.id,
    body: "Live <b>from</b> Node & <script>friends</script>",
  });
  const liveBody = page.locator(`#comment-${live.id} .comment-body`);
  await liveBody.waitFor({ timeout: 5000 });
  const liveMs = Date.now() - tLive;
  assert.equal(await liveBody.textContent(), live.body, "rendered exactly as stored");
  assert.equal(await liveBody.locator("*").count(), 0, "comment text never becomes markup");
  assert.equal(await page.locator(`#comment-${live.id} .comment-author`).textContent(), "Carl Commenter");

  // A reply from the post's author lands under its parent.
  const reply = await author.pb.collection("comments").create({ post: post.id, parent: live.id, body: "Thanks, Carl!" });
  await page.locator(`#comment-${live.id} > .replies > #comment-${reply.id}`).waitFor({ timeout: 5000 });

  // A hidden comment (the post's author moderates at create) and a flagged one
  // are not visible to Rita: never sent to her page. A visible comment made after
  // them proves the page was still listening.
  const hidden = await author.pb.collection("comments").create({ post: post.id, body: "SECRET hidden comment", status: "hidden" });
  assert.equal(hidden.status, "hidden");
  const flagged = await author.pb.collection("comments").create({ post: post.id, body: "SECRET flagged comment", status: "flagged" });
  assert.equal(flagged.status, "flagged");
  const sentinel = await commenter.pb.collection("comments").create({ post: post.id, body: "After the hidden ones" });
  await page.locator(`#comment-${sentinel.id}`).waitFor({ timeout: 5000 });
  await page.waitForTimeout(500); // give a wrongly delivered event time to show up
  assert.equal(await page.locator(`#comment-${hidden.id}, #comment-${flagged.id}`).count(), 0);
  assert.ok(!(await page.locator("main").innerText()).includes("SECRET"), "no hidden text on the page");

  // The count heading follows the server's commentsCount (visible comments).
  await page.getByRole("heading", { name: "Comments (4)" }).waitFor({ timeout: 5000 });

  // Rita comments through the form; then replies to "First!".
  await page.getByLabel("Your comment").fill("Hello from <i>Rita</i>");
  await page.getByRole("button", { name: "Post comment" }).click();
  const mine = page.locator(".comment", { has: page.locator(".comment-author", { hasText: "Rita Reader" }) });
  await mine.first().waitFor();
  assert.equal(await mine.first().locator(".comment-body").textContent(), "Hello from Rita", "tags removed by the server, shown as text");
  assert.equal(await page.getByLabel("Your comment").inputValue(), "", "the form is cleared");

  const firstItem = page.locator(`#comment-${first.id}`);
  await firstItem.getByRole("button", { name: "Reply" }).first().click();
  await firstItem.getByLabel(/Your reply/).fill("Replying through the site");
  await firstItem.getByRole("button", { name: "Post reply" }).click();
  await firstItem.locator(".replies .comment-body", { hasText: "Replying through the site" }).waitFor();
  await page.getByRole("heading", { name: "Comments (6)" }).waitFor({ timeout: 5000 });

  // every comment shows once (the page's own ones are not duplicated by their realtime events)
  const ids = await page.locator("li.comment").evaluateAll((els) => els.map((e) => e.dataset.commentId));
  assert.equal(new Set(ids).size, ids.length, "no duplicates");
  assert.equal(ids.length, 6);

  // The post's author hides Carl's comment: it leaves Rita's page (the server
  // sends her a delete carrying the comment as she saw it), while the reply to
  // it stays.
  const hiddenLater = await author.pb.collection("comments").update(live.id, { status: "hidden" });
  assert.equal(hiddenLater.status, "hidden");
  await page.locator(`#comment-${live.id}`).waitFor({ state: "detached", timeout: 5000 });
  await page.locator(`#comment-${reply.id}`).waitFor();
  await page.getByRole("heading", { name: "Comments (5)" }).waitFor({ timeout: 5000 });
  assert.equal(await page.locator("li.comment").count(), 5);

  assert.equal(await page.evaluate(() => window.__sameDocument), true, "no reload happened");
  // open a reply form too, so its controls are checked
  await page.locator(`#comment-${sentinel.id}`).getByRole("button", { name: "Reply" }).click();
  await audit(page, "post page, signed in");
  await shot(page, "demo-post-live-comments");
  watch.assertClean("post page");
  console.log(`# live comment shown after ${liveMs} ms; post page test ${Date.now() - t0} ms`);
  await context.close();
});

test("guest: blog list with topic filter, post deep link, sign-in prompt", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);

  // a draft is never listed
  await author.pb.collection("posts").create({ title: "An unfinished draft", body: "<p>Draft</p>" });
  // a post with a cover picture (uploaded through the SDK, thumbnailed by the server)
  const covered = await publishPost(author, { title: "A post with a cover", cover: coverFile() });
  assert.ok(covered.cover);

  // the site's CSP: only its own scripts run, so an inline script that got into the page does not
  // (on a page of its own: the browser logs the refusal as a console error, which the watcher counts)
  const probe = await page.context().newPage();
  const home = await probe.goto(site.url);
  assert.match(home.headers()["content-security-policy"] || "", /script-src 'self';/);
  const injected = await probe.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__lecternInjected = true";
    document.body.append(s);
    s.remove();
    return window.__lecternInjected === true;
  });
  assert.equal(injected, false, "an inline script ran despite the CSP");
  await probe.close();

  await page.goto(site.url);
  const card = page.locator(".post-card", { hasText: post.title });
  await card.waitFor();
  const meta = await card.locator(".meta").innerText();
  assert.match(meta, /By Ada Author/);
  assert.match(meta, /1 min read/);
  assert.match(meta, /\d+ comments?/);
  assert.match(await card.locator(".excerpt").innerText(), /What you get/);
  await audit(page, "home");
  assert.equal(await page.locator(".post-card", { hasText: "An unfinished draft" }).count(), 0);

  // the cover thumbnail loads from this server, with an alt attribute (empty: decorative next to the title)
  const cardCover = page.locator(".post-card", { hasText: "A post with a cover" }).locator("img.card-cover");
  await cardCover.waitFor();
  assert.equal(await cardCover.getAttribute("alt"), "");
  assert.match(await cardCover.getAttribute("src"), new RegExp(`^${site.url}/api/files/.+thumb=640x360$`));
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await cardCover.elementHandle());
  for (const img of await page.locator("main img").all()) {
    assert.notEqual(await img.getAttribute("alt"), null, "every image has an alt attribute");
  }

  // paging: 10 posts a page, newest first
  for (let i = 1; i <= 9; i++) await publishPost(author, { title: `Filler post number ${i}` });
  await page.goto(site.url);
  await page.getByText("Page 1 of 2").waitFor();
  assert.equal(await page.locator(".post-card").count(), 10);
  assert.equal(await page.locator(".post-card .card-title").first().innerText(), "Filler post number 9");
  await page.getByRole("link", { name: "Next →" }).click();
  await page.waitForURL(/\/\?page=2$/);
  await page.getByText("Page 2 of 2").waitFor();
  assert.equal(await page.locator(".post-card").count(), 1);
  assert.equal(await page.locator(".post-card .card-title").innerText(), post.title, "the oldest post is last");
  await page.goBack();
  await page.getByText("Page 1 of 2").waitFor();

  // topic filter
  await page.locator(".topics").getByRole("link", { name: "Browsers" }).click();
  await page.waitForURL(/\?topic=browsers$/);
  await page.getByRole("heading", { level: 1, name: "Posts about Browsers" }).waitFor();
  assert.equal(await page.locator(".post-card").count(), 1);

  // deep link straight to the post: served by the index fallback
  await page.goto(`${site.url}/posts/${post.slug}`);
  await page.getByRole("heading", { level: 1, name: post.title }).waitFor();
  await page.getByRole("link", { name: "Sign in" }).last().waitFor();
  assert.equal(await page.locator(".comment-form").count(), 0, "guests get no comment form");
  await audit(page, "post page, guest");

  // keyboard: the first Tab reaches the skip link, which becomes visible
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  assert.equal(await skip.evaluate((el) => el === document.activeElement), true);
  assert.ok((await skip.boundingBox()).y >= 0, "the focused skip link is on screen");
  assert.notEqual(await skip.evaluate((el) => getComputedStyle(el).outlineStyle), "none", "focus is visible");
  // hidden/flagged comments are not shown to guests either
  assert.ok(!(await page.locator("main").innerText()).includes("SECRET"));

  // the cover on the post page says what it is
  await page.goto(`${site.url}/posts/${covered.slug}`);
  const cover = page.locator("img.cover");
  await cover.waitFor();
  assert.equal(await cover.getAttribute("alt"), "Cover image of “A post with a cover”");
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await cover.elementHandle());

  // an unknown slug is a friendly not-found page, answered with HTTP 404 (which
  // Chromium logs as a console error: expected here, and only here)
  const missing = await page.goto(`${site.url}/posts/no-such-post`);
  assert.equal(missing.status(), 404);
  await page.getByRole("heading", { level: 1, name: "Post not found" }).waitFor();
  const logged = watch.problems.console.findIndex((m) => m.includes("404") && m.includes("/posts/no-such-post"));
  if (logged >= 0) watch.problems.console.splice(logged, 1);

  // landmarks and headings
  assert.equal(await page.locator("header.site-header").count(), 1);
  assert.equal(await page.locator("nav[aria-label=Main]").count(), 1);
  assert.equal(await page.locator("main#main").count(), 1);
  assert.equal(await page.locator("footer").count(), 1);
  assert.equal(await page.locator("h1").count(), 1);

  watch.assertClean("guest pages");
  await context.close();
});

test("phone viewport (390x844): the post list fits without horizontal scroll", async () => {
  // a few more posts, one with a very long unbroken word, so the list is real
  for (let i = 1; i <= 3; i++) {
    await publishPost(author, { title: `Phone post ${i}`, body: `<p>Supercalifragilisticexpialidocious${"x".repeat(80)} ${i}</p>` });
  }
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  await page.goto(site.url);
  await page.locator(".post-card").nth(3).waitFor();
  assert.equal(await horizontalOverflow(page), 0, "home: no horizontal scroll");
  // each card fits the viewport
  const widest = await page.locator(".post-card").evaluateAll((els) => Math.max(...els.map((e) => e.getBoundingClientRect().right)));
  assert.ok(widest <= 390, `cards fit (right edge ${widest})`);
  await audit(page, "home on a phone");
  await shot(page, "demo-phone-home");

  await page.getByRole("link", { name: "Phone post 1" }).click();
  await page.getByRole("heading", { level: 1, name: "Phone post 1" }).waitFor();
  assert.equal(await horizontalOverflow(page), 0, "post with a long word: no horizontal scroll");

  await page.goto(`${site.url}/posts/${post.slug}`);
  await page.locator('.comments-section[data-live="ready"]').waitFor();
  assert.equal(await horizontalOverflow(page), 0, "post with threaded comments: no horizontal scroll");
  await shot(page, "demo-phone-post");
  watch.assertClean("phone");
  await context.close();
});

test("sign up, sign out and sign in through the site", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  const email = `new-${Date.now()}@lectern.test`;

  await page.goto(`${site.url}/posts/${post.slug}`);
  await page.getByRole("link", { name: "create an account" }).click();
  await page.getByRole("heading", { level: 1, name: "Create an account" }).waitFor();
  await audit(page, "sign-up page");
  await page.getByLabel("Name").fill("Nina Newcomer");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("a-good-password");
  await page.getByLabel("Repeat password").fill("a-different-one");
  await page.getByRole("button", { name: "Create account" }).click();
  // checked in the page: the message is tied to the field and focus moves there
  const confirm = page.getByLabel("Repeat password");
  await page.getByText("The passwords don't match.").waitFor();
  assert.equal(await confirm.getAttribute("aria-invalid"), "true");
  assert.equal(await confirm.evaluate((el) => el === document.activeElement), true);
  await confirm.fill("a-good-password");
  await page.getByRole("button", { name: "Create account" }).click();

  // back on the post, signed in, with a comment form
  await page.waitForURL(`${site.url}/posts/${post.slug}`);
  await page.locator(".whoami", { hasText: "Nina Newcomer" }).waitFor();
  await page.getByLabel("Your comment").waitFor();
  const user = await site.su.collection("users").getFirstListItem(site.su.filter("email = {:e}", { e: email }));
  assert.equal(user.role, "student");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Sign in" }).first().waitFor();
  assert.equal(await page.locator(".comment-form").count(), 0);

  await signInThroughForm(page, site.url, { email, password: "a-good-password" });
  await page.locator(".whoami", { hasText: "Nina Newcomer" }).waitFor();
  watch.assertClean("sign-up");
  await context.close();
});

test("feeds and the API are linked from every page; an unknown post is an HTTP 404", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const res = await page.goto(`${site.url}/`);
  assert.equal(res.status(), 200);
  const alternates = await page.$$eval('head link[rel="alternate"]', (ls) => ls.map((l) => [l.type, l.getAttribute("href")]));
  assert.deepEqual(alternates, [
    ["application/rss+xml", "/feed.xml"],
    ["application/atom+xml", "/atom.xml"],
    ["application/feed+json", "/feed.json"],
  ]);
  for (const [, href] of alternates) {
    const feed = await fetch(`${site.url}${href}`);
    assert.equal(feed.status, 200, href);
  }
  assert.equal(await page.locator("footer").getByRole("link", { name: "RSS feed" }).getAttribute("href"), "/feed.xml");
  assert.equal(await page.locator("footer").getByRole("link", { name: "Lectern API" }).getAttribute("href"), "/api/docs");

  // a slug nobody published: the server says 404 (crawlers, monitors), the page says why
  const missing = await page.goto(`${site.url}/posts/no-such-post-here`);
  assert.equal(missing.status(), 404);
  await page.getByText(/not found/i).first().waitFor();
  const found = await page.goto(`${site.url}/posts/${post.slug}`);
  assert.equal(found.status(), 200);
  await page.getByRole("heading", { level: 1, name: post.title }).waitFor();
  await context.close();
});

test("a page past the last one says so instead of \"No posts yet.\"", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${site.url}/?page=99`);
  const empty = page.locator(".blog .empty");
  await empty.waitFor();
  const text = await empty.innerText();
  assert.match(text, /There is no page 99: the posts end on page \d+\./);
  assert.doesNotMatch(text, /No posts yet/);
  assert.equal(await page.locator(".blog .pager").count(), 0, "no \"Page 99 of N\" beside it");
  await empty.getByRole("link", { name: "Go to the last page" }).click();
  await page.locator(".post-list li").first().waitFor();
  await context.close();
});

test("phone viewport (390x844): the header is one row, signed out and signed in", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const oneRow = async (label) => {
    const boxes = await assertHeaderOneRow(page, label);
    assert.equal(boxes.length, 4, label); // brand, nav, search, account
  };
  await page.goto(site.url);
  await page.locator(".header-inner .account a").first().waitFor();
  await oneRow("signed out");
  await signInThroughForm(page, site.url, reader, "/");
  await page.locator(".whoami").waitFor();
  await oneRow("signed in");
  await page.getByRole("link", { name: "Lectern home" }).waitFor();
  await context.close();
});

test("a course page shows the whole syllabus, locked lessons marked, their content never sent", async () => {
  const instructor = await site.user("instructor", { name: "Syl Labus" });
  const course = await instructor.pb.collection("courses").create({ title: "Syllabus course", durationDays: 5, status: "published" });
  const lessons = instructor.pb.collection("lessons");
  await lessons.create({ course: course.id, title: "Welcome", position: 1, freePreview: true, durationMinutes: 5, body: "<p>Open to all.</p>" });
  await lessons.create({ course: course.id, title: "The paid part", position: 2, durationMinutes: 25, body: "<p>PAID-SECRET-BODY</p>" });
  await lessons.create({ course: course.id, title: "Wrapping up", position: 3, durationMinutes: 10, body: "<p>PAID-SECRET-END</p>" });

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  const bodies = [];
  page.on("response", async (res) => {
    if (res.url().includes("/api/")) bodies.push(await res.text().catch(() => ""));
  });
  await page.goto(`${site.url}/courses/${course.slug}`);
  const items = page.locator(".lessons > li");
  await items.nth(2).waitFor();
  assert.deepEqual(await page.locator(".lessons .lesson-title").allInnerTexts(), ["Welcome", "The paid part", "Wrapping up"]);
  assert.equal(await items.nth(0).getAttribute("data-locked"), null, "the free preview is open");
  for (const i of [1, 2]) {
    assert.equal(await items.nth(i).getAttribute("data-locked"), "true");
    await items.nth(i).getByText("Locked").waitFor();
  }
  await items.nth(1).getByText("25 min").waitFor();
  assert.ok(!bodies.some((b) => b.includes("PAID-SECRET")), "no locked lesson's body reached the browser");
  assert.ok(!(await page.content()).includes("PAID-SECRET"));
  watch.assertClean("syllabus");
  await context.close();
});
