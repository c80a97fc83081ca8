// Helpers for the SDK suite (e2e/sdk): a Lectern server per test file, users of
// every role made the way a site would make them, PNG images made in code and
// image-header parsing, error assertions and realtime event recorders.
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import PocketBase, { ClientResponseError } from "pocketbase";
import { EventSource } from "eventsource";
import { startServer } from "./server.mjs";
import { installCapture } from "./capture.mjs";

// The SDK's realtime client uses the browser's EventSource; Node 20 has none.
globalThis.EventSource ??= EventSource;

export { ClientResponseError };

export const ROLES = ["student", "author", "instructor", "admin"];

/** client returns a PocketBase SDK client for url, with auto-cancellation off
 * (tests send identical requests concurrently on purpose). With
 * LECTERN_TRAFFIC_DIR set, its exchanges are recorded (capture.mjs). */
export function client(url) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  return installCapture(pb);
}

/**
 * startWorld starts a lectern server for one test file. By default the rate
 * limits are relaxed (see server.mjs): the suite is a single IP doing far more
 * writes a minute than any person. Pass {relaxRateLimits: false} to keep them.
 *
 * The world returns clients: su (a superuser), guest() and user(role), and
 * stop() closes every realtime connection it handed out, then the server.
 */
export async function startWorld(opts = {}) {
  const superuser = { email: "e2e-superuser@lectern.test", password: `su-${process.pid}-${Date.now()}` };
  const server = await startServer({ relaxRateLimits: true, superuser, ...opts });
  const url = server.url;
  const clients = [];
  const track = (pb) => (clients.push(pb), pb);
  const su = track(client(url));
  try {
    await su.collection("_superusers").authWithPassword(server.superuser.email, server.superuser.password);
  } catch (err) {
    await server.stop();
    throw err;
  }
  let seq = 0;

  const world = {
    server,
    url,
    su,
    /** a fresh client with nobody signed in */
    guest: () => track(client(url)),
    /** a fresh client from outside the world: a stop() does not close it */
    client: () => client(url),
    uniq: (prefix = "x") => `${prefix}-${process.pid}-${++seq}`,
    /**
     * user signs a new user up through the public API (as a visitor would),
     * has a superuser set the role when it is not "student", and returns the
     * signed-in client: {pb, record, id, email, password}.
     */
    async user(role = "student", fields = {}) {
      const n = ++seq;
      const email = `${role}${n}-${process.pid}@lectern.test`;
      const password = `pw-${role}-${n}-secret`;
      const pb = track(client(url));
      await pb.collection("users").create({ email, password, passwordConfirm: password, name: `${role} ${n}`, ...fields });
      await pb.collection("users").authWithPassword(email, password);
      if (role !== "student") {
        await su.collection("users").update(pb.authStore.record.id, { role });
        await pb.collection("users").authRefresh();
        assert.equal(pb.authStore.record.role, role);
      }
      return { pb, record: pb.authStore.record, id: pb.authStore.record.id, email, password };
    },
    async stop() {
      for (const pb of clients) {
        try {
          pb.cancelAllRequests();
          if (pb.realtime.isConnected || Object.keys(pb.realtime.subscriptions ?? {}).length) {
            await pb.realtime.unsubscribe();
          }
        } catch {}
      }
      await server.stop();
    },
  };
  return world;
}

/**
 * rejects awaits p, asserts it fails with a ClientResponseError of status and,
 * when fields are given, that response.data names each field (with the code
 * when given as {field: code}). Returns the error.
 */
export async function rejects(p, status, fields = {}) {
  let err;
  try {
    const value = await p;
    assert.fail(`expected a ${status} error, got success: ${JSON.stringify(value).slice(0, 300)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof ClientResponseError, `expected a ClientResponseError, got ${err}`);
  assert.equal(err.status, status, `status: ${JSON.stringify(err.response)}`);
  const data = err.response?.data ?? {};
  for (const [field, code] of Object.entries(fields)) {
    assert.ok(data[field], `response.data.${field} missing in ${JSON.stringify(err.response)}`);
    assert.equal(typeof data[field].code, "string", `response.data.${field}.code`);
    assert.equal(typeof data[field].message, "string", `response.data.${field}.message`);
    if (code) assert.equal(data[field].code, code, `response.data.${field}.code`);
  }
  return err;
}

// --- images -----------------------------------------------------------------

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** png makes a valid RGB PNG of width×height: a diagonal gradient, so a
 * resize has real pixels to work on. */
export function png(width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * 3;
      raw[i] = (x * 255) / width;
      raw[i + 1] = (y * 255) / height;
      raw[i + 2] = 128;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** pngFile wraps png() in a File the SDK sends as multipart. */
export function pngFile(width, height, name = "image.png") {
  return new File([png(width, height)], name, { type: "image/png" });
}

/** imageInfo parses a PNG or JPEG header: {type, width, height}, or null. */
export function imageInfo(buf) {
  buf = Buffer.from(buf);
  if (buf.length >= 24 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    if (buf.toString("ascii", 12, 16) !== "IHDR") return null;
    return { type: "png", width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  }
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8) {
    let i = 2;
    while (i + 9 < buf.length) {
      if (buf[i] !== 0xff) return null;
      const marker = buf[i + 1];
      if (marker === 0xff) {
        i++; // fill byte
        continue;
      }
      const len = buf.readUInt16BE(i + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { type: "jpeg", height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
      }
      i += 2 + len;
    }
  }
  return null;
}

/** fetchImage GETs url and returns {status, contentType, info} for the body. */
export async function fetchImage(url) {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, contentType: res.headers.get("content-type"), info: imageInfo(body), bytes: body.length };
}

// --- realtime ---------------------------------------------------------------

/**
 * record subscribes pb to topic of collection and records every event.
 * Returns {events, unsubscribe(), waitFor(pred, ms)}; waitFor resolves with the
 * first recorded event matching pred, waiting at most ms (2 s by default).
 */
export async function record(pb, collection, topic = "*", options = {}) {
  const events = [];
  const waiters = new Set();
  const unsubscribe = await pb.collection(collection).subscribe(
    topic,
    (e) => {
      events.push(e);
      for (const w of waiters) w();
    },
    options,
  );
  const waitFor = (pred, ms = 2000, what = "a matching event") =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = events.find(pred);
        if (hit) {
          cleanup();
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no ${what} on ${collection}/${topic} within ${ms} ms; got ${JSON.stringify(
              events.map((e) => [e.action, e.record?.id]),
            )}`,
          ),
        );
      }, ms);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { events, unsubscribe, waitFor };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
