// Makes docs/screenshot.png, the README's picture of the demo site: the home
// page (posts and popular courses) at desktop size, showing the data a plain
// `lectern seed` makes — what a reader who follows the README sees.
//
//   make build && cd e2e && node browser/screenshot.mjs
//
// The seed's dates are relative to the day it runs, so the picture's dates are
// the day it was made.
import { join } from "node:path";
import { statSync } from "node:fs";
import { launchBrowser, watchPage, repoRoot } from "./helpers.mjs";
import { startServer } from "../lib/server.mjs";

const out = join(repoRoot, "docs", "screenshot.png");
const server = await startServer({ seed: [] }); // `lectern seed`, default sizes
const browser = await launchBrowser();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: "light" });
  const page = await context.newPage();
  const watch = watchPage(page, server.url);
  await page.goto(server.url);
  await page.locator('.layout-home[data-live="ready"]').waitFor();
  // the pictures in view have loaded (lazy ones further down are not needed)
  await page.waitForFunction(() => [...document.images].filter((i) => i.getBoundingClientRect().top < innerHeight).every((i) => i.complete && i.naturalWidth > 0));
  await page.screenshot({ path: out });
  watch.assertClean("home");
  console.log(`${out}: ${statSync(out).size} bytes`);
} finally {
  await browser.close();
  await server.stop();
}
