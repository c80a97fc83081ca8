// Starts the real lectern binary on a free loopback port with a fresh data dir,
// and stops it (and removes the dir) when the test file is done.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
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

/**
 * startServer runs `lectern serve` on 127.0.0.1:<free port> with a new data dir.
 * Options: superuser {email, password} is created before start; seed args
 * (array) run `lectern seed` first.
 * Returns {url, dir, port, stop(), run(args)}.
 */
export async function startServer(opts = {}) {
  const bin = binaryPath();
  const dir = mkdtempSync(join(tmpdir(), "lectern-e2e-"));
  const dataDir = join(dir, "pb_data");
  const run = (args) => execFileSync(bin, [...args, "--dir", dataDir], { stdio: "pipe", timeout: 120_000 }).toString();

  // migrate first so settings can be changed before the server starts
  run(["migrate", "up"]);
  if (opts.superuser) run(["superuser", "upsert", opts.superuser.email, opts.superuser.password]);
  if (opts.seed) run(["seed", ...opts.seed]);

  const port = await freePort();
  const child = spawn(bin, ["serve", "--http", `127.0.0.1:${port}`, "--dir", dataDir, "--dev=false"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lectern exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`lectern did not become healthy in 30s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url, port, dir: dataDir, stop, run, output: () => output };
}
