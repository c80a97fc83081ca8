// Makes docs/screenshot.png, the README's picture of the demo site: the home page
// (posts and popular courses) at desktop size, with the demo data set.
//
//   make build && cd e2e && node browser/screenshot.mjs
import { join } from "node:path";
import { statSync } from "node:fs";
import { startSite, launchBrowser, watchPage, repoRoot } from "./helpers.mjs";
import { createDemoData } from "./demo-data.mjs";

const out = join(repoRoot, "docs", "screenshot.png");
const site = await startSite({ relaxRateLimits: true });
const browser = await launchBrowser();
try {
  await createDemoData(site);
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: "light" });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  await page.goto(site.url);
  await page.locator('.layout-home[data-live="ready"]').waitFor();
  // the pictures in view have loaded (lazy ones further down are not needed)
  await page.waitForFunction(() => [...document.images].filter((i) => i.getBoundingClientRect().top < innerHeight).every((i) => i.complete && i.naturalWidth > 0));
  await page.screenshot({ path: out });
  watch.assertClean("home");
  console.log(`${out}: ${statSync(out).size} bytes`);
} finally {
  await browser.close();
  await site.stop();
}
