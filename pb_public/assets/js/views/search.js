// The search page: GET /api/search with the facets as filter links, the
// server's highlighted snippets, "Did you mean …" and paging. Every parameter
// lives in the URL (/search?q=…&type=courses&level=beginner&page=2), so a
// result page is a link like any other.
import { pb } from "../pb.js";
import { h, nextId, announce } from "../dom.js";
import * as fmt from "../format.js";
import { pager } from "./courses.js";

const PER_PAGE = 10;
const TYPE_LABELS = { posts: "Posts", courses: "Courses", lessons: "Lessons" };
const ONE = { posts: "post", courses: "course", lessons: "lesson" };
const RATING_STEPS = ["4.5", "4", "3"];
// the parameters the page passes on to the API, as the URL spells them
const PARAMS = ["q", "type", "mode", "level", "minRating", "page"];

/**
 * snippetNodes turns a snippet from /api/search into DOM nodes without ever
 * parsing it as HTML. The server sends HTML-escaped text whose only tags are
 * <mark> and </mark> around matched words; those two are turned into <mark>
 * elements and everything else becomes text: an entity is decoded to the
 * character it stands for, and anything that looks like any other tag stays
 * literal text. A record's own HTML can therefore never reach the page from
 * a snippet, whatever its title or body holds.
 */
export function snippetNodes(snippet) {
  const out = [];
  let marked = false;
  for (const part of String(snippet || "").split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) out.push(marked ? h("mark", null, decodeEntities(part)) : decodeEntities(part));
  }
  return out;
}

const NAMED = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** Decodes the entities HTML escaping produces (&amp; &lt; &#39; &#x27; …) into text. */
export function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, ent) => {
    if (ent[0] === "#") {
      const code = ent[1] === "x" || ent[1] === "X" ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : all;
    }
    return NAMED[ent.toLowerCase()] ?? all;
  });
}

export async function searchView(ctx) {
  const q = (ctx.params.get("q") || "").trim();
  const header = document.getElementById("header-q");
  if (header) header.value = q;
  ctx.setTitle(q ? `Search: ${q}` : "Search");

  const href = (changes) => {
    const p = new URLSearchParams();
    for (const k of PARAMS) {
      const v = k in changes ? changes[k] : ctx.params.get(k);
      if (v) p.set(k, String(v));
    }
    if (!("page" in changes)) p.delete("page"); // a new filter starts at page 1
    const s = p.toString();
    return `/search${s ? `?${s}` : ""}`;
  };

  const inputId = nextId("search-q");
  const form = h("form", { class: "search-form", action: "/search", method: "get", "data-route": "", role: "search", "aria-label": "New search" },
    h("label", { for: inputId, class: "sr-only" }, "Search posts, courses and lessons"),
    h("input", { id: inputId, type: "search", name: "q", value: q, placeholder: "Search posts, courses and lessons", autocomplete: "off", enterkeyhint: "search" }),
    // the filters stay when the words change
    ["type", "mode", "level", "minRating"].map((k) => (ctx.params.get(k) ? h("input", { type: "hidden", name: k, value: ctx.params.get(k) }) : null)),
    h("button", { type: "submit", class: "button" }, "Search"));

  const head = h("div", { class: "page-head" }, h("h1", { id: "search-h" }, q ? h("span", null, "Results for ", h("q", null, q)) : "Search"));
  if (!q) {
    return h("section", { class: "search-page", "aria-labelledby": "search-h" }, head, form,
      h("p", { class: "empty" }, "Search posts, courses and lessons. Typos are forgiven: try “kubernetes” or “kuberntes”."));
  }

  const query = { q, perPage: PER_PAGE, expand: "author,instructor,course" };
  for (const k of ["type", "mode", "level", "minRating", "page"]) {
    if (ctx.params.get(k)) query[k] = ctx.params.get(k);
  }
  let res;
  try {
    res = await pb.send("/api/search", { query });
  } catch (err) {
    if (err?.status !== 400) throw err;
    const problems = Object.entries(fmt.fieldErrors(err)).map(([field, msg]) => `${field}: ${msg}`);
    return h("section", { class: "search-page", "aria-labelledby": "search-h" }, head, form,
      h("p", { class: "form-error", role: "alert" }, "This search can't be run. ", problems.join(" ")));
  }

  const total = res.approximate ? `${res.totalItems.toLocaleString("en")}+` : String(res.totalItems);
  const count = `${total} ${res.totalItems === 1 ? "result" : "results"}`;
  announce(count);
  const correction = res.correctedQuery
    ? h("p", { class: "did-you-mean" }, "No results for ", h("q", null, q), ". Did you mean ",
        h("a", { href: href({ q: res.correctedQuery }), class: "corrected" }, res.correctedQuery), "? Showing its results.")
    : null;

  const page = res.page;
  return h("section", { class: "search-page", "aria-labelledby": "search-h" },
    head, form,
    h("div", { class: "search-layout" },
      facets(res, ctx, href),
      h("div", { class: "search-results" },
        correction,
        h("h2", { class: "sr-only" }, "Results"),
        h("p", { class: "result-count", role: "status" }, count),
        res.items.length
          ? h("ol", { class: "hit-list", role: "list", start: (page - 1) * res.perPage + 1 }, res.items.map((hit) => h("li", null, hitCard(hit))))
          : res.totalItems > 0
            ? h("p", { class: "empty" }, `There is no page ${page}. `, h("a", { href: href({ page: "" }) }, "Go to the first page"), ".")
            : h("p", { class: "empty" }, "Nothing found. Check the spelling, use fewer words, or remove a filter."),
        pager(res, (p) => href({ page: p > 1 ? String(p) : "" })))));
}

