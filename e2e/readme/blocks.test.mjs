// The README runner's own rules: what counts as runnable, how annotations
// group and skip blocks, and which annotations are refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBlocks, programs, missingOutput } from "./blocks.mjs";

const md = `
# Title

\`\`\`js
const a = 1;
\`\`\`

<!-- example: continues -->
\`\`\`js
console.log(a);
\`\`\`

<!-- example: skip (starts a server that runs until stopped) -->

\`\`\`sh
make serve
\`\`\`

\`\`\`json
{"not": "run"}
\`\`\`

<!-- example: skip -->
\`\`\`bash
echo no reason
\`\`\`

<!-- example: maybe -->
\`\`\`sh
echo unknown
\`\`\`

\`\`\`ts
const t: number = 1;
\`\`\`
`;

test("blocks: languages, lines and annotations", () => {
  const b = parseBlocks(md);
  assert.deepEqual(
    b.map((x) => [x.line, x.lang, x.kind ?? null]),
    [
      [4, "js", "js"],
      [9, "js", "js"],
      [15, "sh", "sh"],
      [19, "json", null],
      [24, "bash", "sh"],
      [29, "sh", "sh"],
      [33, "ts", "ts"],
    ],
  );
  assert.deepEqual(b[1].annotation, { continues: true });
  assert.deepEqual(b[2].annotation, { skip: "starts a server that runs until stopped" });
  assert.match(b[4].error, /needs a reason/);
  assert.match(b[5].error, /unknown annotation "maybe"/);
});

test("programs: a continued JS block joins the one before; errors and skips are kept", () => {
  const p = programs(parseBlocks(md));
  assert.deepEqual(
    p.map((x) => [x.kind, x.blocks.map((b) => b.line), x.skip ?? null, x.error ? "error" : null]),
    [
      ["js", [4, 9], null, null],
      ["sh", [15], "starts a server that runs until stopped", null],
      ["sh", [24], null, "error"],
      ["sh", [29], null, "error"],
      ["ts", [33], null, null],
    ],
  );
});

test("programs: continues needs a JS block before it, and a skipped one stays skipped", () => {
  const first = programs(parseBlocks("<!-- example: continues -->\n```js\nx\n```\n"));
  assert.match(first[0].error, /no JS block before it/);
  const skipped = programs(parseBlocks("<!-- example: skip (needs a Stripe account) -->\n```js\nx\n```\n<!-- example: continues -->\n```js\ny\n```\n"));
  assert.match(skipped[1].error, /continues a skipped block/);
});

test("missingOutput: every // prints: line, in order", () => {
  const prog = 'console.log(1); // prints: 1\nconsole.log("a b"); // prints: a b\n';
  assert.equal(missingOutput(prog, "1\na b\n"), null);
  assert.equal(missingOutput(prog, "a b\n1\n"), "a b");
  assert.equal(missingOutput(prog, "1\n"), "a b");
  assert.equal(missingOutput("no comment", ""), null);
});

test("programs: a block without a language is refused", () => {
  const p = programs(parseBlocks("```\nmake serve\n```\n```text\noutput\n```\n"));
  assert.equal(p.length, 1);
  assert.match(p[0].error, /without a language/);
});
