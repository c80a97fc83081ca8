// Pages shared by the router and the views.
import { h } from "./dom.js";
import { errorMessage } from "./format.js";

export function notFound(ctx, what = "Page") {
  ctx.setTitle("Not found");
  return h("section", { class: "notice-page" },
    h("h1", null, `${what} not found`),
    h("p", null, "It may have been moved, unpublished or never existed."),
    h("p", null, h("a", { href: "/" }, "Back to the blog"), " · ", h("a", { href: "/courses" }, "Browse courses")));
}

export function errorPage(ctx, err) {
  if (err?.status === 404) return notFound(ctx);
  ctx.setTitle("Error");
  return h("section", { class: "notice-page" },
    h("h1", null, "Something went wrong"),
    h("p", { role: "alert" }, errorMessage(err)),
    h("p", null, h("a", { href: location.pathname + location.search }, "Try again")));
}
