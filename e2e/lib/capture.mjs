// Traffic capture for the SDK suite: when LECTERN_TRAFFIC_DIR is set, every
// HTTP exchange a PocketBase SDK client makes (pb.send: CRUD, auth, settings,
// POST /api/realtime…) is appended as one JSON line to
// $LECTERN_TRAFFIC_DIR/<test file>-<pid>.jsonl, and each server's
// /api/openapi.json is saved once, next to it, as
// <test file>-<pid>-<port>.openapi.json. internal/apidocs/traffic_test.go
// (TestTrafficMatchesSpec) validates every exchange against that document.
//
// It hooks the SDK, not the network: installCapture sets pb.beforeSend to
// hand the SDK a wrapping fetch (SendOptions.fetch), so only SDK traffic is
// recorded — not the suite's own plain fetch() calls (health polls, image
// downloads, the deliberately malformed body of errors.test.mjs) — and the
// realtime stream is never touched: the SDK opens it with EventSource, not
// pb.send, and a text/event-stream answer is skipped unread anyway.
//
// What a line holds (no token is ever written):
//   {seq, file, spec, ms, method, url,            url: path + query, no origin
//    request:  {contentType, authorization: bool, json | form | text},
//              form: {fields: [[name, value]…], files: [{field, name, type, size}]}
//    response: {status, contentType, json | text | bytes}}
// Values named token in a request or response body are replaced by
// "[redacted]"; passwords by as many "*" (length rules still apply).
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const dir = process.env.LECTERN_TRAFFIC_DIR || "";

/** capturing reports whether this process records its SDK traffic. */
export const capturing = dir !== "";

const testFile = basename(process.argv[1] || "process").replace(/\.m?js$/, "");
const stem = `${testFile}-${process.pid}`;
const linesFile = dir && join(dir, `${stem}.jsonl`);
let seq = 0;
let warned = false;
const specs = new Map(); // origin → Promise<spec file name | null>

// the fetch the SDK would use: the global one, looked up at call time
const realFetch = (...args) => globalThis.fetch(...args);
if (capturing) mkdirSync(dir, { recursive: true });

function warn(err) {
  if (warned) return;
  warned = true;
  process.stderr.write(`capture: ${err?.stack || err} (LECTERN_TRAFFIC_DIR=${dir}); further capture errors are not shown\n`);
}

/**
 * installCapture makes pb record its exchanges when LECTERN_TRAFFIC_DIR is
 * set (and does nothing otherwise). Returns pb.
 */
export function installCapture(pb) {
  if (!capturing) return pb;
  const previous = pb.beforeSend;
  pb.beforeSend = async (url, options) => {
    if (previous) {
      const r = Object.assign({}, await previous(url, options));
      url = r.url || url;
      options = r.options || options;
    }
    return { url, options: { ...options, fetch: capturingFetch(options.fetch || realFetch) } };
  };
  return pb;
}

/** specFor fetches origin's /api/openapi.json once and returns its file name. */
function specFor(origin) {
  let p = specs.get(origin);
  if (!p) {
    p = (async () => {
      const name = `${stem}-${new URL(origin).port || "80"}.openapi.json`;
      const res = await realFetch(`${origin}/api/openapi.json`);
      if (!res.ok) throw new Error(`GET ${origin}/api/openapi.json: ${res.status}`);
      writeFileSync(join(dir, name), Buffer.from(await res.arrayBuffer()));
      return name;
    })().catch((err) => (warn(err), null));
    specs.set(origin, p);
  }
  return p;
}

function capturingFetch(inner) {
  return async (url, options = {}) => {
    let origin, target;
    try {
      const u = new URL(url);
      origin = u.origin;
      target = u.pathname + u.search;
    } catch (err) {
      warn(err);
      return inner(url, options);
    }
    const spec = await specFor(origin);
    const request = describeRequest(options);
    const started = performance.now();
    const res = await inner(url, options); // an abort or a network error is not an exchange: nothing recorded
    const ms = Math.round(performance.now() - started);
    try {
      const contentType = res.headers.get("content-type") || "";
      // a stream would be buffered whole by clone(): leave it alone
      if (contentType.startsWith("text/event-stream")) return res;
      const response = { status: res.status, contentType, ...(await describeBody(res.clone(), contentType)) };
      const line = { seq: ++seq, file: testFile, spec, ms, method: (options.method || "GET").toUpperCase(), url: target, request, response };
      appendFileSync(linesFile, JSON.stringify(line) + "\n");
    } catch (err) {
      warn(err);
    }
    return res;
  };
}

function header(headers, name) {
  if (!headers) return null;
  if (typeof headers.get === "function") return headers.get(name);
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return null;
}

function describeRequest(options) {
  const body = options.body;
  const out = { contentType: header(options.headers, "content-type"), authorization: !!header(options.headers, "authorization") };
  if (body === undefined || body === null || body === "") {
    delete out.contentType; // the SDK labels every request JSON, bodyless ones too
    return out;
  }
  try {
    if (body instanceof FormData) {
      out.contentType = "multipart/form-data";
      const fields = [];
      const files = [];
      for (const [name, value] of body.entries()) {
        if (typeof value === "string") fields.push([name, name === "@jsonPayload" ? redactPayload(value) : redact(name, value)]);
        else files.push({ field: name, name: value.name, type: value.type, size: value.size });
      }
      out.form = { fields, files };
    } else if (typeof body === "string") {
      try {
        out.json = redactAll(JSON.parse(body));
      } catch {
        out.text = body.slice(0, 4096);
      }
    } else {
      out.text = `[${body?.constructor?.name ?? typeof body} body not recorded]`;
    }
  } catch (err) {
    warn(err);
  }
  return out;
}

async function describeBody(res, contentType) {
  const buf = Buffer.from(await res.arrayBuffer());
  if (buf.length === 0) return {};
  if (/\bjson\b/.test(contentType)) {
    try {
      return { json: redactAll(JSON.parse(buf.toString("utf8"))) };
    } catch {}
  }
  if (/^text\/|xml/.test(contentType)) return { text: buf.toString("utf8").slice(0, 65536) };
  return { bytes: buf.length };
}

const secret = new Set(["password", "passwordConfirm", "oldPassword"]);

function redact(key, value) {
  if (typeof value !== "string") return value;
  if (key === "token") return "[redacted]";
  if (secret.has(key)) return "*".repeat(value.length);
  return value;
}

function redactAll(v) {
  if (Array.isArray(v)) return v.map(redactAll);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = typeof x === "string" ? redact(k, x) : redactAll(x);
    return out;
  }
  return v;
}

function redactPayload(s) {
  try {
    return JSON.stringify(redactAll(JSON.parse(s)));
  } catch {
    return s;
  }
}
