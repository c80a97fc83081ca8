// The course catalogue, and the course card + live rating shared with the home page.
import { pb } from "../pb.js";
import { h, nextId } from "../dom.js";
import * as fmt from "../format.js";

const PER_PAGE = 12;

export const COURSE_CARD_FIELDS =
  "id,collectionId,title,slug,summary,durationDays,mode,level,price,currency,ratingAvg,ratingCount,enrollmentsCount,updated,expand.instructor.name";

/** The "★ 4.7 (55)" element; data-course-rating lets live updates find it. */
export function ratingBadge(course, tag = "span", { live = false } = {}) {
  const el = h(tag, { class: "rating", dataset: { courseRating: course.id }, "aria-live": live ? "polite" : null });
  setRating(el, course);
  return el;
}

export function setRating(el, course) {
  const has = Number(course.ratingCount) > 0;
  el.classList.toggle("rating-none", !has);
  el.replaceChildren(
    h("span", { class: "star", "aria-hidden": "true" }, has ? "★" : "☆"),
    h("span", { class: "rating-text", "aria-hidden": "true" }, fmt.rating(course.ratingAvg, course.ratingCount)),
    h("span", { class: "sr-only" }, fmt.ratingLabel(course.ratingAvg, course.ratingCount)),
  );
  el.dataset.ratingAvg = String(course.ratingAvg ?? 0);
  el.dataset.ratingCount = String(course.ratingCount ?? 0);
}

/**
 * liveCourses subscribes to course updates (ratings, enrollment counts change when
 * someone reviews or enrolls) and applies them to every matching element under
 * root. It subscribes before the caller loads its data; events that arrive before
 * the cards exist are kept and applied by latest() when the cards are built.
 * Resolves to true once subscribed.
 */
export function liveCourses(ctx, getRoot) {
  const latest = new Map();
  const apply = (record) => {
    const root = getRoot();
    if (!root) return;
    for (const el of root.querySelectorAll(`[data-course-rating="${CSS.escape(record.id)}"]`)) setRating(el, record);
    for (const el of root.querySelectorAll(`[data-course-enrollments="${CSS.escape(record.id)}"]`)) {
      el.textContent = fmt.plural(Number(record.enrollmentsCount) || 0, "student");
    }
  };
  const ready = pb.collection("courses").subscribe("*", (e) => {
    if (e.action !== "update" && e.action !== "create") return;
    const prev = latest.get(e.record.id);
    if (!prev || String(prev.updated) <= String(e.record.updated)) latest.set(e.record.id, e.record);
    apply(e.record);
  }, { fields: "id,updated,ratingAvg,ratingCount,enrollmentsCount" })
    .then((unsubscribe) => {
      ctx.onCleanup(unsubscribe);
      return true;
    })
    .catch(() => false);
  return {
    /** resolves true once subscribed, false when realtime is unavailable (after at most 5 s) */
    ready: Promise.race([ready, new Promise((r) => setTimeout(() => r(false), 5000))]),
    /** merges a newer live state into a freshly loaded record */
    latest(record) {
      const live = latest.get(record.id);
      return live && String(live.updated) > String(record.updated) ? { ...record, ...live } : record;
    },
  };
}

/** A course as a catalogue card. */
export function courseCard(course, { headingLevel = 2, compact = false } = {}) {
  const hTag = `h${headingLevel}`;
  const titleId = nextId("course-title");
  const instructor = course.expand?.instructor?.name;
  return h("article", { class: `card course-card${compact ? " compact" : ""}`, "aria-labelledby": titleId, dataset: { courseId: course.id } },
    h(hTag, { class: "card-title", id: titleId }, h("a", { href: `/courses/${encodeURIComponent(course.slug)}` }, course.title)),
    !compact && course.summary ? h("p", { class: "summary" }, course.summary) : null,
    !compact && instructor ? h("p", { class: "byline" }, "with ", instructor) : null,
    h("dl", { class: "facts" },
      fact("Format", fmt.modeLabel(course.mode), "mode"),
      fact("Duration", fmt.duration(course.durationDays), "duration"),
      compact ? null : fact("Level", fmt.levelLabel(course.level), "level"),
      fact("Price", fmt.price(course.price, course.currency), "price"),
      h("div", { class: "fact fact-rating" }, h("dt", null, "Rating"), ratingBadge(course, "dd")),
    ),
  );
}

