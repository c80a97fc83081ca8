// A post: its sanitized body, and threaded comments that arrive live.
// Comment bodies are plain text (DATA_MODEL.md) and are only ever set with
// textContent, never parsed as HTML.
import { pb, currentUser } from "../pb.js";
import { h, append, nextId, serverHTML, announce } from "../dom.js";
import * as fmt from "../format.js";
import { field, formError, showErrors, clearErrors, busy } from "../forms.js";
import { notFound } from "../pages.js";

const MAX_DEPTH = 3; // a reply deeper than 3 ancestors is refused by the server

export async function postView(ctx) {
  const slug = ctx.match[1];
  const found = await pb.collection("posts").getList(1, 1, {
    filter: pb.filter("slug = {:slug}", { slug }),
    expand: "author,topics",
    skipTotal: true,
  });
  const post = found.items[0];
  if (!post) return notFound(ctx, "Post");
  ctx.setTitle(post.title);

  const user = currentUser();
  const thread = new Thread(post, user);

  // Subscribe first, then load: nothing created in between is missed, and the
  // thread ignores a record it already has.
  const subscribed = await Promise.race([
    pb.collection("comments").subscribe("*", (e) => thread.onEvent(e), {
      filter: pb.filter("post = {:post}", { post: post.id }),
      expand: "author",
    }).then((unsubscribe) => {
      ctx.onCleanup(unsubscribe);
      return true;
    }).catch(() => false),
    new Promise((r) => setTimeout(() => r(false), 5000)),
  ]);
  // The post itself: a delete means it left our view (taken back to draft,
  // or removed); its commentsCount is the server's count of visible comments,
  // a check on the thread's own.
  pb.collection("posts").subscribe(post.id, (e) => {
    if (e.action === "delete") thread.close();
    else thread.checkCount(e.record.commentsCount);
  }, { fields: "id,commentsCount" }).then((unsubscribe) => ctx.onCleanup(unsubscribe)).catch(() => {});
  ctx.onCleanup(() => clearTimeout(thread.countCheck));

  thread.load(await thread.fetch());

  const author = post.expand?.author;
  const topics = post.expand?.topics || [];
  return h("article", { class: "post", "aria-labelledby": "post-title" },
    h("header", { class: "post-head" },
      topics.length
        ? h("ul", { class: "tags", "aria-label": "Topics" }, topics.map((t) => h("li", null, h("a", { href: `/?topic=${encodeURIComponent(t.slug)}` }, t.name))))
        : null,
      h("h1", { id: "post-title" }, post.title),
      h("p", { class: "meta" },
        author ? h("span", { class: "author" }, "By ", author.name) : null,
        post.publishedAt ? h("time", { datetime: fmt.isoDate(post.publishedAt) }, fmt.formatDate(post.publishedAt)) : null,
        h("span", null, fmt.readingTime(post.readingMinutes)),
        post.status !== "published" ? h("span", { class: "badge" }, post.status) : null)),
    post.cover
      ? h("img", { class: "cover", src: pb.files.getURL(post, post.cover, { thumb: "1280x720" }), alt: `Cover image of “${post.title}”`, width: 1280, height: 720 })
      : null,
    serverHTML(post.body, "prose post-body"),
    author?.bio ? h("aside", { class: "author-box", "aria-label": "About the author" }, h("p", null, h("strong", null, author.name), " — ", author.bio)) : null,
    thread.render(subscribed),
  );
}

class Thread {
  constructor(post, user) {
    this.post = post;
    this.user = user;
    this.nodes = new Map(); // comment id -> {record, li, replies}
    // the list is the live region: a comment added to it is read out (author, time, text)
    this.list = h("ol", { class: "comments", role: "list", id: "comments-list", "aria-live": "polite", "aria-relevant": "additions" });
    this.heading = h("h2", { id: "comments-h" });
    this.setCount(Number(post.commentsCount) || 0);
    this.pending = [];
    this.loaded = false;
    this.notice = h("p", { class: "note", role: "status", hidden: true }, "This post is no longer published.");
  }

