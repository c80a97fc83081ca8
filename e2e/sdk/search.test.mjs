// GET /api/search from the JS SDK (README "Search"): slim hits by default,
// fields picking each hit's keys, bad parameters as 400s naming them, and a
// typo corrected to the nearest spelling rather than the most frequent stem.
// The traffic is checked against /api/openapi.json like every SDK exchange.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects } from "../lib/sdk.mjs";

let w, author, guest, running, draft;
const rules = [];
before(async () => {
  w = await startWorld();
  author = await w.user("author");
  guest = w.guest();
  running = await author.pb.collection("posts").create({
    title: "Running a zettelkasten", body: "<p>Notes on running a zettelkasten, with links between the notes.</p>", status: "published",
  });
  // "rules" is far more frequent than "running": by stems "runing" (rune) is
  // as near to rule as to run
  for (let i = 0; i < 4; i++) {
    rules.push(await author.pb.collection("posts").create({ title: `House rules ${i}`, body: "<p>The rules of the house.</p>", status: "published" }));
  }
  draft = await author.pb.collection("posts").create({
    title: "Zettelkasten draft", body: "<p>A zettelkasten secret.</p>", status: "draft",
  });
});
after(async () => {
  await w?.stop();
});

test("a hit is slim by default: what a results page shows, no body", async () => {
  const res = await guest.send("/api/search", { query: { q: "zettelkasten" } });
  assert.equal(res.totalItems, 1, "the draft is not found by a guest");
  const [hit] = res.items;
  assert.deepEqual(Object.keys(hit).sort(), ["id", "record", "score", "snippet", "type"]);
  assert.equal(hit.id, running.id);
  assert.equal(hit.record.title, running.title);
  assert.equal(hit.record.slug, running.slug);
  assert.ok(hit.record.excerpt);
  assert.equal(hit.record.body, undefined, "no body in a slim hit");
  assert.match(hit.snippet, /<mark>zettelkasten<\/mark>/i);
});

test("fields picks each hit's keys, as the records API picks a record's", async () => {
  const three = await guest.send("/api/search", { query: { q: "zettelkasten", fields: "type,id,snippet" } });
  assert.deepEqual(Object.keys(three.items[0]).sort(), ["id", "snippet", "type"]);
  assert.equal(three.totalItems, 1, "totals are not picked away");

  const full = await guest.send("/api/search", { query: { q: "zettelkasten", fields: "*" } });
  assert.match(full.items[0].record.body, /links between the notes/);

  const some = await guest.send("/api/search", { query: { q: "zettelkasten", fields: "id,record.title,record.body:excerpt(10)" } });
  assert.deepEqual(Object.keys(some.items[0].record).sort(), ["body", "title"]);
  assert.ok(some.items[0].record.body.length <= 11);

  // the author sees the draft, still slim
  const mine = await author.pb.send("/api/search", { query: { q: "zettelkasten" } });
  assert.deepEqual(mine.items.map((h) => h.id).sort(), [running.id, draft.id].sort());
});

test("bad parameters are 400s naming them", async () => {
  await rejects(guest.send("/api/search", { query: { q: "rules", perPage: 101 } }), 400, { perPage: "validation_invalid_per_page" });
  await rejects(guest.send("/api/search", { query: { q: "rules", page: 0 } }), 400, { page: "validation_invalid_page" });
  await rejects(guest.send("/api/search", { query: { q: "rules", fields: "title" } }), 400, { fields: "validation_invalid_fields" });
  await rejects(guest.send("/api/search", { query: { q: "rules", type: "users" } }), 400, { type: "validation_invalid_type" });
  const max = await guest.send("/api/search", { query: { q: "rules", perPage: 100 } });
  assert.equal(max.perPage, 100);
});

test("'runing' is corrected to running, not to the more frequent rules", async () => {
  const res = await guest.send("/api/search", { query: { q: "runing" } });
  assert.equal(res.correctedQuery, "running");
  const ids = res.items.map((h) => h.id);
  assert.ok(ids.includes(running.id), "the post about running is found");
  for (const r of rules) assert.ok(!ids.includes(r.id), "no post about rules");
});
