// Starts the real lectern binary on a free loopback port with a fresh data dir,
// and stops it (and removes the dir) when the test file is done.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, "..", "..");

/** Path of the lectern binary: $LECTERN_BIN, or ./lectern built by `make build`. */
export function binaryPath() {
  const bin = process.env.LECTERN_BIN || join(repoRoot, "lectern");
  if (!existsSync(bin)) {
    throw new Error(`lectern binary not found at ${bin}: run "make build" first (make test does)`);
  }
  return bin;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Children still running when the test process exits (a crashed file, an
// uncaught error, the runner's timeout sending SIGTERM, Ctrl-C) are killed so
// no lectern outlives its test file.
const running = new Map(); // child → its temp dir
function killAll() {
  for (const [child, dir] of running) {
    try {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
}
process.once("exit", killAll);
for (const [sig, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
]) {
  process.once(sig, () => {
    killAll();
    process.exit(code);
  });
}

/**
 * startServer runs `lectern serve` on 127.0.0.1:<free port> with a new data dir.
 * Options:
 *   superuser {email, password}: created before start (one is made up when
 *     relaxRateLimits needs it and none is given);
 *   seed (array): args of `lectern seed`, run first;
 *   relaxRateLimits (bool): switch Lectern's per-IP rate limits off once the
 *     server is up (as the superuser: PATCH /api/settings rateLimits.enabled=false).
 *     Lectern ships with them ON (20 auth/min, 50 sign-ups/hour, 20 comments/min
 *     per IP…) and a test suite is one IP making hundreds of writes a minute,
 *     so the SDK suite relaxes them; the test of the limiter itself does not.
 *   env (object): extra environment of the server (LECTERN_STRIPE_* for checkout).
 * Returns {url, dir, port, superuser, stop(), run(args), output()}.
 */
export async function startServer(opts = {}) {
  const bin = binaryPath();
  const dir = mkdtempSync(join(tmpdir(), "lectern-e2e-"));
  const dataDir = join(dir, "pb_data");
  const run = (args) => execFileSync(bin, [...args, "--dir", dataDir], { stdio: "pipe", timeout: 120_000 }).toString();

  let superuser = opts.superuser;
  if (!superuser && opts.relaxRateLimits) {
    superuser = { email: "e2e-superuser@lectern.test", password: randomBytes(12).toString("hex") };
  }

  // migrate first so settings can be changed before the server starts
  run(["migrate", "up"]);
  if (superuser) run(["superuser", "upsert", superuser.email, superuser.password]);
  if (opts.seed) run(["seed", ...opts.seed]);

  const port = await freePort();
  const child = spawn(bin, ["serve", "--http", `127.0.0.1:${port}`, "--dir", dataDir, "--dev=false"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...(opts.env || {}) },
  });
  running.set(child, dir);
  child.once("exit", () => running.delete(child));
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`lectern exited early:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`lectern did not become healthy in 30s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (opts.relaxRateLimits) await disableRateLimits(url, superuser);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, dir: dataDir, superuser, stop, run, output: () => output };
}

/** superuserToken signs the superuser in over HTTP and returns its token. */
export async function superuserToken(url, { email, password }) {
  const res = await fetch(`${url}/api/collections/_superusers/auth-with-password`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ identity: email, password }),
  });
  if (!res.ok) throw new Error(`superuser sign-in: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

// disableRateLimits switches the rate limiter off through the settings API.
async function disableRateLimits(url, su) {
  const token = await superuserToken(url, su);
  const res = await fetch(`${url}/api/settings`, {
    method: "PATCH",
    headers: { "content-type": "application/json", authorization: token },
    body: JSON.stringify({ rateLimits: { enabled: false } }),
  });
  if (!res.ok) throw new Error(`relax rate limits: ${res.status} ${await res.text()}`);
  const settings = await res.json();
  if (settings.rateLimits?.enabled !== false) throw new Error("relax rate limits: still enabled");
}
