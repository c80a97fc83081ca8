// A real SMTP server for the e2e suites: mailpit, installed by
// scripts/mailpit.sh (a separate binary, never a library), started on two free
// loopback ports and read back through its REST API (/api/v1/...).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, freePort } from "./server.mjs";

let bin;
function mailpitBinary() {
  bin ??= execFileSync("bash", [join(repoRoot, "scripts", "mailpit.sh")], { stdio: ["ignore", "pipe", "inherit"], timeout: 600_000 })
    .toString()
    .trim();
  return bin;
}

/** startMailpit returns {smtpHost, smtpPort, api, messages(query), message(id), headers(id), waitFor(n, query), stop()}. */
export async function startMailpit() {
  const exe = mailpitBinary();
  const dir = mkdtempSync(join(tmpdir(), "lectern-mailpit-"));
  const smtpPort = await freePort();
  const apiPort = await freePort();
  const child = spawn(exe, [
    "--smtp", `127.0.0.1:${smtpPort}`, "--listen", `127.0.0.1:${apiPort}`,
    "--disable-version-check", "--smtp-disable-rdns", "--quiet", "--database", join(dir, "mailpit.db"),
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const api = `http://127.0.0.1:${apiPort}`;
  const stop = async () => {
    process.off("exit", kill);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${api}/api/v1/info`);
      if (res.ok) break;
    } catch {}
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`mailpit did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const get = async (path) => {
    const res = await fetch(api + path);
    if (!res.ok) throw new Error(`mailpit GET ${path}: ${res.status}`);
    return res.json();
  };
  const mp = {
    smtpHost: "127.0.0.1",
    smtpPort,
    api,
    /** messages matching a mailpit search ("to:a@b.test"), newest first */
    async messages(query = "") {
      const page = query ? await get(`/api/v1/search?query=${encodeURIComponent(query)}&limit=500`) : await get("/api/v1/messages?limit=500");
      return page.messages;
    },
    message: (id) => get(`/api/v1/message/${encodeURIComponent(id)}`),
    headers: (id) => get(`/api/v1/message/${encodeURIComponent(id)}/headers`),
    async waitFor(n, query = "", timeout = 20_000) {
      const until = Date.now() + timeout;
      for (;;) {
        const got = await mp.messages(query);
        if (got.length >= n) return got;
        if (Date.now() > until) throw new Error(`mailpit: ${got.length} message(s) for ${JSON.stringify(query)}, want ${n}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop,
  };
  return mp;
}

/** useMailpit points a Lectern server's mail at mp (as its superuser SDK client su). */
export async function useMailpit(su, mp, appURL) {
  await su.settings.update({
    meta: { appURL, senderName: "Lectern", senderAddress: "hello@lectern.test" },
    smtp: { enabled: true, host: mp.smtpHost, port: mp.smtpPort, tls: false },
  });
}

/** tokenIn returns the token of the first link starting with prefix in text. */
export function tokenIn(text, prefix) {
  const i = text.indexOf(prefix);
  if (i < 0) throw new Error(`no link ${prefix} in:\n${text}`);
  const m = /token=([A-Za-z0-9_.%-]+)/.exec(text.slice(i));
  return decodeURIComponent(m[1]);
}
