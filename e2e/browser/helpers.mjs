// Helpers of the browser suite (e2e/browser): a Lectern server with a superuser,
// users of every role made through the API, Debian's Chromium driven by
// playwright-core, and a page watcher for console errors and off-host requests.
//
// Not a test file (node --test only runs *.test.mjs here).
import assert from "node:assert/strict";
import { mkdirSync, existsSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import PocketBase from "pocketbase";
import { chromium } from "playwright-core";
import { startServer, repoRoot } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const artifactsDir = join(here, "..", "artifacts");
export { repoRoot };

/** Debian's chromium; never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (Debian's package), or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** An SDK client with auto-cancellation off (tests send similar requests at once). */
export function client(url) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  return pb;
}

let seq = 0;
const uniq = () => `${process.pid}-${Date.now().toString(36)}-${++seq}`;

/**
 * startSite starts lectern with a superuser and returns
 * {server, url, su (superuser SDK client), superuser, user(role, fields), stop()}.
 *
 * relaxRateLimits: Lectern's per-IP limits are ON by default (50 sign-ups an
 * hour, 10 sign-ins a minute…). The browser tests make a handful of users and
 * keep them on; the demo-data script makes dozens of records in seconds from one
 * IP and switches them off as the superuser (PATCH /api/settings).
 * env: extra environment of the server (the checkout test's LECTERN_STRIPE_*).
 */
export async function startSite({ relaxRateLimits = false, env } = {}) {
  const superuser = { email: `su-${uniq()}@lectern.test`, password: `su-pass-${uniq()}` };
  const server = await startServer({ superuser, env });
  const url = server.url;
  const su = client(url);
  try {
    await su.collection("_superusers").authWithPassword(superuser.email, superuser.password);
    if (relaxRateLimits) {
      const s = await su.settings.update({ rateLimits: { enabled: false } });
      assert.equal(s.rateLimits.enabled, false);
    }
  } catch (err) {
    await server.stop();
    throw err;
  }

  return {
    server,
    url,
    su,
    superuser,
    /**
     * user signs a user up through the public API, has the superuser set a role
     * other than student, and returns {pb (signed in), id, record, email, password}.
     */
    async user(role = "student", fields = {}) {
      const n = uniq();
      const email = `${role}-${n}@lectern.test`;
      const password = `pw-${n}-secret`;
      const pb = client(url);
      await pb.collection("users").create({ email, password, passwordConfirm: password, name: `${role} ${n}`, ...fields });
      await pb.collection("users").authWithPassword(email, password);
      if (role !== "student") {
        await su.collection("users").update(pb.authStore.record.id, { role });
        await pb.collection("users").authRefresh();
        assert.equal(pb.authStore.record.role, role);
      }
      return { pb, id: pb.authStore.record.id, record: pb.authStore.record, email, password };
    },
    stop: () => server.stop(),
  };
}

/**
 * watchPage records what a page does wrong: console errors, uncaught page
 * errors, failed requests, and every request to a host other than the
 * loopback address the site is on.
 */
export function watchPage(page, siteURL) {
  const site = new URL(siteURL);
  const problems = { console: [], pageErrors: [], failed: [], offHost: [], requests: [] };
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.console.push(`${msg.text()} @ ${msg.location()?.url || ""}`);
  });
  page.on("pageerror", (err) => problems.pageErrors.push(String(err?.stack || err)));
  page.on("request", (req) => {
    const u = new URL(req.url());
    problems.requests.push(req.url());
    if (u.protocol === "data:" || u.protocol === "blob:" || u.protocol === "about:") return;
    const loopback = u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]";
    if (!loopback || u.port !== site.port) problems.offHost.push(req.url());
  });
  page.on("requestfailed", (req) => {
    const why = req.failure()?.errorText || "";
    // an EventSource or fetch cut off by a navigation is not a failure of the site
    if (why.includes("ERR_ABORTED")) return;
    problems.failed.push(`${req.method()} ${req.url()} ${why}`);
  });
  return {
    problems,
    /** asserts nothing went wrong so far */
    assertClean(label = "page") {
      assert.deepEqual(problems.pageErrors, [], `${label}: uncaught errors`);
      assert.deepEqual(problems.console, [], `${label}: console errors`);
      assert.deepEqual(problems.failed, [], `${label}: failed requests`);
      assert.deepEqual(problems.offHost, [], `${label}: requests to other hosts`);
    },
  };
}

