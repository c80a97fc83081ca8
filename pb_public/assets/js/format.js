// Formatting of record values for people.

const dateFmt = new Intl.DateTimeFormat("en", { dateStyle: "medium" });
const dateTimeFmt = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

/** PocketBase dates look like "2026-01-02 03:04:05.678Z". */
export function parseDate(value) {
  if (!value) return null;
  const d = new Date(String(value).replace(" ", "T"));
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDate(value) {
  const d = parseDate(value);
  return d ? dateFmt.format(d) : "";
}

export function formatDateTime(value) {
  const d = parseDate(value);
  return d ? dateTimeFmt.format(d) : "";
}

export function isoDate(value) {
  const d = parseDate(value);
  return d ? d.toISOString() : "";
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export const MODE_LABELS = { online: "Online", onsite: "On-site", hybrid: "Online & on-site" };
export const LEVEL_LABELS = { beginner: "Beginner", intermediate: "Intermediate", advanced: "Advanced" };

export function modeLabel(mode) {
  return MODE_LABELS[mode] || "—";
}

export function levelLabel(level) {
  return LEVEL_LABELS[level] || "All levels";
}

/** "45 days" */
export function duration(days) {
  const n = Number(days) || 0;
  return plural(n, "day");
}

/** "$99.50", "€49.00"; "Free" for 0. */
export function price(amount, currency) {
  const n = Number(amount) || 0;
  if (n === 0) return "Free";
  const code = /^[A-Z]{3}$/.test(currency || "") ? currency : "USD";
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: code }).format(n);
  } catch {
    return `${n.toFixed(2)} ${code}`;
  }
}

/** "4.7 (55)", or "No reviews yet". */
export function rating(avg, count) {
  const n = Number(count) || 0;
  if (n === 0) return "No reviews yet";
  return `${(Number(avg) || 0).toFixed(1)} (${n})`;
}

/** Spoken form of rating(). */
export function ratingLabel(avg, count) {
  const n = Number(count) || 0;
  if (n === 0) return "No reviews yet";
  return `Rated ${(Number(avg) || 0).toFixed(1)} out of 5 from ${plural(n, "review")}`;
}

export function readingTime(minutes) {
  return `${Math.max(1, Number(minutes) || 1)} min read`;
}

/** A person-readable message for an SDK error. */
export function errorMessage(err) {
  if (!err) return "Something went wrong.";
  if (err.isAbort) return "The request was cancelled.";
  switch (err.status) {
    case 0:
      return "Can't reach the server. Check your connection and try again.";
    case 429:
      return "Too many requests. Please wait a minute and try again.";
    case 403:
      return err.response?.message || "You're not allowed to do that.";
    case 404:
      return "Not found.";
  }
  return err.response?.message || err.message || "Something went wrong.";
}

/** Field errors of a PocketBase 400: {field: message}. */
export function fieldErrors(err) {
  const data = err?.response?.data;
  const out = {};
  if (data && typeof data === "object") {
    for (const [field, value] of Object.entries(data)) {
      if (value && typeof value === "object" && value.message) out[field] = value.message;
    }
  }
  return out;
}
