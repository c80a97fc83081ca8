// The API reference page (/api/docs) in Chromium: it renders every operation of
// the live OpenAPI document from assets served by the binary itself, makes no
// request to any other host, and "Try it out" calls the running server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, watchPage, shot } from "./helpers.mjs";

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

test("the docs page renders offline and tries a call against the server", async () => {
  const author = await site.user("author", { name: "Docs Author" });
  await author.pb.collection("posts").create({ title: "Visible in the docs", body: "<p>hi</p>", status: "published" });

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const watch = watchPage(page, site.url);
  await page.goto(`${site.url}/api/docs`);

  // every operation of the spec is rendered
  const spec = await (await fetch(`${site.url}/api/openapi.json`)).json();
  let operations = 0;
  for (const item of Object.values(spec.paths)) {
    operations += Object.keys(item).filter((k) => ["get", "post", "patch", "put", "delete"].includes(k)).length;
  }
  // the page opens with every tag collapsed (Swagger UI stalls rendering
  // ~130 operations at once); a reader opens the ones they need, so open
  // each in turn and count what it renders
  const tags = page.locator(".opblock-tag");
  await tags.first().waitFor({ timeout: 20_000 });
  const names = await tags.evaluateAll((els) => els.map((e) => e.getAttribute("data-tag")));
  let rendered = 0;
  for (const name of names) {
    const section = page.locator(".opblock-tag-section", { has: page.locator(`.opblock-tag[data-tag="${name}"]`) });
    await section.locator(".opblock-tag").click();
    await section.locator(".opblock").first().waitFor({ timeout: 10_000 });
    rendered += await section.locator(".opblock").count();
    await section.locator(".opblock-tag").click(); // close it again
  }
  assert.ok(operations > 40, `the spec describes ${operations} operations`);
  assert.ok(rendered >= operations, `rendered ${rendered} of ${operations} operations`);
  await page.locator('.opblock-tag[data-tag="posts"]').click();

  // "Try it out" on the public post list
  const listPosts = page.locator(".opblock-get", { has: page.locator('[data-path="/api/collections/posts/records"]') }).first();
  await listPosts.locator(".opblock-summary").click();
  await listPosts.getByRole("button", { name: /try it out/i }).click();
  await listPosts.getByRole("button", { name: /execute/i }).click();
  const status = listPosts.locator(".live-responses-table tbody .response-col_status").first();
  await status.waitFor({ timeout: 15_000 });
  assert.match((await status.textContent()).trim(), /^200/);
  assert.match(await listPosts.locator(".live-responses-table").textContent(), /Visible in the docs/);
  await shot(page, "apidocs-try-it-out");

  assert.ok(watch.problems.requests.length > 0, "the page made requests");
  watch.assertClean("api docs");
  await page.close();
});
