// "My courses": the signed-in user's enrollments and purchases (orders).
import { pb, currentUser } from "../pb.js";
import { h } from "../dom.js";
import * as fmt from "../format.js";

const ORDER_WORDS = { pending: "Awaiting payment", paid: "Paid", failed: "Payment failed", expired: "Checkout expired", refunded: "Refunded" };
const ENROLLMENT_WORDS = { active: "Enrolled", completed: "Completed", cancelled: "Access ended" };

export async function myCoursesView(ctx) {
  ctx.setTitle("My courses");
  const user = currentUser();
  if (!user) {
    return h("section", { class: "notice-page" },
      h("h1", null, "My courses"),
      h("p", null, h("a", { href: `/login?next=${encodeURIComponent("/my-courses")}` }, "Sign in"), " to see your courses and purchases."));
  }
  const mine = pb.filter("user = {:u}", { u: user.id });
  const [enrollments, orders] = await Promise.all([
    pb.collection("enrollments").getFullList({ filter: mine, sort: "-created", expand: "course", batch: 200 }),
    pb.collection("orders").getFullList({ filter: mine, sort: "-created", expand: "course", batch: 200 }),
  ]);
  const link = (course) => course ? h("a", { href: `/courses/${encodeURIComponent(course.slug || course.id)}` }, course.title) : "A removed course";
  return h("section", { class: "my-courses" },
    h("h1", null, "My courses"),
    h("h2", { id: "enrolled-h" }, "Enrolled"),
    enrollments.length
      ? h("ul", { class: "my-list", "aria-labelledby": "enrolled-h" }, enrollments.map((e) =>
        h("li", { dataset: { enrollmentId: e.id, status: e.status } },
          link(e.expand?.course), " — ", ENROLLMENT_WORDS[e.status] || e.status,
          e.status !== "cancelled" ? ` · ${e.progress || 0}% complete` : "")))
      : h("p", { class: "empty" }, "No courses yet. ", h("a", { href: "/courses" }, "Browse the catalogue.")),
    h("h2", { id: "purchases-h" }, "Purchases"),
    orders.length
      ? h("table", { class: "purchases", "aria-labelledby": "purchases-h" },
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Course"), h("th", { scope: "col" }, "Amount"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Date"))),
        h("tbody", null, orders.map((o) => h("tr", { dataset: { orderId: o.id, status: o.status } },
          h("td", null, link(o.expand?.course)),
          h("td", null, o.status === "pending" ? fmt.price(o.expand?.course?.price, o.expand?.course?.currency) : fmt.price(o.amount, o.currency)),
          h("td", null, ORDER_WORDS[o.status] || o.status),
          h("td", null, h("time", { datetime: fmt.isoDate(o.paidAt || o.created) }, fmt.formatDate(o.paidAt || o.created)))))))
      : h("p", { class: "empty" }, "No purchases yet."));
}
