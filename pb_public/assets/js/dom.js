// Small DOM helpers. Text always goes in as text nodes; the only HTML the site
// inserts is the server-sanitized rich text of posts, courses and lessons
// (serverHTML below).

/**
 * h("a", {href: "/", class: "x", onclick: fn}, "text", child, [more]) creates an element.
 * Strings become text nodes, never markup. null/false props and children are skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" && (tag === "textarea" || tag === "select")) el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const ICONS = {
  // a padlock, drawn rather than an emoji (no emoji font is assumed)
  lock: [["rect", { x: 5, y: 11, width: 14, height: 10, rx: 2 }], ["path", { d: "M8 11V8a4 4 0 0 1 8 0v3" }]],
};

/** A decorative inline SVG icon (aria-hidden). */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: "1em", height: "1em", fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", focusable: "false", class: "icon" })) {
    svg.setAttribute(k, v);
  }
  for (const [tag, attrs] of ICONS[name] || []) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    svg.append(el);
  }
  return svg;
}

let uid = 0;
/** A unique id for label/aria wiring. */
export function nextId(prefix = "id") {
  uid += 1;
  return `${prefix}-${uid}`;
}

const DROP = "script,style,iframe,frame,frameset,object,embed,link,meta,base,form,input,button,textarea,select,svg,math,template";

/**
 * serverHTML renders rich text that the server has already sanitized (posts.body,
 * courses.description, lessons.body: DATA_MODEL.md). The HTML is parsed into an
 * inert <template> first (nothing loads or runs there), then, as defence in depth
 * and to keep every request on this origin:
 *  - anything active the server should already have removed is dropped again;
 *  - images on other hosts become links ("no requests to other hosts");
 *  - links to other hosts get rel="noopener noreferrer nofollow".
 */
export function serverHTML(html, className = "prose") {
  const tpl = document.createElement("template");
  tpl.innerHTML = String(html || ""); // sanitized server-side; inert until appended
  const root = tpl.content;
  root.querySelectorAll(DROP).forEach((n) => n.remove());
  for (const el of root.querySelectorAll("*")) {
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || name === "style" || name === "srcset" || name === "formaction") {
        el.removeAttribute(attr.name);
      }
    }
  }
  for (const a of root.querySelectorAll("a[href]")) {
    const url = safeURL(a.getAttribute("href"));
    if (!url || !["http:", "https:", "mailto:"].includes(url.protocol)) {
      a.removeAttribute("href");
      continue;
    }
    if (url.origin !== location.origin) a.setAttribute("rel", "noopener noreferrer nofollow");
  }
  for (const img of root.querySelectorAll("img")) {
    const url = safeURL(img.getAttribute("src"));
    if (url && (url.origin === location.origin || url.protocol === "data:")) {
      img.setAttribute("loading", "lazy");
      if (!img.hasAttribute("alt")) img.setAttribute("alt", "");
      continue;
    }
    const label = img.getAttribute("alt") || img.getAttribute("title") || "image";
    const replacement = url && (url.protocol === "https:" || url.protocol === "http:")
      ? h("a", { href: url.href, rel: "noopener noreferrer nofollow", class: "external-image" }, `[External image: ${label}]`)
      : document.createTextNode("");
    img.replaceWith(replacement);
  }
  const div = h("div", { class: className });
  div.append(root);
  return div;
}

function safeURL(value) {
  if (value == null) return null;
  try {
    return new URL(value, location.href);
  } catch {
    return null;
  }
}

/** Says text through the page's polite live region (screen readers). */
export function announce(text) {
  const el = document.getElementById("announcer");
  if (!el) return;
  el.textContent = "";
  // a new text node in a fresh task so repeated messages are announced again
  setTimeout(() => (el.textContent = text), 50);
}