/** The facets as filter links, each with its count; the current value is marked. */
function facets(res, ctx, href) {
  const group = (key, title, values, labelFor, { any = "All" } = {}) => {
    const current = ctx.params.get(key) || "";
    const id = nextId("facet");
    return h("div", { class: "facet" },
      h("h2", { class: "facet-title", id }, title),
      h("ul", { class: "facet-list", role: "list", "aria-labelledby": id },
        h("li", null, h("a", { href: href({ [key]: "" }), class: "chip", "aria-current": current === "" ? "true" : null }, any)),
        values.map((v) => h("li", null,
          h("a", { href: href({ [key]: v }), class: "chip", "aria-current": current === v ? "true" : null, dataset: { facet: key, value: v } },
            labelFor(v), " ", h("span", { class: "facet-count" }, `(${res.facets[key]?.[v] ?? 0})`))))));
  };
  const type = ctx.params.get("type") || "";
  const courseFacets = type === "courses" || ["mode", "level", "minRating"].some((k) => ctx.params.get(k));
  return h("nav", { class: "facets", "aria-label": "Filter results" },
    group("type", "Type", Object.keys(TYPE_LABELS), (v) => TYPE_LABELS[v]),
    courseFacets ? group("level", "Level", Object.keys(fmt.LEVEL_LABELS), (v) => fmt.LEVEL_LABELS[v], { any: "Any level" }) : null,
    courseFacets ? group("mode", "Format", Object.keys(fmt.MODE_LABELS), (v) => fmt.MODE_LABELS[v], { any: "Any format" }) : null,
    courseFacets ? group("minRating", "Rating", RATING_STEPS, (v) => `${v}★ & up`, { any: "Any rating" }) : null);
}

/** One result: its type, a link to it, the highlighted snippet and a few facts. */
function hitCard(hit) {
  const r = hit.record || {};
  const titleId = nextId("hit-title");
  let link = "/";
  const facts = [];
  if (hit.type === "posts") {
    link = `/posts/${encodeURIComponent(r.slug)}`;
    if (r.expand?.author?.name) facts.push(`By ${r.expand.author.name}`);
    if (r.publishedAt) facts.push(h("time", { datetime: fmt.isoDate(r.publishedAt) }, fmt.formatDate(r.publishedAt)));
    facts.push(fmt.readingTime(r.readingMinutes));
  } else if (hit.type === "courses") {
    link = `/courses/${encodeURIComponent(r.slug)}`;
    facts.push(fmt.levelLabel(r.level), fmt.modeLabel(r.mode), fmt.price(r.price, r.currency), fmt.rating(r.ratingAvg, r.ratingCount));
  } else if (hit.type === "lessons") {
    const course = r.expand?.course;
    link = course?.slug ? `/courses/${encodeURIComponent(course.slug)}` : "/courses";
    facts.push(course?.title ? `Lesson ${r.position} of ${course.title}` : `Lesson ${r.position}`);
    if (r.freePreview) facts.push("Free preview");
  }
  return h("article", { class: "card hit", "aria-labelledby": titleId, dataset: { hitType: hit.type, hitId: hit.id } },
    h("p", { class: "hit-type" }, h("span", { class: "badge" }, ONE[hit.type] || hit.type)),
    h("h3", { class: "card-title", id: titleId }, h("a", { href: link }, r.title || "(untitled)")),
    hit.snippet ? h("p", { class: "snippet" }, snippetNodes(hit.snippet)) : null,
    facts.length ? h("p", { class: "meta" }, facts.map((f) => h("span", null, f))) : null);
}