  setCount(n) {
    this.count = n;
    this.heading.textContent = `Comments (${n})`;
  }

  /** The heading counts the visible comments the page shows (a moderator also sees hidden ones, badged). */
  recount() {
    let n = 0;
    for (const node of this.nodes.values()) if ((node.record.status || "visible") === "visible") n += 1;
    this.setCount(n);
  }

  /**
   * The server's count disagreeing with ours for a while (a missed event,
   * a reconnect) makes the page reload the thread. Not at once: the post's
   * new count and the comment event of one write arrive in either order.
   */
  checkCount(serverCount) {
    clearTimeout(this.countCheck);
    this.countCheck = setTimeout(() => {
      if (Number(serverCount) !== this.count) this.reconcile().catch(() => {});
    }, 1500);
  }

  /** The post left our view: say so and stop offering to comment. */
  close() {
    this.notice.hidden = false;
    for (const form of document.querySelectorAll(".new-comment, .comment-actions")) form.remove();
    announce("This post is no longer published.");
  }

  fetch() {
    return pb.collection("comments").getFullList({
      filter: pb.filter("post = {:post}", { post: this.post.id }),
      sort: "created",
      expand: "author",
      batch: 200,
    });
  }

  /** Drops the comments the server no longer shows us; their replies move up a level. */
  async reconcile() {
    const records = await this.fetch();
    const keep = new Set(records.map((r) => r.id));
    for (const id of [...this.nodes.keys()]) if (!keep.has(id)) this.remove(id);
    for (const r of records) this.upsert(r, { quiet: true });
  }

  load(records) {
    for (const r of records) this.upsert(r, { quiet: true });
    this.loaded = true;
    for (const e of this.pending.splice(0)) this.onEvent(e);
    this.recount();
  }

  onEvent(e) {
    if (!this.loaded) {
      this.pending.push(e);
      return;
    }
    // A delete is a comment deleted, or one that left our view (hidden or
    // flagged by a moderator: the server sends it as we last saw it). An
    // update for a comment we do not have is one that came into view.
    if (e.action === "delete") {
      this.remove(e.record.id);
    } else {
      this.upsert(e.record, { quiet: e.action !== "create" });
    }
  }

  upsert(record, { quiet = false } = {}) {
    const existing = this.nodes.get(record.id);
    if (existing) {
      if (String(existing.record.updated) > String(record.updated)) return;
      existing.record = { ...record, expand: record.expand || existing.record.expand };
      this.fill(existing);
      if (this.loaded) this.recount();
      return;
    }
    const node = this.build(record);
    this.nodes.set(record.id, node);
    const parent = record.parent ? this.nodes.get(record.parent) : null;
    (parent ? parent.replies : this.list).append(node.li);
    this.empty?.remove();
    if (!quiet) node.li.classList.add("is-new");
    if (this.loaded) this.recount();
  }

  /** Takes a comment off the page; its replies stay, a level up (they are still visible, or get their own delete). */
  remove(id) {
    const node = this.nodes.get(id);
    if (!node) return;
    for (const child of [...node.replies.children]) node.li.before(child);
    node.li.remove();
    this.nodes.delete(id);
    if (this.loaded) this.recount();
  }

  depthOf(record) {
    let depth = 0;
    let parent = record.parent;
    while (parent && depth <= MAX_DEPTH) {
      depth += 1;
      parent = this.nodes.get(parent)?.record.parent;
    }
    return depth;
  }

  build(record) {
    const id = record.id;
    const node = {
      record,
      li: h("li", { class: "comment", id: `comment-${id}`, dataset: { commentId: id } }),
      author: h("span", { class: "comment-author" }),
      time: h("time", { class: "comment-time" }),
      flags: h("span", { class: "comment-flags" }),
      body: h("p", { class: "comment-body" }),
      replies: h("ol", { class: "replies", role: "list" }),
    };
    const headerId = nextId("comment-by");
    node.author.id = headerId;
    const article = h("article", { class: "comment-card", "aria-labelledby": headerId },
      h("header", { class: "comment-head" }, node.author, " ", node.time, " ", node.flags),
      node.body);
    if (this.user && this.post.status === "published" && this.depthOf(record) < MAX_DEPTH) {
      article.append(this.replyControls(record));
    }
    node.li.append(article, node.replies);
    this.fill(node);
    return node;
  }

