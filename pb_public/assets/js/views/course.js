// A course: facts with a live rating, lessons (free previews open, the rest for
// enrolled students), enrolling, and reviews.
import { pb, currentUser } from "../pb.js";
import { h, icon, nextId, serverHTML, announce } from "../dom.js";
import * as fmt from "../format.js";
import { field, formError, showErrors, clearErrors, busy } from "../forms.js";
import { notFound } from "../pages.js";
import { ratingBadge, setRating } from "./courses.js";

const RATING_WORDS = { 5: "Excellent", 4: "Good", 3: "Okay", 2: "Poor", 1: "Bad" };

export async function courseView(ctx) {
  const slug = ctx.match[1];
  const found = await pb.collection("courses").getList(1, 1, {
    filter: pb.filter("slug = {:slug}", { slug }),
    expand: "instructor,topics",
    skipTotal: true,
  });
  let course = found.items[0];
  if (!course) return notFound(ctx, "Course");
  ctx.setTitle(course.title);
  const user = currentUser();
  const byCourse = pb.filter("course = {:course}", { course: course.id });
  const mine = user ? pb.filter("course = {:course} && user = {:user}", { course: course.id, user: user.id }) : null;

  let root = null;
  const reviewsList = h("ol", { class: "reviews", role: "list", "aria-live": "polite", "aria-relevant": "additions" });
  const reviewNodes = new Map();
  const upsertReview = (r, { prepend = true } = {}) => {
    const existing = reviewNodes.get(r.id);
    const node = reviewItem(r);
    if (existing) existing.replaceWith(node);
    else if (prepend) reviewsList.prepend(node);
    else reviewsList.append(node);
    reviewNodes.set(r.id, node);
    root?.querySelector(".reviews-empty")?.remove();
  };

  // Live: the course record (rating, students) and its reviews.
  const subs = await Promise.race([
    Promise.all([
      pb.collection("courses").subscribe(course.id, (e) => {
        if (e.action !== "update" || !root) return;
        if (String(e.record.updated) < String(course.updated)) return;
        course = { ...course, ...e.record };
        for (const el of root.querySelectorAll("[data-course-rating]")) setRating(el, course);
        for (const el of root.querySelectorAll("[data-course-enrollments]")) el.textContent = fmt.plural(Number(course.enrollmentsCount) || 0, "student");
      }, { fields: "id,updated,ratingAvg,ratingCount,enrollmentsCount" }),
      pb.collection("reviews").subscribe("*", (e) => {
        if (e.action === "delete") {
          reviewNodes.get(e.record.id)?.remove();
          reviewNodes.delete(e.record.id);
        } else {
          upsertReview(e.record);
        }
      }, { filter: byCourse, expand: "user" }),
    ]).then((unsubs) => {
      unsubs.forEach((u) => ctx.onCleanup(u));
      return true;
    }).catch(() => false),
    new Promise((r) => setTimeout(() => r(false), 5000)),
  ]);

  const [lessons, syllabus, enrollments, reviews, myReviews, fresh] = await Promise.all([
    pb.collection("lessons").getFullList({ filter: byCourse, sort: "position", batch: 200 }),
    // every lesson's title and duration, locked ones included (the list above holds only what the visitor may open)
    pb.send(`/api/courses/${encodeURIComponent(course.id)}/syllabus`, {}).then((r) => r.items).catch(() => []),
    mine ? pb.collection("enrollments").getList(1, 1, { filter: mine, skipTotal: true }) : null,
    pb.collection("reviews").getList(1, 20, { filter: byCourse, sort: "-created", expand: "user" }),
    mine ? pb.collection("reviews").getList(1, 1, { filter: mine, skipTotal: true }) : null,
    // reload the counters now that the subscription runs, so no update is missed
    pb.collection("courses").getOne(course.id, { fields: "id,updated,ratingAvg,ratingCount,enrollmentsCount" }),
  ]);
  if (String(fresh.updated) >= String(course.updated)) course = { ...course, ...fresh };
  let enrollment = enrollments?.items[0] || null;
  const isInstructor = !!user && course.instructor === user.id;
  const enrolled = () => !!enrollment && enrollment.status !== "cancelled";
  const paid = Number(course.price) > 0;
  // back from Stripe Checkout: ?checkout=<session id> (or "cancelled")
  const returned = ctx.params.get("checkout") || "";
  let purchase = null; // GET /api/checkout/{sessionId}: {status, order, enrollment}
  if (user && returned.startsWith("cs_")) {
    try {
      purchase = await pb.send(`/api/checkout/${encodeURIComponent(returned)}`, { method: "GET" });
      if (purchase.enrollment) enrollment = purchase.enrollment;
    } catch {
      purchase = null;
    }
  }
  for (const r of reviews.items) upsertReview(r, { prepend: false });

  // --- enrollment panel
  const panel = h("section", { class: "enroll-panel card", "aria-labelledby": "enroll-h" });
  const progressId = nextId("progress");
  const renderPanel = () => {
    const items = [h("h2", { id: "enroll-h" }, "Enrollment"), h("p", { class: "price-big" }, fmt.price(course.price, course.currency))];
    if (!user) {
      items.push(h("a", { class: "button button-wide", href: `/login?next=${encodeURIComponent(location.pathname)}` }, "Sign in to enroll"));
    } else if (isInstructor) {
      items.push(h("p", null, "You teach this course."));
    } else if (enrolled()) {
      items.push(
        h("p", { class: "enrolled-note" }, enrollment.status === "completed" ? "You completed this course." : "You're enrolled."),
        h("label", { for: progressId }, "Your progress"),
        h("progress", { id: progressId, max: 100, value: enrollment.progress || 0 }, `${enrollment.progress || 0}%`),
        h("p", { class: "progress-text", dataset: { progress: "" } }, `${enrollment.progress || 0}% complete`),
      );
    } else if (paid) {
      items.push(...purchaseItems());
    } else {
      const button = h("button", { type: "button", class: "button button-wide", id: "enroll-button" }, enrollment ? "Re-enroll" : "Enroll");
      const error = h("p", { class: "form-error", role: "alert", hidden: true });
      button.addEventListener("click", async () => {
        button.disabled = true;
        error.hidden = true;
        try {
          enrollment = enrollment
            ? await pb.collection("enrollments").update(enrollment.id, { status: "active" })
            : await pb.collection("enrollments").create({ course: course.id });
          announce("You're enrolled. All lessons are open.");
          await ctx.refresh("#enroll-h");
        } catch (err) {
          error.textContent = fmt.errorMessage(err);
          error.hidden = false;
          button.disabled = false;
        }
      });
      items.push(button, error);
    }
    items.push(h("p", { class: "students" }, h("span", { dataset: { courseEnrollments: course.id } }, fmt.plural(Number(course.enrollmentsCount) || 0, "student")), " enrolled"));
    panel.replaceChildren(...items);
  };
  renderPanel();

  // --- buying a paid course (Stripe Checkout), and the return from it
  function purchaseItems() {
    const items = [];
    if (purchase?.status === "pending") {
      items.push(h("p", { class: "purchase-status", role: "status", dataset: { orderStatus: "pending" } }, "Confirming your payment…"));
      return items;
    }
    if (purchase && purchase.status !== "paid") {
      const words = { failed: "Your payment failed.", expired: "Your checkout expired.", refunded: "This purchase was refunded." };
      items.push(h("p", { class: "purchase-status", role: "status", dataset: { orderStatus: purchase.status } }, words[purchase.status] || ""));
    } else if (returned === "cancelled") {
      items.push(h("p", { class: "purchase-status", role: "status" }, "Checkout cancelled: you were not charged."));
    }
    const button = h("button", { type: "button", class: "button button-wide", id: "buy-button" }, `Buy for ${fmt.price(course.price, course.currency)}`);
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    button.addEventListener("click", async () => {
      button.disabled = true;
      error.hidden = true;
      try {
        const { url } = await pb.send(`/api/courses/${encodeURIComponent(course.id)}/checkout`, { method: "POST" });
        location.assign(url); // Stripe's page; it sends the buyer back with ?checkout=<session id>
      } catch (err) {
        error.textContent = fmt.errorMessage(err);
        error.hidden = false;
        button.disabled = false;
      }
    });
    items.push(button, error);
    return items;
  }
  if (purchase?.status === "pending") {
    // the success page never waits long: the server asks Stripe on each poll,
    // and the webhook may land meanwhile
    let tries = 0;
    const timer = setInterval(async () => {
      if (!ctx.isCurrent() || ++tries > 60) return clearInterval(timer);
      try {
        const next = await pb.send(`/api/checkout/${encodeURIComponent(returned)}`, { method: "GET" });
        if (next.status === "pending") return;
        clearInterval(timer);
        announce(next.status === "paid" ? "Payment received. All lessons are open." : "The purchase did not complete.");
        await ctx.refresh("#enroll-h");
      } catch {
        // a network blip: the next poll tries again
      }
    }, 1000);
    ctx.onCleanup(() => clearInterval(timer));
  }
  if (purchase?.status === "paid") {
    panel.prepend(h("p", { class: "purchase-status", role: "status", dataset: { orderStatus: "paid" } }, "Payment received. Thank you!"));
  }

  // --- lessons: the syllabus in order, each lesson the visitor may open in full
  const byPosition = new Map(lessons.map((l) => [l.position, l]));
  const outline = syllabus.length ? syllabus.map((item) => byPosition.get(item.position) || item) : lessons;
  function lockedItem(item) {
    return h("li", { class: "lesson locked", dataset: { locked: "true" } },
      h("div", { class: "lesson-head" },
        h("span", { class: "lesson-pos", "aria-hidden": "true" }, String(item.position)),
        h("h3", { class: "lesson-title" }, item.title),
        h("span", { class: "badge badge-locked" }, "Locked"),
        item.durationMinutes ? h("span", { class: "muted" }, `${item.durationMinutes} min`) : null));
  }
  const lessonsSection = h("section", { class: "lessons-section", "aria-labelledby": "lessons-h" },
    h("h2", { id: "lessons-h" }, "Lessons"),
    outline.length
      ? h("ol", { class: "lessons", role: "list" }, outline.map((l) => (l.id ? lessonItem(l) : lockedItem(l))))
      : null,
    !enrolled() && !isInstructor
      ? h("p", { class: "locked-note" }, icon("lock"), " ",
        paid
          ? (lessons.length ? "The other lessons unlock when you buy the course." : "The lessons unlock when you buy the course.")
          : (lessons.length ? "The other lessons unlock when you enroll." : "The lessons unlock when you enroll."))
      : lessons.length ? null : h("p", { class: "empty" }, "No lessons yet."));

  function lessonItem(lesson) {
    const open = enrolled() || isInstructor || lesson.freePreview;
    const titleId = nextId("lesson");
    const done = !!enrollment?.completedLessons?.includes(lesson.id);
    const li = h("li", { class: `lesson${open ? "" : " locked"}`, dataset: { lessonId: lesson.id } },
      h("div", { class: "lesson-head" },
        h("span", { class: "lesson-pos", "aria-hidden": "true" }, String(lesson.position)),
        h("h3", { id: titleId, class: "lesson-title" }, lesson.title),
        lesson.freePreview ? h("span", { class: "badge" }, "Free preview") : null,
        lesson.durationMinutes ? h("span", { class: "muted" }, `${lesson.durationMinutes} min`) : null));
    if (open && (lesson.body || lesson.videoUrl)) {
      li.append(h("details", { class: "lesson-body" },
        h("summary", null, "Open lesson", h("span", { class: "sr-only" }, `: ${lesson.title}`)),
        serverHTML(lesson.body),
        lesson.videoUrl ? h("p", null, h("a", { href: lesson.videoUrl, rel: "noopener noreferrer" }, "Watch the video")) : null));
    }
    if (enrolled()) {
      const id = nextId("done");
      const box = h("input", { type: "checkbox", id, checked: done });
      box.addEventListener("change", async () => {
        box.disabled = true;
        try {
          enrollment = await pb.collection("enrollments").update(enrollment.id, {
            [box.checked ? "completedLessons+" : "completedLessons-"]: lesson.id,
          });
          const pct = enrollment.progress || 0;
          panel.querySelector("progress")?.setAttribute("value", String(pct));
          const text = panel.querySelector("[data-progress]");
          if (text) text.textContent = `${pct}% complete`;
          announce(`Progress ${pct}%.`);
        } catch (err) {
          box.checked = !box.checked;
          announce(fmt.errorMessage(err));
        } finally {
          box.disabled = false;
        }
      });
      li.append(h("div", { class: "lesson-done" }, box, h("label", { for: id }, "Completed")));
    }
    return li;
  }

  // --- reviews
  const canReview = enrolled() && !myReviews?.items.length;
  const reviewsSection = h("section", { class: "reviews-section", "aria-labelledby": "reviews-h" },
    h("div", { class: "section-head" },
      h("h2", { id: "reviews-h" }, "Reviews"),
      ratingBadge(course),
      subs ? h("span", { class: "live-dot" }, "Live") : null),
    canReview ? reviewForm() : null,
    reviews.items.length ? null : h("p", { class: "empty reviews-empty" }, "No reviews yet."),
    reviewsList);

  function reviewForm() {
    const groupName = nextId("rating");
    const form = h("form", { class: "review-form card", novalidate: true, "aria-labelledby": "review-form-h" },
      h("h3", { id: "review-form-h" }, "Review this course"),
      h("fieldset", { class: "rating-input", dataset: { field: "rating" } },
        h("legend", null, "Your rating"),
        [5, 4, 3, 2, 1].map((n) => {
          const id = `${groupName}-${n}`;
          return h("span", { class: "rating-option" },
            h("input", { type: "radio", name: "rating", id, value: n, required: true }),
            h("label", { for: id }, h("span", { "aria-hidden": "true" }, "★".repeat(n) + " "), `${n} – ${RATING_WORDS[n]}`));
        }),
        h("p", { class: "field-error", hidden: true })),
      field({ label: "Your review (optional)", name: "body", type: "textarea", rows: 3, maxlength: 2000 }),
      formError(),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button" }, "Post review")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      const data = new FormData(form);
      const rating = Number(data.get("rating"));
      if (!rating) {
        showErrors(form, { response: { data: { rating: { message: "Choose a rating from 1 to 5." } } } });
        form.querySelector('input[name="rating"]').focus();
        return;
      }
      await busy(form, async () => {
        try {
          const created = await pb.collection("reviews").create({ course: course.id, rating, body: String(data.get("body") || "").trim() }, { expand: "user" });
          upsertReview(created);
          const thanks = h("p", { class: "note", tabindex: "-1" }, "Thanks for your review!");
          form.replaceWith(thanks);
          thanks.focus();
        } catch (err) {
          showErrors(form, err);
        }
      });
    });
    return form;
  }

  const instructor = course.expand?.instructor;
  const topics = course.expand?.topics || [];
  root = h("article", { class: "course", "aria-labelledby": "course-title", dataset: { live: subs ? "ready" : "off", courseId: course.id } },
    h("header", { class: "course-head" },
      topics.length ? h("ul", { class: "tags", "aria-label": "Topics" }, topics.map((t) => h("li", null, t.name))) : null,
      h("h1", { id: "course-title" }, course.title),
      course.summary ? h("p", { class: "lede" }, course.summary) : null,
      instructor ? h("p", { class: "byline" }, "Taught by ", h("strong", null, instructor.name)) : null,
      h("dl", { class: "facts facts-row" },
        h("div", { class: "fact" }, h("dt", null, "Format"), h("dd", null, fmt.modeLabel(course.mode))),
        h("div", { class: "fact" }, h("dt", null, "Duration"), h("dd", null, fmt.duration(course.durationDays))),
        h("div", { class: "fact" }, h("dt", null, "Level"), h("dd", null, fmt.levelLabel(course.level))),
        h("div", { class: "fact" }, h("dt", null, "Price"), h("dd", null, fmt.price(course.price, course.currency))),
        h("div", { class: "fact fact-rating" }, h("dt", null, "Rating"), ratingBadge(course, "dd", { live: true })))),
    h("div", { class: "course-layout" },
      h("div", { class: "course-main" },
        course.description ? h("section", { class: "about", "aria-labelledby": "about-h" }, h("h2", { id: "about-h" }, "About this course"), serverHTML(course.description)) : null,
        lessonsSection,
        reviewsSection),
      h("div", { class: "course-side" }, panel)));
  return root;
}

function reviewItem(r) {
  const rating = Math.max(0, Math.min(5, Number(r.rating) || 0));
  const byId = nextId("review-by");
  return h("li", { class: "review", dataset: { reviewId: r.id } },
    h("article", { "aria-labelledby": byId },
      h("header", { class: "review-head" },
        h("span", { class: "stars", "aria-hidden": "true" }, "★".repeat(rating) + "☆".repeat(5 - rating)),
        h("span", { class: "sr-only" }, `${rating} out of 5 stars`),
        " ",
        h("strong", { id: byId }, r.expand?.user?.name || "Former student"),
        " ",
        h("time", { datetime: fmt.isoDate(r.created), class: "muted" }, fmt.formatDate(r.created))),
      r.body ? h("p", { class: "review-body" }, r.body) : null));
}
