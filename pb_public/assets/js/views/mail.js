// Mail pages: the newsletter (subscribe, confirm, unsubscribe), the contact
// form, the pages PocketBase's account mails link to (verify, reset password,
// confirm an email change) and the account page (reply mails, one-click
// subscription). Pages opened from a mail act only on a click: mail scanners
// open links, and opening a link must change nothing.
import { pb, currentUser } from "../pb.js";
import { h, announce } from "../dom.js";
import { field, formError, showErrors, clearErrors, busy } from "../forms.js";

function page(id, title, ...children) {
  return h("section", { class: "auth-page card" }, h("h1", { id }, title), ...children);
}

function done(text, ...more) {
  return h("div", { class: "mail-done", role: "status" }, h("p", null, text), ...more);
}

/** A page that sends the token of its link with one button press. */
function tokenAction(ctx, { id, title, intro, fields = [], button, send, success, missing }) {
  ctx.setTitle(title);
  const token = ctx.params.get("token") || "";
  if (!token) return page(id, title, h("p", { role: "alert" }, missing));
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": id },
    ...(intro ? [h("p", null, intro)] : []),
    ...fields,
    formError(),
    h("button", { type: "submit", class: "button button-wide" }, button));
  const box = page(id, title, form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        const res = await send(token, form);
        const msg = success(res);
        form.replaceWith(done(msg, h("p", null, h("a", { href: "/" }, "Back to the blog"))));
        announce(msg);
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  return box;
}

export async function newsletterView(ctx) {
  ctx.setTitle("Newsletter");
  const user = currentUser();
  const topics = await pb.collection("topics").getFullList({ sort: "name", fields: "id,name" });
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "newsletter-h" },
    h("p", null, "New posts in your inbox, one issue at a time. Pick topics or leave them all unticked for everything."),
    user && user.verified
      ? h("p", { class: "hint" }, `Subscribing as ${user.email}: no confirmation mail needed.`)
      : field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true, value: user?.email || "" }),
    topics.length
      ? h("fieldset", { class: "field", dataset: { field: "topics" } },
        h("legend", null, "Topics"),
        ...topics.map((t) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "topics", value: t.id }), " ", t.name)),
        h("p", { class: "field-error", hidden: true }))
      : null,
    formError(),
    h("button", { type: "submit", class: "button button-wide" }, "Subscribe"));
  const box = page("newsletter-h", "Newsletter", form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const body = { topics: data.getAll("topics").map(String) };
    if (data.has("email")) body.email = String(data.get("email")).trim();
    if (data.has("email") && !/^[^\s@]+@[^\s@]+$/.test(body.email)) {
      showErrors(form, { response: { data: { email: { message: "Enter an email address like name@example.com." } } } });
      return;
    }
    await busy(form, async () => {
      try {
        await pb.send("/api/newsletter/subscribe", { method: "POST", body });
        const msg = user && user.verified && !body.email
          ? "You're subscribed. The next issue comes to your account's address."
          : "Almost there: check your inbox and click the link in the mail we sent to confirm.";
        form.replaceWith(done(msg));
        announce(msg);
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  return box;
}

export async function newsletterConfirmView(ctx) {
  return tokenAction(ctx, {
    id: "confirm-h", title: "Confirm your subscription",
    intro: "One click and the newsletter is on its way.",
    button: "Confirm my subscription",
    missing: "This link has no token: open the link from the confirmation mail.",
    send: (token) => pb.send("/api/newsletter/confirm", { method: "POST", body: { token } }),
    success: (res) => `You're subscribed${res?.email ? ` as ${res.email}` : ""}. Thanks!`,
  });
}

export async function newsletterUnsubscribeView(ctx) {
  return tokenAction(ctx, {
    id: "unsubscribe-h", title: "Unsubscribe",
    intro: "Stop receiving the Lectern newsletter at this address?",
    button: "Unsubscribe",
    missing: "This link has no token: use the unsubscribe link of a newsletter mail.",
    send: (token) => pb.send("/api/newsletter/unsubscribe", { method: "POST", body: { token } }),
    success: () => "You're unsubscribed: no more newsletter mail will come to this address.",
  });
}

export async function contactView(ctx) {
  ctx.setTitle("Contact");
  const user = currentUser();
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "contact-h" },
    field({ label: "Name", name: "name", autocomplete: "name", required: true, maxlength: 100, value: user?.name || "" }),
    field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true, value: user?.email || "" }),
    field({ label: "Subject", name: "subject", maxlength: 200 }),
    field({ label: "Message", name: "message", type: "textarea", required: true, maxlength: 5000, rows: 6 }),
    // the honeypot: hidden from people (and screen readers), filled by bots
    h("div", { class: "hp", "aria-hidden": "true" },
      h("label", null, "Website", h("input", { name: "website", type: "text", tabindex: "-1", autocomplete: "off" }))),
    formError(),
    h("button", { type: "submit", class: "button button-wide" }, "Send"));
  const box = page("contact-h", "Contact us", form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v).trim()]));
    // the server checks all of this too; checking here first saves a round trip
    const problems = {};
    if (!body.name) problems.name = { message: "Enter your name." };
    if (!/^[^\s@]+@[^\s@]+$/.test(body.email)) problems.email = { message: "Enter an email address like name@example.com." };
    if (!body.message) problems.message = { message: "Write your message." };
    if (Object.keys(problems).length) {
      showErrors(form, { response: { data: problems } });
      return;
    }
    await busy(form, async () => {
      try {
        await pb.send("/api/contact", { method: "POST", body });
        const msg = "Thanks! Your message is on its way; we'll answer by mail.";
        form.replaceWith(done(msg));
        announce(msg);
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  return box;
}

export async function verifyView(ctx) {
  return tokenAction(ctx, {
    id: "verify-h", title: "Verify your email",
    button: "Verify my email",
    missing: "This link has no token: open the link from the verification mail.",
    send: (token) => pb.collection("users").confirmVerification(token),
    success: () => "Your email address is verified.",
  });
}

export async function confirmEmailChangeView(ctx) {
  return tokenAction(ctx, {
    id: "email-change-h", title: "Confirm your new email",
    intro: "Enter your password to switch your account to the new address.",
    fields: [field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true })],
    button: "Confirm the new address",
    missing: "This link has no token: open the link from the mail.",
    send: (token, form) => {
      const box = form.querySelector("input[name=password]");
      return pb.collection("users").confirmEmailChange(token, box.value);
    },
    success: () => {
      pb.authStore.clear();
      return "Your account now uses the new address. Sign in with it.";
    },
  });
}

