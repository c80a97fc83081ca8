// Lectern demo site: a small History-API router over a few views. The server
// answers every unknown path with index.html, so /posts/{slug} and
// /courses/{slug} work as deep links.
import { pb, currentUser } from "./pb.js";
import { h } from "./dom.js";
import { notFound, errorPage } from "./pages.js";
import { blogView } from "./views/blog.js";
import { postView } from "./views/post.js";
import { coursesView } from "./views/courses.js";
import { courseView } from "./views/course.js";
import { loginView, signupView } from "./views/auth.js";
import * as mail from "./views/mail.js";
import { myCoursesView } from "./views/mine.js";
import { searchView } from "./views/search.js";

const routes = [
  { re: /^\/$/, view: blogView, nav: "blog" },
  { re: /^\/posts\/([^/]+)\/?$/, view: postView, nav: "blog" },
  { re: /^\/courses\/?$/, view: coursesView, nav: "courses" },
  { re: /^\/courses\/([^/]+)\/?$/, view: courseView, nav: "courses" },
  { re: /^\/my-courses\/?$/, view: myCoursesView, nav: "mine" },
  { re: /^\/search\/?$/, view: searchView, nav: "search" },
  { re: /^\/login\/?$/, view: loginView },
  { re: /^\/signup\/?$/, view: signupView },
  { re: /^\/newsletter\/?$/, view: mail.newsletterView },
  { re: /^\/newsletter\/confirm\/?$/, view: mail.newsletterConfirmView },
  { re: /^\/newsletter\/unsubscribe\/?$/, view: mail.newsletterUnsubscribeView },
  { re: /^\/contact\/?$/, view: mail.contactView },
  { re: /^\/verify\/?$/, view: mail.verifyView },
  { re: /^\/reset-password\/?$/, view: mail.resetPasswordView },
  { re: /^\/confirm-email-change\/?$/, view: mail.confirmEmailChangeView },
  { re: /^\/account\/?$/, view: mail.accountView },
];

const main = document.getElementById("main");
let renderSeq = 0;
let cleanups = [];

async function runCleanups(list) {
  list.done = true; // a cleanup registered later (a late subscription) runs at once
  for (const fn of list.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      // an unsubscribe of a dropped connection: nothing left to clean
    }
  }
}

export function navigate(to, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"](null, "", to);
  render({ focus: true, scroll: true });
}

async function render({ focus = false, scroll = false, focusSelector = null } = {}) {
  const seq = ++renderSeq;
  const previous = cleanups;
  cleanups = [];
  await runCleanups(previous);

  let path = location.pathname;
  try {
    path = decodeURI(path);
  } catch {
    // a malformed escape: matched as typed
  }
  let route = null;
  let match = null;
  for (const r of routes) {
    match = path.match(r.re);
    if (match) {
      route = r;
      break;
    }
  }
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (route && a.dataset.nav === route.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }

  const mine = [];
  const ctx = {
    params: new URLSearchParams(location.search),
    match,
    path,
    navigate,
    isCurrent: () => seq === renderSeq,
    onCleanup: (fn) => (mine.done ? Promise.resolve().then(fn).catch(() => {}) : mine.push(fn)),
    setTitle: (t) => (document.title = t ? `${t} · Lectern` : "Lectern"),
    /** re-renders the current page in place (after a change) and focuses selector */
    refresh: (selector) => render({ focusSelector: selector }),
  };
  main.setAttribute("aria-busy", "true");
  let node;
  try {
    node = route ? await route.view(ctx) : notFound(ctx);
  } catch (err) {
    node = errorPage(ctx, err);
  }
  if (seq !== renderSeq) {
    // another navigation started meanwhile: this view is dropped
    await runCleanups(mine);
    return;
  }
  cleanups = mine;
  main.replaceChildren(node);
  main.removeAttribute("aria-busy");
  renderAccount();

  if (focusSelector) {
    const el = main.querySelector(focusSelector);
    if (el) {
      el.setAttribute("tabindex", "-1");
      el.focus();
      return;
    }
  }
  if (location.hash) {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) {
      target.scrollIntoView();
      return;
    }
  }
  if (scroll) window.scrollTo(0, 0);
  if (focus) {
    // move focus to the new page's heading so keyboard and screen-reader users land on it
    const h1 = main.querySelector("h1");
    if (h1) {
      h1.setAttribute("tabindex", "-1");
      h1.focus({ preventScroll: true });
    }
  }
}

function renderAccount() {
  const box = document.getElementById("account");
  const user = currentUser();
  const here = location.pathname + location.search;
  if (user) {
    box.replaceChildren(
      h("span", { class: "whoami" }, h("span", { class: "whoami-prefix" }, "Signed in as "), h("a", { href: "/account" }, h("strong", null, user.name || "you"))),
      h("button", {
        type: "button",
        class: "button button-quiet",
        onclick: () => pb.authStore.clear(), // the page renders again as a guest (below)
      }, "Sign out"),
    );
  } else {
    const next = /^\/(login|signup)\/?$/.test(location.pathname) ? "" : `?next=${encodeURIComponent(here)}`;
    box.replaceChildren(
      h("a", { href: `/login${next}`, class: "button button-quiet" }, "Sign in"),
      h("a", { href: `/signup${next}`, class: "button" }, "Sign up"),
    );
  }
}

// Same-origin links are routed here, except the API and the dashboard.
document.addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  if (/^\/(_|api|vendor|assets)(\/|$)/.test(url.pathname)) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // in-page
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
});

// GET forms marked data-route (filters) navigate instead of reloading.
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-route")) return;
  e.preventDefault();
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (v !== "") params.set(k, String(v));
  const qs = params.toString();
  navigate(new URL(form.action).pathname + (qs ? `?${qs}` : ""));
});

window.addEventListener("popstate", () => render({ focus: true }));

// Signing in or out (here or in another tab) changes who the page is. A realtime
// connection keeps the identity it was opened with (the server refuses a
// subscription change from someone else: 403), so it is dropped, without a
// request, and the page renders again, subscribing as the new identity.
let authId = currentUser()?.id || "";
pb.authStore.onChange(() => {
  const id = currentUser()?.id || "";
  if (id === authId) return; // a refreshed token of the same user
  authId = id;
  pb.realtime.unsubscribe().catch(() => {});
  render();
});

// A token from an earlier visit is refreshed once; a revoked one is dropped.
if (pb.authStore.isValid && currentUser()) {
  pb.collection("users").authRefresh().catch((err) => {
    if (err?.status === 401 || err?.status === 403 || err?.status === 404) pb.authStore.clear();
  }).then(() => renderAccount());
} else if (pb.authStore.token) {
  pb.authStore.clear();
}

render();
