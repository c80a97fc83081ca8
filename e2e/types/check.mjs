// Checks the TypeScript types `lectern types` generates against the real
// PocketBase JS SDK: good.ts (correct use) must type-check, and bad.ts must
// fail exactly on its lines marked "expect-error" (a wrong select value, a
// server-set field in a create input, ...).
//
//   cd e2e/types && npm ci && node check.mjs /path/to/lectern
//
// The binary may also come from $LECTERN_BIN. Exit code 0 when both hold.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.argv[2] || process.env.LECTERN_BIN;
if (!bin) {
  console.error("usage: node check.mjs /path/to/lectern   (or LECTERN_BIN=/path/to/lectern)");
  process.exit(2);
}

const failures = [];
let passed = 0;
const pass = (msg) => { passed++; console.log(`ok - ${msg}`); };
const fail = (msg) => { failures.push(msg); console.log(`not ok - ${msg}`); };

// 1. generate the types from a fresh data dir (the binary applies the migrations)
const dataDir = mkdtempSync(join(tmpdir(), "lectern-types-"));
const out = join(here, "generated", "lectern-types.d.ts");
mkdirSync(dirname(out), { recursive: true });
try {
  const gen = spawnSync(resolve(bin), ["types", "--dir", join(dataDir, "pb_data"), "--out", out, "--dev=false"], { encoding: "utf8" });
  if (gen.status !== 0) {
    console.error(gen.stdout, gen.stderr);
    fail(`lectern types exited with ${gen.status ?? gen.signal}`);
    finish();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
pass(`generated ${out} (${readFileSync(out, "utf8").split("\n").length} lines)`);

// 2. run tsc on one file with the shared compiler options
function tsc(file) {
  const config = join(here, "generated", `tsconfig.${file}.json`);
  writeFileSync(config, JSON.stringify({ extends: "../tsconfig.json", files: [`../${file}`] }, null, 2));
  const r = spawnSync(join(here, "node_modules", ".bin", "tsc"), ["-p", config, "--pretty", "false"], { encoding: "utf8", cwd: here });
  if (r.error) throw r.error;
  const errors = [];
  for (const line of (r.stdout + r.stderr).split("\n")) {
    const m = line.match(/^(.*?)\((\d+),(\d+)\): error (TS\d+): (.*)$/);
    if (m) errors.push({ file: m[1], line: Number(m[2]), code: m[4], text: m[5] });
  }
  return { status: r.status, errors, output: (r.stdout + r.stderr).trim() };
}

const good = tsc("good.ts");
if (good.status === 0) {
  pass("good.ts type-checks");
} else {
  console.log(good.output);
  fail(`good.ts must type-check (tsc exited ${good.status})`);
}

const bad = tsc("bad.ts");
const expected = new Map();
readFileSync(join(here, "bad.ts"), "utf8").split("\n").forEach((text, i) => {
  const m = text.match(/\/\/ expect-error: (.*)$/);
  if (m) expected.set(i + 1, m[1]);
});
if (bad.status === 0) fail("bad.ts must not type-check");
else pass(`bad.ts fails to type-check (${bad.errors.length} errors)`);
for (const [line, why] of expected) {
  const hit = bad.errors.find((e) => e.file.endsWith("bad.ts") && e.line === line);
  if (hit) pass(`bad.ts:${line} refused (${why}): ${hit.code} ${hit.text.slice(0, 100)}`);
  else fail(`bad.ts:${line} should be a type error (${why})`);
}
for (const e of bad.errors) {
  if (!e.file.endsWith("bad.ts") || !expected.has(e.line)) {
    fail(`unexpected error ${e.file}:${e.line} ${e.code} ${e.text}`);
  }
}
finish();

function finish() {
  console.log(`${passed} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}