export async function resetPasswordView(ctx) {
  ctx.setTitle("Choose a new password");
  const token = ctx.params.get("token") || "";
  if (!token) return page("reset-h", "Choose a new password", h("p", { role: "alert" }, "This link has no token: open the link from the password-reset mail."));
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "reset-h" },
    field({ label: "New password", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "At least 8 characters." }),
    field({ label: "Repeat password", name: "passwordConfirm", type: "password", autocomplete: "new-password", required: true }),
    formError(),
    h("button", { type: "submit", class: "button button-wide" }, "Set the new password"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const d = Object.fromEntries(new FormData(form));
    await busy(form, async () => {
      try {
        await pb.collection("users").confirmPasswordReset(token, String(d.password), String(d.passwordConfirm));
        const msg = "Your password is changed. Sign in with the new one.";
        form.replaceWith(done(msg, h("p", null, h("a", { href: "/login" }, "Sign in"))));
        announce(msg);
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  return page("reset-h", "Choose a new password", form);
}

export async function accountView(ctx) {
  ctx.setTitle("Your account");
  const user = currentUser();
  if (!user) {
    return page("account-h", "Your account", h("p", null, h("a", { href: "/login?next=/account" }, "Sign in"), " to manage your mail settings."));
  }
  const me = await pb.collection("users").getOne(user.id);
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "account-h" },
    h("label", { class: "check" },
      h("input", { type: "checkbox", name: "replyMails", checked: !me.replyEmailsOff }),
      " Email me when someone replies to my comments"),
    formError(),
    h("button", { type: "submit", class: "button" }, "Save"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const on = form.querySelector("input[name=replyMails]").checked;
    await busy(form, async () => {
      try {
        await pb.collection("users").update(user.id, { replyEmailsOff: !on });
        announce(on ? "Reply mails are on." : "Reply mails are off.");
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  return page("account-h", "Your account",
    h("p", null, `Signed in as ${me.email || user.email}.`),
    form,
    h("p", null, h("a", { href: "/newsletter" }, "Subscribe to the newsletter")));
}
