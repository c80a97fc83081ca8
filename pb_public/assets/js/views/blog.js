// The blog: published posts, newest first, filtered by topic, paged; and a few
// popular courses beside them.
import { pb } from "../pb.js";
import { h, nextId } from "../dom.js";
import * as fmt from "../format.js";
import { courseCard, liveCourses, pager, COURSE_CARD_FIELDS } from "./courses.js";

const PER_PAGE = 10;
const POST_FIELDS =
  "id,collectionId,collectionName,cover,title,slug,excerpt,publishedAt,readingMinutes,commentsCount,expand.author.name,expand.topics.name,expand.topics.slug";

export async function blogView(ctx) {
  const topicSlug = ctx.params.get("topic") || "";
  const page = Math.max(1, parseInt(ctx.params.get("page") || "1", 10) || 1);
  const filter = topicSlug
    ? pb.filter('status = "published" && topics.slug ?= {:topic}', { topic: topicSlug })
    : 'status = "published"';

  let root = null;
  const live = liveCourses(ctx, () => root);
  const [topics, posts, courses, isLive] = await Promise.all([
    pb.collection("topics").getFullList({ sort: "name", fields: "id,name,slug" }),
    pb.collection("posts").getList(page, PER_PAGE, {
      filter,
      sort: "-publishedAt,-created",
      expand: "author,topics",
      fields: POST_FIELDS,
    }),
    pb.collection("courses").getList(1, 3, {
      filter: 'status = "published"',
      sort: "-ratingAvg,-ratingCount,-publishedAt",
      fields: COURSE_CARD_FIELDS,
      skipTotal: true,
    }),
    live.ready,
  ]);
  const topic = topics.find((t) => t.slug === topicSlug);
  ctx.setTitle(topic ? `${topic.name} — Blog` : "");

  const hrefFor = (p) => {
    const q = new URLSearchParams();
    if (topicSlug) q.set("topic", topicSlug);
    if (p > 1) q.set("page", String(p));
    const s = q.toString();
    return `/${s ? `?${s}` : ""}`;
  };

  root = h("div", { class: "layout-home", dataset: { live: isLive ? "ready" : "off" } },
    h("section", { class: "blog", "aria-labelledby": "blog-h" },
      h("div", { class: "page-head" },
        h("h1", { id: "blog-h" }, topic ? `Posts about ${topic.name}` : "The Lectern blog"),
        h("p", { class: "lede" }, "Notes, tutorials and deep dives from our authors and instructors.")),
      topics.length ? topicNav(topics, topicSlug) : null,
      posts.items.length
        ? h("ol", { class: "post-list", role: "list" }, posts.items.map((p) => h("li", null, postCard(p))))
        : posts.totalItems > 0
          // past the last page (an old link, a hand-typed ?page=): say so, and where the posts are
          ? h("p", { class: "empty" }, `There is no page ${page}: the posts end on page ${posts.totalPages}. `,
              h("a", { href: hrefFor(posts.totalPages) }, "Go to the last page"), " or ",
              h("a", { href: hrefFor(1) }, "the first"), ".")
          : h("p", { class: "empty" }, topicSlug ? "No posts on this topic yet." : "No posts yet."),
      pager(posts, hrefFor)),
    h("aside", { class: "sidebar", "aria-labelledby": "popular-h" },
      h("h2", { id: "popular-h" }, "Popular courses"),
      courses.items.length
        ? h("ul", { class: "side-courses", role: "list" }, courses.items.map((c) => h("li", null, courseCard(live.latest(c), { headingLevel: 3, compact: true }))))
        : h("p", { class: "empty" }, "No courses yet."),
      h("p", null, h("a", { href: "/courses", class: "more" }, "All courses →"))),
  );
  return root;
}

function topicNav(topics, current) {
  const link = (slug, text) => h("li", null,
    h("a", { href: slug ? `/?topic=${encodeURIComponent(slug)}` : "/", class: "chip", "aria-current": slug === current ? "page" : null }, text));
  return h("nav", { class: "topics", "aria-label": "Topics" },
    h("ul", { role: "list" }, link("", "All topics"), topics.map((t) => link(t.slug, t.name))));
}

function postCard(post) {
  const titleId = nextId("post-title");
  const author = post.expand?.author?.name;
  const topics = post.expand?.topics || [];
  const cover = post.cover
    // decorative here: the title next to it says what the post is
    ? h("img", { class: "card-cover", src: pb.files.getURL(post, post.cover, { thumb: "640x360" }), alt: "", width: 640, height: 360, loading: "lazy" })
    : null;
  return h("article", { class: `card post-card${cover ? " has-cover" : ""}`, "aria-labelledby": titleId, dataset: { postId: post.id } },
    h("div", { class: "post-card-text" },
      h("h2", { class: "card-title", id: titleId }, h("a", { href: `/posts/${encodeURIComponent(post.slug)}` }, post.title)),
      h("p", { class: "meta" },
        author ? h("span", { class: "author" }, "By ", author) : null,
        post.publishedAt ? h("time", { datetime: fmt.isoDate(post.publishedAt) }, fmt.formatDate(post.publishedAt)) : null,
        h("span", { class: "reading" }, fmt.readingTime(post.readingMinutes)),
        h("span", { class: "comments-count" }, fmt.plural(Number(post.commentsCount) || 0, "comment"))),
      post.excerpt ? h("p", { class: "excerpt" }, post.excerpt) : null,
      topics.length
        ? h("ul", { class: "tags", "aria-label": "Topics" }, topics.map((t) => h("li", null, h("a", { href: `/?topic=${encodeURIComponent(t.slug)}` }, t.name))))
        : null),
    cover,
  );
}
