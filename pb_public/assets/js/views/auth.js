// Sign in and sign up. After either, the visitor goes back where they came from (?next=).
import { pb, currentUser } from "../pb.js";
import { h } from "../dom.js";
import { field, formError, showErrors, clearErrors, busy } from "../forms.js";
import { announce } from "../dom.js";

/** Only same-site paths are followed after signing in. */
function nextPath(ctx) {
  const next = ctx.params.get("next") || "/";
  return /^\/(?!\/)/.test(next) && !/^\/(login|signup)\b/.test(next) ? next : "/";
}

function alreadySignedIn(ctx) {
  const user = currentUser();
  if (!user) return null;
  return h("section", { class: "auth-page card" },
    h("h1", null, "You're signed in"),
    h("p", null, `Signed in as ${user.name || user.email}.`),
    h("p", null, h("a", { href: nextPath(ctx) }, "Continue")));
}

export async function loginView(ctx) {
  ctx.setTitle("Sign in");
  const signed = alreadySignedIn(ctx);
  if (signed) return signed;
  const next = nextPath(ctx);
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "login-h" },
    field({ label: "Email", name: "identity", type: "email", autocomplete: "email", required: true }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    formError(),
    h("button", { type: "submit", class: "button button-wide" }, "Sign in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const problems = {};
    if (!String(data.get("identity")).trim()) problems.identity = { message: "Enter your email." };
    if (!String(data.get("password"))) problems.password = { message: "Enter your password." };
    if (Object.keys(problems).length) {
      showErrors(form, { response: { data: problems } });
      return;
    }
    await busy(form, async () => {
      try {
        await pb.collection("users").authWithPassword(String(data.get("identity")).trim(), String(data.get("password")));
        announce("Signed in.");
        ctx.navigate(next, { replace: true });
      } catch (err) {
        if (err?.status === 400 && !Object.keys(err.response?.data || {}).length) {
          err.response = { ...err.response, message: "Wrong email or password." };
        }
        showErrors(form, err);
      }
    });
  });
  return h("section", { class: "auth-page card" },
    h("h1", { id: "login-h" }, "Sign in"),
    form,
    h("p", null, "New here? ", h("a", { href: `/signup${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}` }, "Create an account")));
}

export async function signupView(ctx) {
  ctx.setTitle("Sign up");
  const signed = alreadySignedIn(ctx);
  if (signed) return signed;
  const next = nextPath(ctx);
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "signup-h" },
    field({ label: "Name", name: "name", autocomplete: "name", required: true, maxlength: 100 }),
    field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "At least 8 characters." }),
    field({ label: "Repeat password", name: "passwordConfirm", type: "password", autocomplete: "new-password", required: true }),
    formError(),
    h("button", { type: "submit", class: "button button-wide" }, "Create account"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const data = Object.fromEntries(new FormData(form));
    data.name = String(data.name || "").trim();
    data.email = String(data.email || "").trim();
    // the server checks all of this too; checking here first saves a round trip
    const problems = {};
    if (!data.name) problems.name = { message: "Enter your name." };
    if (!/^[^\s@]+@[^\s@]+$/.test(data.email)) problems.email = { message: "Enter an email address like name@example.com." };
    if (String(data.password).length < 8) problems.password = { message: "Use at least 8 characters." };
    else if (data.password !== data.passwordConfirm) problems.passwordConfirm = { message: "The passwords don't match." };
    if (Object.keys(problems).length) {
      showErrors(form, { response: { data: problems } });
      return;
    }
    await busy(form, async () => {
      try {
        await pb.collection("users").create(data);
        await pb.collection("users").authWithPassword(data.email, data.password);
        announce("Welcome! Your account is ready.");
        ctx.navigate(next, { replace: true });
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  return h("section", { class: "auth-page card" },
    h("h1", { id: "signup-h" }, "Create an account"),
    form,
    h("p", null, "Already have one? ", h("a", { href: `/login${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}` }, "Sign in")));
}
