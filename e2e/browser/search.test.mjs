// The demo site's search (pb_public/assets/js/views/search.js) in Chromium:
// the header's search box, highlighted snippets that never let a record's
// HTML in, facet filters, "Did you mean …", paging, and the header still one
// row on a phone with the search button in it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, watchPage, shot, publishPost, horizontalOverflow, assertHeaderOneRow, audit, signInThroughForm } from "./helpers.mjs";

let site;
let browser;
let author;
let reader;
let running;
let hostile;
const rules = [];

// What a hostile author could put in a title: markup, an event handler, and
// an escaped <mark> that must stay text (only the server's own marks count).
const HOSTILE_TITLE = 'Zebracorn <img src=x onerror="window.__pwned=1"> & <mark>fake</mark> <b>bold</b>';

before(async () => {
  site = await startSite({ relaxRateLimits: true });
  browser = await launchBrowser();
  author = await site.user("author", { name: "Sam Searcher" });
  reader = await site.user("student", { name: "Rosa Reader" });
  const instructor = await site.user("instructor", { name: "Ivy Instructor" });

  running = await publishPost(author, { title: "Running a zettelkasten", body: "<p>Notes on running a zettelkasten, one card at a time.</p>" });
  for (let i = 1; i <= 4; i++) {
    rules.push(await publishPost(author, { title: `House rules ${i}`, body: "<p>The rules of the house.</p>" }));
  }
  // the word is only in the title: the snippet is the title, escaped by the server
  hostile = await publishPost(author, { title: HOSTILE_TITLE, body: "<p>Nothing to see in the body.</p>" });
  // a body whose text shows a tag (as text): it must stay text in the snippet
  await publishPost(author, { title: "Escaping notes", body: "<p>Write &lt;script&gt;window.__pwned=2&lt;/script&gt; to show a zebracorn tag.</p>" });

  const courses = instructor.pb.collection("courses");
  const beginner = await courses.create({ title: "Zebracorn basics", summary: "Start with zebracorns", durationDays: 3, mode: "online", level: "beginner", status: "published" });
  await courses.create({ title: "Zebracorn at scale", durationDays: 5, mode: "onsite", level: "advanced", status: "published" });
  await instructor.pb.collection("lessons").create({ course: beginner.id, title: "Your first zebracorn", position: 1, freePreview: true });
  await courses.create({ title: "Zebracorn drafts", durationDays: 2, level: "beginner", status: "draft" });

  for (let i = 1; i <= 12; i++) {
    await publishPost(author, { title: `Quokka notes ${String(i).padStart(2, "0")}`, body: "<p>Quokkas all the way down.</p>" });
  }
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

test("search from the header: highlighted snippets, facets, and a record's HTML never gets in", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  const searches = [];
  page.on("request", (req) => {
    if (new URL(req.url()).pathname === "/api/search") searches.push(new URL(req.url()).searchParams);
  });

  await page.goto(site.url);
  await page.getByRole("searchbox", { name: "Search posts, courses and lessons" }).fill("zebracorn");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${site.url}/search?q=zebracorn`);
  await page.getByRole("heading", { level: 1, name: "Results for zebracorn" }).waitFor();
  await page.evaluate(() => (window.__sameDocument = true));

  // 2 posts, 2 published courses, 1 lesson; never the draft course
  await page.locator(".result-count", { hasText: "5 results" }).waitFor();
  assert.equal(await page.locator(".hit").count(), 5);
  assert.equal(await page.locator(".hit", { hasText: "Zebracorn drafts" }).count(), 0, "a draft is not found");
  assert.equal(searches.at(-1).get("q"), "zebracorn");
  assert.equal(searches.at(-1).get("fields"), null, "the page asks for slim hits");

  // every snippet marks the word; the hostile title is text, with the server's one mark
  const marks = await page.locator(".hit .snippet mark").allInnerTexts();
  assert.ok(marks.length >= 5, `marks: ${marks}`);
  for (const m of marks) assert.match(m, /^zebracorns?$/i);
  const evil = page.locator(`.hit[data-hit-id="${hostile.id}"]`);
  const snippet = evil.locator(".snippet");
  assert.equal(await snippet.locator("*").count(), 1, "the snippet holds one element: the server's <mark>");
  assert.equal(await snippet.locator("mark").innerText(), "Zebracorn");
  assert.equal(await snippet.textContent(), HOSTILE_TITLE, "the rest is the title as text, entities decoded");
  assert.equal(await evil.locator(".card-title a").textContent(), HOSTILE_TITLE, "the title link is text");
  const escaping = page.locator(".hit", { hasText: "Escaping notes" }).locator(".snippet");
  assert.match(await escaping.textContent(), /<script>window\.__pwned=2<\/script>/, "a tag in a body's text stays text");
  assert.equal(await page.locator("main img, main script, main b").count(), 0, "no element from a record's text");
  assert.equal(await page.evaluate(() => window.__pwned), undefined, "nothing ran");
  await audit(page, "search results");
  await shot(page, "search-results");

  // facets: type, then the course facets it opens, each with its count
  await page.locator('.facet a[data-facet="type"][data-value="courses"]', { hasText: "(2)" }).click();
  await page.waitForURL(`${site.url}/search?q=zebracorn&type=courses`);
  await page.locator(".result-count", { hasText: "2 results" }).waitFor();
  assert.deepEqual(await page.locator(".hit").evaluateAll((els) => els.map((e) => e.dataset.hitType)), ["courses", "courses"]);
  await page.locator('.facet a[data-facet="level"][data-value="beginner"]', { hasText: "(1)" }).waitFor();
  await page.locator('.facet a[data-facet="level"][data-value="advanced"]', { hasText: "(1)" }).click();
  await page.waitForURL(/level=advanced/);
  await page.locator(".result-count", { hasText: "1 result" }).waitFor();
  await page.locator(".hit .card-title", { hasText: "Zebracorn at scale" }).waitFor();
  assert.equal(await page.locator('.facet a[data-facet="level"][data-value="advanced"]').getAttribute("aria-current"), "true");
  // the course link goes to the course page
  await page.getByRole("link", { name: "Zebracorn at scale" }).click();
  await page.getByRole("heading", { level: 1, name: "Zebracorn at scale" }).waitFor();
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "navigated without a reload");

  // the lesson hit names its course
  await page.goto(`${site.url}/search?q=zebracorn&type=lessons`);
  await page.locator(".hit .meta", { hasText: "Lesson 1 of Zebracorn basics" }).waitFor();
  watch.assertClean("search");
  await context.close();
});

test("a typo is corrected to the nearest spelling: Did you mean running", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  await page.goto(`${site.url}/search?q=runing`);
  const suggestion = page.locator(".did-you-mean a");
  await suggestion.waitFor();
  assert.equal(await suggestion.innerText(), "running");
  const ids = await page.locator(".hit").evaluateAll((els) => els.map((e) => e.dataset.hitId));
  assert.ok(ids.includes(running.id), "the running post is shown");
  for (const r of rules) assert.ok(!ids.includes(r.id), "no post about rules");
  await page.locator(`.hit[data-hit-id="${running.id}"] .snippet mark`, { hasText: "running" }).first().waitFor();
  await suggestion.click();
  await page.waitForURL(`${site.url}/search?q=running`);
  await page.getByRole("heading", { level: 1, name: "Results for running" }).waitFor();
  assert.equal(await page.locator(".did-you-mean").count(), 0, "found as typed: no suggestion");
  watch.assertClean("typo");
  await context.close();
});

test("paging through results, and a bad parameter explained", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  await page.goto(`${site.url}/search?q=quokka`);
  await page.locator(".result-count", { hasText: "12 results" }).waitFor();
  assert.equal(await page.locator(".hit").count(), 10);
  await page.locator(".pager-status", { hasText: "Page 1 of 2" }).waitFor();
  await page.getByRole("link", { name: "Next →" }).click();
  await page.waitForURL(`${site.url}/search?q=quokka&page=2`);
  await page.locator(".pager-status", { hasText: "Page 2 of 2" }).waitFor();
  assert.equal(await page.locator(".hit").count(), 2);
  assert.equal(await page.locator(".hit-list").getAttribute("start"), "11", "numbering goes on");

  // a query the API refuses is explained, not a crash
  await page.goto(`${site.url}/search?q=${"x".repeat(300)}`);
  await page.locator(".form-error", { hasText: "q:" }).waitFor();
  // the one console line is Chromium reporting that refused request
  const refused = watch.problems.console.filter((l) => /status of 400/.test(l) && l.includes("/api/search?q=xxx"));
  assert.equal(refused.length, 1, JSON.stringify(watch.problems.console));
  watch.problems.console = watch.problems.console.filter((l) => !refused.includes(l));
  watch.assertClean("paging");
  await context.close();
});

test("phone (390x844): the header keeps one row with the search button, which opens the search page", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  const oneRow = (label) => assertHeaderOneRow(page, label);
  await page.goto(site.url);
  await page.locator(".header-inner .account a").first().waitFor();
  await oneRow("signed out");
  const button = page.getByRole("button", { name: "Search", exact: true });
  assert.ok(await button.isVisible());
  assert.equal(await page.locator("#header-q").isVisible(), false, "the header box folds into its button");
  await button.click();
  await page.waitForURL(`${site.url}/search`);
  await page.getByRole("heading", { level: 1, name: "Search" }).waitFor();
  await page.locator("main").getByRole("searchbox").fill("quokka");
  await page.locator("main").getByRole("button", { name: "Search" }).click();
  await page.waitForURL(`${site.url}/search?q=quokka`);
  await page.locator(".result-count", { hasText: "12 results" }).waitFor();
  assert.equal(await horizontalOverflow(page), 0, "results on a phone: no horizontal scroll");
  await shot(page, "search-phone");

  await signInThroughForm(page, site.url, reader, "/");
  await page.locator(".whoami").waitFor();
  await oneRow("signed in");
  watch.assertClean("phone");
  await context.close();
});