function fact(term, value, key) {
  return h("div", { class: `fact fact-${key}` }, h("dt", null, term), h("dd", null, value));
}

export async function coursesView(ctx) {
  ctx.setTitle("Courses");
  const mode = ctx.params.get("mode") || "";
  const level = ctx.params.get("level") || "";
  const page = Math.max(1, parseInt(ctx.params.get("page") || "1", 10) || 1);
  let filter = 'status = "published"';
  if (fmt.MODE_LABELS[mode]) filter += ` && mode = "${mode}"`;
  if (fmt.LEVEL_LABELS[level]) filter += ` && level = "${level}"`;

  let section = null;
  const live = liveCourses(ctx, () => section);
  const isLive = await live.ready;
  const list = await pb.collection("courses").getList(page, PER_PAGE, {
    filter,
    sort: "-ratingAvg,-ratingCount,-publishedAt",
    expand: "instructor",
    fields: COURSE_CARD_FIELDS,
  });

  const select = (name, label, options, current) => {
    const id = nextId(name);
    return h("div", { class: "field inline" },
      h("label", { for: id }, label),
      h("select", { id, name, value: current },
        h("option", { value: "" }, "Any"),
        Object.entries(options).map(([v, text]) => h("option", { value: v, selected: v === current }, text))));
  };

  const cards = list.items.map((c) => h("li", null, courseCard(live.latest(c))));
  section = h("section", { class: "courses-page", "aria-labelledby": "courses-h", dataset: { live: isLive ? "ready" : "off" } },
    h("div", { class: "page-head" },
      h("h1", { id: "courses-h" }, "Courses"),
      h("p", { class: "lede" }, "Learn with instructors online, on-site or both. Ratings update live as students review.")),
    h("form", { class: "filters", action: "/courses", method: "get", "data-route": "", role: "search", "aria-label": "Filter courses" },
      select("mode", "Format", fmt.MODE_LABELS, mode),
      select("level", "Level", fmt.LEVEL_LABELS, level),
      h("button", { type: "submit", class: "button" }, "Apply")),
    h("p", { class: "result-count", role: "status" }, fmt.plural(list.totalItems, "course")),
    cards.length
      ? h("ul", { class: "card-grid", role: "list" }, cards)
      : h("p", { class: "empty" }, "No courses match these filters yet."),
    pager(list, (p) => {
      const q = new URLSearchParams(ctx.params);
      if (p === 1) q.delete("page");
      else q.set("page", String(p));
      const s = q.toString();
      return `/courses${s ? `?${s}` : ""}`;
    }),
  );
  return section;
}

/** Previous/next paging links for a list result; null when there is one page. */
export function pager(list, hrefFor) {
  // past the last page the view explains itself; "Page 99 of 17" would not
  if (list.totalPages <= 1 || list.page > list.totalPages) return null;
  const { page, totalPages } = list;
  return h("nav", { class: "pager", "aria-label": "Pagination" },
    page > 1 ? h("a", { href: hrefFor(page - 1), rel: "prev", class: "button button-quiet" }, "← Previous") : h("span", { class: "button button-quiet", "aria-disabled": "true" }, "← Previous"),
    h("span", { class: "pager-status" }, `Page ${page} of ${totalPages}`),
    page < totalPages ? h("a", { href: hrefFor(page + 1), rel: "next", class: "button button-quiet" }, "Next →") : h("span", { class: "button button-quiet", "aria-disabled": "true" }, "Next →"));
}
