// The README's code blocks are tests: every ```js and ```sh block of README.md
// runs, in README order, against one freshly seeded lectern (`lectern seed`'s
// default data set, rate limits on as shipped), so a renamed field, a changed
// seed or a missing step fails `make test` instead of a reader.
//
// The server has Stripe keys pointing at stripe-mock (e2e/lib/stripe.mjs), as
// after "Connecting a Stripe account".
//
// The conventions (README → Development → "README examples are tests"):
//   - `http://127.0.0.1:8090` (the README's address of a local `lectern serve`)
//     is replaced by the test server's address in every block that runs;
//   - a JS block runs as a Node ES module from e2e/ (its `pocketbase` and
//     `eventsource` packages); a block without its own `new PocketBase(` starts
//     with the two setup lines of "Using it from a frontend":
//       import PocketBase from "pocketbase";
//       const pb = new PocketBase("http://127.0.0.1:8090");
//     It passes when it exits 0 (a thrown error or a failed assert fails it),
//     prints every line its `// prints: TEXT` comments announce (in order), and
//     exits on its own within a minute (closing what it opens);
//   - a shell block runs with `bash -e -o pipefail` in a scratch copy of the
//     repo (every top-level entry linked, a copy of ./lectern, its own ./pb_data,
//     shared by the shell blocks in order), with GOTOOLCHAIN unset as in a new
//     shell: where Go's default is "local" and older than go.mod's (Debian's
//     golang), a block that runs `go` must `export GOTOOLCHAIN=go1.27.3` itself;
//   - `<!-- example: skip (reason) -->` before a block skips it, and the reason
//     shows in the test output; `<!-- example: continues -->` runs a JS block
//     with the JS block before it as one program. Any other runnable block that
//     fails, or a ts block (not runnable yet) without a skip, fails the test.
//
//   make build && cd e2e && node --test readme/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, mkdtempSync, symlinkSync, copyFileSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, binaryPath, repoRoot } from "../lib/server.mjs";
import { startStripeMock } from "../lib/stripe.mjs";
import { parseBlocks, programs, missingOutput } from "./blocks.mjs";

