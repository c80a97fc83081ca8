// The course catalogue and a course page in Chromium: the "4.x (n)" rating of a
// course updates live when someone else reviews it through the API; free preview
// lessons are open and the rest locked until the visitor enrolls; enrolling,
// progress and reviewing through the site.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSite, launchBrowser, watchPage, shot, signInThroughForm, horizontalOverflow, audit } from "./helpers.mjs";

// Rate limits stay ON (Lectern's defaults): 6 users, 4 reviews, a few sign-ins.
let site;
let browser;
let instructor;
let course;
const lessons = [];

before(async () => {
  site = await startSite();
  browser = await launchBrowser();
  instructor = await site.user("instructor", { name: "Ivy Instructor" });
  course = await instructor.pb.collection("courses").create({
    title: "Node.JS",
    summary: "Server-side JavaScript from zero to a production API.",
    description: "<p>Weekly <strong>labs</strong> and an on-site week.</p>",
    durationDays: 45,
    mode: "hybrid",
    level: "beginner",
    price: 0, // free: joined with one click (paid courses are bought: checkout.test.mjs)
    currency: "USD",
    status: "published",
  });
  for (const [i, [title, freePreview]] of [["Installing Node", true], ["The event loop", false], ["Streams in depth", false]].entries()) {
    lessons.push(await instructor.pb.collection("lessons").create({
      course: course.id, title, position: i + 1, freePreview, durationMinutes: 10 * (i + 1), body: `<p>${title} notes.</p>`,
    }));
  }
  await review(5);
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

/** A new student enrolls and reviews the course through the API. */
async function review(rating, body = "") {
  const s = await site.user("student");
  await s.pb.collection("enrollments").create({ course: course.id });
  return s.pb.collection("reviews").create({ course: course.id, rating, body });
}

const ratingOf = (scope) => scope.locator(".rating-text").first();

test("catalogue: a course card's rating updates live when a review is created", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  await page.goto(`${site.url}/courses`);
  await page.locator('.courses-page[data-live="ready"]').waitFor();

  const card = page.locator(".course-card", { hasText: "Node.JS" });
  await card.waitFor();
  const facts = await card.locator(".facts").innerText();
  for (const expected of ["45 days", "Online & on-site", "Beginner", "Free"]) {
    assert.ok(facts.includes(expected), `card shows ${expected}: ${facts}`);
  }
  assert.equal(await ratingOf(card).textContent(), "5.0 (1)");
  assert.equal(await card.locator("[data-course-rating] .sr-only").textContent(), "Rated 5.0 out of 5 from 1 review");
  await audit(page, "catalogue");
  await page.evaluate(() => (window.__sameDocument = true));

  const t = Date.now();
  await review(4, "Good pace.");
  await card.locator(".rating-text", { hasText: /^4\.5 \(2\)$/ }).waitFor({ timeout: 5000 });
  const ms = Date.now() - t;
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "no reload");
  console.log(`# catalogue rating updated ${ms} ms after the review was created`);

  // the filters narrow the list (and keep the live subscription working)
  await page.getByLabel("Format").selectOption("online");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/\/courses\?mode=online$/);
  await page.getByText("No courses match these filters yet.").waitFor();
  await page.getByLabel("Format").selectOption("hybrid");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.locator('.courses-page[data-live="ready"] .course-card', { hasText: "Node.JS" }).waitFor();

  await shot(page, "catalogue-live-rating");
  watch.assertClean("catalogue");
  await context.close();
});

test("course page: previews open, the rest locked; enroll, progress, review, live rating", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const watch = watchPage(page, site.url);
  const student = await site.user("student", { name: "Sam Student" });

  // a guest sees the whole syllabus, opens the free preview only, and is asked to sign in to enroll
  await page.goto(`${site.url}/courses/${course.slug}`);
  await page.getByRole("heading", { level: 1, name: "Node.JS" }).waitFor();
  await page.locator('.course[data-live="ready"]').waitFor();
  assert.equal(await page.locator(".lesson").count(), 3, "every lesson's title is listed");
  assert.equal(await page.locator(".lesson:not(.locked)").count(), 1);
  await page.locator(".lesson", { hasText: "Installing Node" }).getByText("Free preview").waitFor();
  await page.locator(".lesson.locked", { hasText: "The event loop" }).getByText("Locked").waitFor();
  assert.equal(await page.locator(".lesson.locked").getByText("Open lesson").count(), 0, "locked lessons have no content to open");
  await page.getByText("The other lessons unlock when you enroll.").waitFor();
  await page.locator(".lesson:not(.locked)").getByText("Open lesson").click();
  await page.getByText("Installing Node notes.").waitFor();
  assert.equal(await ratingOf(page.locator(".course-head")).textContent(), "4.5 (2)");
  await audit(page, "course page, guest");
  await shot(page, "course-guest");
  await page.getByRole("link", { name: "Sign in to enroll" }).click();
  await page.waitForURL(/\/login\?next=/);
  await audit(page, "sign-in page");

  // Sam signs in and comes back to the course
  await signInThroughForm(page, site.url, student, `/courses/${course.slug}`);
  await page.waitForURL(`${site.url}/courses/${course.slug}`);
  await page.getByRole("button", { name: "Enroll" }).click();
  await page.locator(".enrolled-note", { hasText: "You're enrolled." }).waitFor();
  assert.equal(await page.locator(".lesson").count(), 3, "every lesson is open once enrolled");
  assert.equal(await page.locator(".locked-note").count(), 0);
  assert.equal(await page.locator("[data-course-enrollments]").textContent(), "3 students");

  // progress: one of three lessons done
  await page.locator(".lesson", { hasText: "The event loop" }).getByLabel("Completed").check();
  await page.locator(".progress-text", { hasText: "33% complete" }).waitFor();

  await audit(page, "course page, enrolled");

  // review through the form: (5 + 4 + 3) / 3 = 4.0
  await page.getByRole("radio", { name: /3 – Okay/ }).check();
  await page.getByLabel("Your review (optional)").fill("Clear, if a little fast.");
  await page.getByRole("button", { name: "Post review" }).click();
  await page.getByText("Thanks for your review!").waitFor();
  await page.locator(".review", { hasText: "Clear, if a little fast." }).waitFor();
  await ratingOf(page.locator(".course-head")).filter({ hasText: /^4\.0 \(3\)$/ }).waitFor({ timeout: 5000 });
  await page.evaluate(() => (window.__sameDocument = true));

  // someone else reviews through the API: the rating (17 / 4 = 4.25 → 4.3) and the list update live
  const other = await review(5, "Best course I took this year.");
  await ratingOf(page.locator(".course-head")).filter({ hasText: /^4\.3 \(4\)$/ }).waitFor({ timeout: 5000 });
  await ratingOf(page.locator(".reviews-section")).filter({ hasText: /^4\.3 \(4\)$/ }).waitFor();
  await page.locator(`.review[data-review-id="${other.id}"]`, { hasText: "Best course I took this year." }).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "no reload");

  // the server agrees with what the page shows
  const fresh = await site.su.collection("courses").getOne(course.id);
  assert.equal(fresh.ratingAvg, 4.3);
  assert.equal(fresh.ratingCount, 4);

  await shot(page, "course-enrolled-reviewed");

  // phone size: the course page fits
  await page.setViewportSize({ width: 390, height: 844 });
  assert.equal(await horizontalOverflow(page), 0, "course page on a phone: no horizontal scroll");
  await shot(page, "course-phone");
  watch.assertClean("course page");
  await context.close();
});