/** Saves a full-page screenshot to e2e/artifacts/<name>.png and returns its path. */
export async function shot(page, name, opts = {}) {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true, ...opts });
  return path;
}

/** Signs a user in the way a visitor does: the site's sign-in form. */
export async function signInThroughForm(page, url, { email, password }, next = "/") {
  await page.goto(`${url}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** A published post by the author client. */
export async function publishPost(author, fields = {}) {
  return author.pb.collection("posts").create({
    title: `A post ${uniq()}`,
    body: "<p>Hello from <strong>Lectern</strong>.</p>",
    status: "published",
    ...fields,
  });
}

/** Measures horizontal overflow of the document (0 = no horizontal scroll). */
export function horizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/**
 * Asserts that the site header's items sit on one row within a 390 px phone
 * and the page has no horizontal scroll; returns the items' boxes.
 */
export async function assertHeaderOneRow(page, label) {
  const boxes = await page.$$eval(".header-inner > *", (els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, right: r.right, cls: e.className };
  }));
  const middles = boxes.map((b) => (b.top + b.bottom) / 2);
  assert.ok(Math.max(...middles) - Math.min(...middles) < 8, `${label}: one row ${JSON.stringify(boxes)}`);
  assert.ok(Math.max(...boxes.map((b) => b.right)) <= 390, `${label}: fits ${JSON.stringify(boxes)}`);
  assert.equal(await horizontalOverflow(page), 0, `${label}: no horizontal scroll`);
  return boxes;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real RGB PNG made in code: pixel(x, y) returns [r, g, b]. */
export function makePNG(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw.set([r, g, b], row + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolor, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A 16:9 cover picture: a diagonal gradient between two colours, as a File for the SDK. */
export function coverFile(from = [59, 61, 191], to = [180, 83, 9], name = "cover.png") {
  const w = 320;
  const h = 180;
  const png = makePNG(w, h, (x, y) => {
    const t = (x / w + y / h) / 2;
    const stripe = ((x + y) >> 4) % 2 ? 0 : 12;
    return from.map((c, i) => Math.min(255, Math.round(c + (to[i] - c) * t + stripe)));
  });
  return new File([png], name, { type: "image/png" });
}

/**
 * audit runs a few accessibility checks in the page and fails with a list of
 * what it found: one h1 and no skipped heading levels; every form control
 * labelled; every image with an alt attribute; links and buttons with a name;
 * unique ids; the landmarks (banner, main navigation, main, contentinfo).
 * Not a replacement for a full audit tool, which the suite does not pull in.
 */
export async function audit(page, label = "page") {
  const problems = await page.evaluate(() => {
    const out = [];
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && !el.closest("[hidden]");
    const name = (el) => (el.getAttribute("aria-label") || (el.getAttribute("aria-labelledby") || "").split(" ").map((id) => document.getElementById(id)?.textContent || "").join(" ") || el.textContent || el.getAttribute("title") || el.querySelector("img[alt]")?.alt || "").trim();

    const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].filter(visible);
    const h1s = headings.filter((h) => h.tagName === "H1");
    if (h1s.length !== 1) out.push(`${h1s.length} h1 elements`);
    let prev = 0;
    for (const h of headings) {
      const level = Number(h.tagName[1]);
      if (prev && level > prev + 1) out.push(`heading level skipped: h${prev} → h${level} "${h.textContent.trim()}"`);
      prev = level;
    }
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
      if (!visible(el)) continue;
      const labelled = el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
      if (!labelled) out.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name}`);
    }
    for (const img of document.querySelectorAll("img")) {
      if (!img.hasAttribute("alt")) out.push(`img without alt: ${img.src}`);
    }
    for (const el of document.querySelectorAll("a[href], button")) {
      if (visible(el) && !name(el)) out.push(`${el.tagName.toLowerCase()} without a name: ${el.outerHTML.slice(0, 80)}`);
    }
    const ids = new Map();
    for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
    for (const [id, n] of ids) if (n > 1) out.push(`duplicate id "${id}" (${n})`);
    for (const sel of ["header", "nav", "main", "footer"]) {
      if (!document.querySelector(sel)) out.push(`no <${sel}> landmark`);
    }
    if (!document.documentElement.lang) out.push("no lang on <html>");
    if (!document.title) out.push("no document title");
    return out;
  });
  assert.deepEqual(problems, [], `${label}: accessibility problems`);
}