// LECTERN_README runs another copy (e.g. an older README, to see what it catches)
const README = process.env.LECTERN_README || join(repoRoot, "README.md");
export const README_URL = "127.0.0.1:8090";
const PRELUDE = ['import PocketBase from "pocketbase";', `const pb = new PocketBase("http://${README_URL}");`];
const JS_TIMEOUT = 60_000;
// Operator commands that change the machine (users, services, containers,
// clusters) or need accounts elsewhere never run from here, even when a block
// forgot its skip annotation: the test fails before running such a block.
const NEVER_RUN = /(^|[\s;&|(`$])(sudo|systemctl|useradd|chown|docker|podman|kubectl|litestream|stripe|apt-get|apt)(\s|$)/m;
const SH_TIMEOUT = 180_000;

const progs = programs(parseBlocks(readFileSync(README, "utf8")));

let server;
let stripe;
let sandbox;
before(async () => {
  // payments configured as "Connecting a Stripe account" says, against
  // Stripe's own fake (stripe-mock), so the checkout example runs
  stripe = await startStripeMock();
  server = await startServer({ seed: [], env: stripe.env });
  // a scratch checkout for the shell blocks: the repo's files linked, the
  // binary copied (PocketBase puts pb_data beside the resolved executable)
  sandbox = mkdtempSync(join(tmpdir(), "lectern-readme-"));
  for (const name of readdirSync(repoRoot)) {
    if ([".git", "lectern", "pb_data", "node_modules"].includes(name)) continue;
    symlinkSync(join(repoRoot, name), join(sandbox, name));
  }
  copyFileSync(binaryPath(), join(sandbox, "lectern"));
  chmodSync(join(sandbox, "lectern"), 0o755);
});
after(async () => {
  await server?.stop();
  stripe?.stop();
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

test("README.md has runnable examples", () => {
  assert.ok(progs.filter((p) => p.kind === "js" && !p.skip).length >= 5, "fewer than 5 JS programs run: did the parser break?");
  assert.ok(progs.filter((p) => p.kind === "sh" && !p.skip).length >= 2, "fewer than 2 shell blocks run: did the parser break?");
});

for (const p of progs) {
  const first = p.blocks[0];
  const lines = p.blocks.map((b) => b.line).join(", ");
  const title = first.code.split("\n").find((l) => l.trim() && !l.trim().startsWith("//") && !l.trim().startsWith("#")) || "";
  const name = `README.md:${lines} ${p.kind}: ${title.trim().slice(0, 70)}`;
  if (p.skip) {
    test(name, { skip: p.skip }, () => {});
    continue;
  }
  test(name, async () => {
    if (p.error) assert.fail(p.error);
    if (p.kind === "ts") {
      assert.fail(`README.md:${first.line}: a ts block cannot run here yet: write it as js, or mark it <!-- example: skip (reason) -->`);
    }
    const host = new URL(server.url).host;
    if (p.kind === "js") {
      const { text, origin } = jsProgram(p.blocks);
      const res = await run(process.execPath, ["--input-type=module", "--unhandled-rejections=strict", "-"], {
        cwd: join(repoRoot, "e2e"),
        input: text.replaceAll(README_URL, host),
        timeout: JS_TIMEOUT,
      });
      if (res.code !== 0) assert.fail(failure(p, res, listing(text, origin)));
      const missing = missingOutput(text, res.stdout);
      if (missing) assert.fail(failure(p, { ...res, why: `did not print ${JSON.stringify(missing)} (its "// prints:" comment)` }, listing(text, origin)));
    } else {
      const text = p.blocks[0].code;
      const bad = NEVER_RUN.exec(text);
      if (bad) {
        assert.fail(`README.md:${first.line}: runs "${bad[2]}", which this runner never does on a developer's machine: mark the block <!-- example: skip (reason) --> (and say what tests it instead)`);
      }
      // a new shell's environment: make test exports GOTOOLCHAIN, a reader's
      // shell may not (where Go's own default is "local", go then refuses go.mod)
      const env = { ...process.env };
      delete env.GOTOOLCHAIN;
      delete env.LECTERN_TRAFFIC_DIR;
      const res = await run("bash", ["-e", "-o", "pipefail", "-c", text.replaceAll(README_URL, host)], {
        cwd: sandbox,
        env,
        timeout: SH_TIMEOUT,
      });
      if (res.code !== 0) assert.fail(failure(p, res, listing(text, p.blocks[0].code.split("\n").map((_, i) => p.blocks[0].line + 1 + i))));
    }
  });
}

// jsProgram joins a program's blocks, with the prelude when the first block
// makes no client of its own; origin[i] is the README line of program line i.
function jsProgram(blocks) {
  const out = [];
  const origin = [];
  if (!/new PocketBase\(/.test(blocks[0].code)) {
    for (const l of PRELUDE) out.push(l), origin.push("prelude");
  }
  for (const b of blocks) {
    b.code.split("\n").forEach((l, i) => (out.push(l), origin.push(b.line + 1 + i)));
  }
  return { text: out.join("\n") + "\n", origin };
}

function listing(text, origin) {
  return text
    .split("\n")
    .map((l, i) => `${String(origin[i] ?? "").padStart(8)} | ${l}`)
    .join("\n");
}

function failure(p, res, list) {
  const hint = p.kind === "js" ? "a JS block must close what it opens, e.g. pb.realtime.unsubscribe()" : "a command that runs until stopped needs <!-- example: skip (reason) -->";
  const why = res.why ? res.why : res.timedOut ? `did not finish within ${res.timeout / 1000}s (killed; ${hint})` : `exited ${res.code}`;
  return `README.md:${p.blocks.map((b) => b.line).join(",")} (${p.kind}) ${why}\n--- the program (README line | code):\n${list}\n--- stdout:\n${res.stdout}\n--- stderr:\n${res.stderr}`;
}

// run starts a command in its own process group and kills the whole group on timeout.
function run(cmd, args, { cwd, env, input, timeout }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: env || process.env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, timeout);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr, timedOut, timeout });
    });
    child.stdin.end(input ?? "");
  });
}