  /** Puts a record's values into its elements, as text. */
  fill(node) {
    const r = node.record;
    node.author.textContent = r.expand?.author?.name || "Former member";
    node.time.textContent = fmt.formatDateTime(r.created);
    node.time.setAttribute("datetime", fmt.isoDate(r.created));
    node.body.textContent = r.body; // plain text, never HTML
    node.flags.replaceChildren();
    append(node.flags, [
      r.edited ? h("span", { class: "badge badge-quiet" }, "edited") : null,
      r.status && r.status !== "visible" ? h("span", { class: "badge badge-warn" }, r.status === "hidden" ? "hidden by a moderator" : r.status) : null,
    ]);
    node.li.dataset.status = r.status || "visible";
  }

  replyControls(record) {
    const formId = nextId("reply-form");
    const toggle = h("button", { type: "button", class: "button button-small button-quiet", "aria-expanded": "false", "aria-controls": formId }, "Reply");
    const form = this.commentForm({ parent: record, id: formId });
    form.hidden = true;
    toggle.addEventListener("click", () => {
      const open = form.hidden;
      form.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open) form.querySelector("textarea").focus();
    });
    form.addEventListener("reset", () => {
      form.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    });
    return h("div", { class: "comment-actions" }, toggle, form);
  }

  commentForm({ parent = null, id = nextId("comment-form") } = {}) {
    const replyTo = parent?.expand?.author?.name;
    const form = h("form", { class: "comment-form", id, novalidate: true, "aria-label": parent ? `Reply to ${replyTo || "comment"}` : "Write a comment" },
      field({ label: parent ? `Your reply${replyTo ? ` to ${replyTo}` : ""}` : "Your comment", name: "body", type: "textarea", rows: parent ? 3 : 4, maxlength: 5000, required: true }),
      formError(),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "button" }, parent ? "Post reply" : "Post comment"),
        parent ? h("button", { type: "reset", class: "button button-quiet" }, "Cancel") : null));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const textarea = form.querySelector("textarea");
      const body = textarea.value.trim();
      if (!body) {
        showErrors(form, { response: { data: { body: { message: "Write something first." } } } });
        return;
      }
      clearErrors(form);
      await busy(form, async () => {
        try {
          const created = await pb.collection("comments").create(
            { post: this.post.id, body, ...(parent ? { parent: parent.id } : {}) },
            { expand: "author" });
          this.upsert(created, { quiet: true });
          textarea.value = "";
          announce(parent ? "Reply posted." : "Comment posted.");
          if (parent) form.reset();
          document.getElementById(`comment-${created.id}`)?.classList.add("is-new");
        } catch (err) {
          showErrors(form, err);
        }
      });
    });
    return form;
  }

  render(live) {
    this.empty = this.nodes.size ? null : h("p", { class: "empty" }, "No comments yet. Start the conversation.");
    const here = location.pathname;
    return h("section", { class: "comments-section", "aria-labelledby": "comments-h", dataset: { live: live ? "ready" : "off" } },
      this.notice,
      h("div", { class: "section-head" },
        this.heading,
        live ? h("span", { class: "live-dot" }, "Live") : null),
      this.empty,
      this.list,
      this.post.status !== "published"
        ? h("p", { class: "note" }, "Comments open when the post is published.")
        : this.user
          ? h("div", { class: "new-comment" }, h("h3", null, "Join the discussion"), this.commentForm())
          : h("p", { class: "note" }, h("a", { href: `/login?next=${encodeURIComponent(here)}` }, "Sign in"), " or ",
            h("a", { href: `/signup?next=${encodeURIComponent(here)}` }, "create an account"), " to comment."));
  }
}
