// Accessible form building blocks: every control has a label, errors are tied to
// their control with aria-describedby and announced through role="alert".
import { h, nextId } from "./dom.js";
import { errorMessage, fieldErrors } from "./format.js";

/**
 * field({label, name, type, ...attrs}) -> <div class="field"> with label, control and
 * an error slot. type "textarea" makes a textarea. Extra props go on the control.
 */
export function field({ label, name, type = "text", hint, ...attrs }) {
  const id = nextId(name);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  const control = type === "textarea"
    ? h("textarea", { id, name, "aria-describedby": describedBy, ...attrs })
    : h("input", { id, name, type, "aria-describedby": describedBy, ...attrs });
  return h("div", { class: "field", dataset: { field: name } },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

/** The form-level error line; role="alert" so it is read out when it appears. */
export function formError() {
  return h("p", { class: "form-error", role: "alert", hidden: true });
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error, .form-error")) {
    el.textContent = "";
    el.hidden = true;
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * showErrors puts a PocketBase error on the form: field messages next to their
 * controls (first invalid control focused), the rest in the form-level line.
 */
export function showErrors(form, err, { names = {} } = {}) {
  clearErrors(form);
  const fields = fieldErrors(err);
  let first = null;
  const unplaced = [];
  for (const [name, message] of Object.entries(fields)) {
    const wrap = form.querySelector(`[data-field="${CSS.escape(names[name] || name)}"]`);
    const slot = wrap?.querySelector(".field-error");
    const control = wrap?.querySelector("input, textarea, select");
    if (!slot) {
      unplaced.push(`${name}: ${message}`);
      continue;
    }
    slot.textContent = message;
    slot.hidden = false;
    if (control) {
      control.setAttribute("aria-invalid", "true");
      first ??= control;
    }
  }
  const general = form.querySelector(".form-error");
  if (general) {
    const text = [Object.keys(fields).length && !unplaced.length ? "Please fix the highlighted fields." : errorMessage(err), ...unplaced].join(" ");
    general.textContent = text;
    general.hidden = false;
  }
  first?.focus();
}

/** Runs fn while the form's submit button is disabled and says "busy". */
export async function busy(form, fn) {
  const button = form.querySelector('button[type="submit"]');
  if (button) button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    return await fn();
  } finally {
    if (button) button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}
