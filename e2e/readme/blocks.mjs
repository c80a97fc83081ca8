// Reads the code blocks of a Markdown file and the `<!-- example: … -->`
// annotations that say how e2e/readme/readme.test.mjs treats them.
//
// Runnable languages: js/javascript/mjs (Node), sh/bash/shell (bash), ts/typescript
// (refused until the runner can run them: a ts block must be skipped with a reason).
// Other languages (json, yaml, text…) are data or output, not run; a block
// without a language is refused (it might be a command nobody checks).
//
// An annotation is an HTML comment on the last non-blank line before the fence:
//   <!-- example: skip (why it cannot run here) -->   not run; the reason is required
//   <!-- example: continues -->                       JS only: runs as one program with
//                                                     the JS block before it (its variables)

export const RUNNABLE = {
  js: "js",
  javascript: "js",
  mjs: "js",
  sh: "sh",
  bash: "sh",
  shell: "sh",
  ts: "ts",
  typescript: "ts",
};

/**
 * parseBlocks returns every fenced block of markdown:
 * {line (1-based line of the opening fence), lang, kind ("js"|"sh"|"ts"|undefined),
 *  code, annotation: {skip?: reason, continues?: true} | null, error?: string}.
 */
export function parseBlocks(markdown) {
  const lines = markdown.split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j].trimStart().startsWith(fence) && lines[j].trim() === lines[j].trim().replace(/[^`~]/g, "")) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    const block = { line: i + 1, lang: lang.toLowerCase(), kind: RUNNABLE[lang.toLowerCase()], code: body.join("\n"), annotation: null };
    // the annotation: the last non-blank line before the fence
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === "") k--;
    const m = k >= 0 ? /^\s*<!--\s*example:\s*(.*?)\s*-->\s*$/.exec(lines[k]) : null;
    if (m) {
      const a = m[1];
      let sm;
      if (a === "continues") block.annotation = { continues: true };
      else if ((sm = /^skip\s*\((.+)\)$/.exec(a)) && sm[1].trim().length >= 10) block.annotation = { skip: sm[1].trim() };
      else if (/^skip\b/.test(a)) block.error = `line ${k + 1}: "skip" needs a reason of its own: <!-- example: skip (why it cannot run here) -->`;
      else block.error = `line ${k + 1}: unknown annotation "${a}" (known: "skip (reason)", "continues")`;
    }
    if (block.annotation?.continues && block.kind !== "js") block.error = `line ${k + 1}: "continues" applies to js blocks only`;
    blocks.push(block);
    i = j;
  }
  return blocks;
}

/**
 * programs groups the runnable blocks into what the runner executes, in README
 * order: a JS block and the blocks that continue it form one program.
 * Each program: {kind, blocks: [block…], skip?: reason}.
 */
export function programs(blocks) {
  const out = [];
  let lastJS = null;
  for (const b of blocks) {
    if (!b.kind && !b.lang) {
      // an unlabeled block could be a command nobody checks: say what it is
      out.push({ kind: "unlabeled", blocks: [b], error: `line ${b.line}: a code block without a language: label it sh or js (run) or text, json, yaml… (not run)` });
      continue;
    }
    if (!b.kind) continue;
    if (b.error) {
      out.push({ kind: b.kind, blocks: [b], error: b.error });
      continue;
    }
    if (b.annotation?.continues) {
      if (!lastJS) {
        out.push({ kind: b.kind, blocks: [b], error: `line ${b.line}: "continues" but there is no JS block before it` });
        continue;
      }
      if (lastJS.skip && !b.annotation.skip) {
        out.push({ kind: b.kind, blocks: [b], error: `line ${b.line}: continues a skipped block (line ${lastJS.blocks[0].line}): skip it too, with its reason` });
        continue;
      }
      lastJS.blocks.push(b);
      continue;
    }
    const p = { kind: b.kind, blocks: [b] };
    if (b.annotation?.skip) p.skip = b.annotation.skip;
    out.push(p);
    if (b.kind === "js") lastJS = p;
  }
  return out;
}

// missingOutput checks the program's "// prints: TEXT" comments: each TEXT must
// be a line of stdout, in the order the comments come. Returns the first one
// missing, or null.
export function missingOutput(program, stdout) {
  const want = [...program.matchAll(/\/\/\s*prints:\s*(.+?)\s*$/gm)].map((m) => m[1]);
  const got = stdout.split("\n").map((l) => l.trim());
  let at = 0;
  for (const w of want) {
    const i = got.indexOf(w, at);
    if (i < 0) return w;
    at = i + 1;
  }
  return null;
}
