// File uploads as a frontend sends them (multipart through the SDK): a post
// cover and a user avatar, made in code as real PNGs, then their thumbnails,
// checked by parsing the image header. Rate limits are relaxed (startWorld).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorld, rejects, pngFile, png, imageInfo, fetchImage } from "../lib/sdk.mjs";

let w, student, author, admin;
before(async () => {
  w = await startWorld();
  [student, author, admin] = [await w.user("student"), await w.user("author"), await w.user("admin")];
});
after(async () => {
  await w?.stop();
});

test("the PNG helper makes images the parser reads back", () => {
  assert.deepEqual(imageInfo(png(7, 5)), { type: "png", width: 7, height: 5 });
  // a minimal baseline JPEG header: SOI, APP0, SOF0 (height 2, width 3)
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x02, 0x00, 0x03, 0x01, 0x01, 0x11, 0x00]);
  assert.deepEqual(imageInfo(jpeg), { type: "jpeg", width: 3, height: 2 });
  assert.equal(imageInfo(Buffer.from("not an image")), null);
});

test("post cover: multipart upload, then 640x360 and 1280x720 thumbs", async () => {
  const post = await author.pb.collection("posts").create({
    title: "With a cover",
    status: "published",
    cover: pngFile(1600, 1000, "cover.png"),
  });
  assert.match(post.cover, /^cover\w*\.png$/);

  const guest = w.guest();
  const seen = await guest.collection("posts").getOne(post.id);
  const original = await fetchImage(guest.files.getURL(seen, seen.cover));
  assert.equal(original.status, 200);
  assert.match(original.contentType, /^image\/png/);
  assert.deepEqual(original.info, { type: "png", width: 1600, height: 1000 });

  for (const [thumb, width, height] of [
    ["640x360", 640, 360],
    ["1280x720", 1280, 720],
  ]) {
    const img = await fetchImage(guest.files.getURL(seen, seen.cover, { thumb }));
    assert.equal(img.status, 200, thumb);
    assert.match(img.contentType, /^image\//, thumb);
    assert.ok(img.info, `${thumb} is not a PNG/JPEG`);
    assert.deepEqual([img.info.width, img.info.height], [width, height], thumb);
  }

  // replacing the cover with an update, also multipart
  const updated = await author.pb.collection("posts").update(post.id, { cover: pngFile(800, 450, "second.png") });
  assert.notEqual(updated.cover, post.cover);
  assert.match(updated.cover, /^second\w*\.png$/);
  const thumb = await fetchImage(guest.files.getURL(updated, updated.cover, { thumb: "640x360" }));
  assert.deepEqual([thumb.info.width, thumb.info.height], [640, 360]);
  const gone = await fetch(guest.files.getURL(post, post.cover));
  assert.equal(gone.status, 404, "the replaced file is deleted");

  // a published cover is public and cacheable by anyone
  const pub = await fetch(guest.files.getURL(updated, updated.cover));
  assert.equal(pub.status, 200);
  assert.match(pub.headers.get("cache-control"), /max-age=\d+/);
  assert.doesNotMatch(pub.headers.get("cache-control"), /private|no-store/);
});

test("draft cover: only for who may view the draft, through a file token in an <img> URL", async () => {
  const draft = await author.pb.collection("posts").create({ title: "Draft cover", cover: pngFile(1600, 1000, "d.png") });
  const guest = w.guest();
  await rejects(guest.collection("posts").getOne(draft.id), 404);
  const missing = await fetch(guest.files.getURL(draft, "nope_0123456789.png"));
  assert.equal(missing.status, 404);
  const missingBody = await missing.text();

  // The URL alone (what leaks by a copy-paste or a Referer) opens nothing,
  // for the original or a thumb, not even for another signed-in author.
  const other = await w.user("author");
  const otherToken = await other.pb.files.getToken();
  for (const [who, pb, token] of [
    ["guest", guest, undefined],
    ["the author without a token", author.pb, undefined],
    ["another author with his own token", other.pb, otherToken],
    ["a student with his own token", student.pb, await student.pb.files.getToken()],
  ]) {
    for (const thumb of [undefined, "640x360"]) {
      const res = await fetch(pb.files.getURL(draft, draft.cover, { thumb, token }));
      assert.equal(res.status, 404, `${who}, thumb ${thumb}`);
      assert.equal(await res.text(), missingBody, `${who}: the same 404 as a missing file`);
    }
  }

  // The author's editor shows the cover with <img src> (no Authorization
  // header): a file token from getToken() in the URL, never shared-cacheable.
  const token = await author.pb.files.getToken();
  const original = await fetch(author.pb.files.getURL(draft, draft.cover, { token }));
  assert.equal(original.status, 200);
  assert.match(original.headers.get("cache-control"), /private/);
  assert.match(original.headers.get("cache-control"), /no-store/);
  assert.deepEqual(imageInfo(Buffer.from(await original.arrayBuffer())), { type: "png", width: 1600, height: 1000 });
  const thumb = await fetchImage(author.pb.files.getURL(draft, draft.cover, { thumb: "640x360", token }));
  assert.equal(thumb.status, 200);
  assert.deepEqual([thumb.info?.width, thumb.info?.height], [640, 360]);

  // an admin (moderation) may view the draft, so sees its cover
  const adminToken = await admin.pb.files.getToken();
  assert.equal((await fetch(admin.pb.files.getURL(draft, draft.cover, { token: adminToken }))).status, 200);

  // published: public for everyone, and shareable-cacheable again
  const published = await author.pb.collection("posts").update(draft.id, { status: "published" });
  const open = await fetch(guest.files.getURL(published, published.cover, { thumb: "640x360" }));
  assert.equal(open.status, 200);
  assert.doesNotMatch(open.headers.get("cache-control"), /private|no-store/);
});

test("user avatar: multipart upload, then the 100x100 thumb, also through expand=author", async () => {
  const me = await student.pb.collection("users").update(student.id, { avatar: pngFile(300, 200, "me.png") });
  assert.match(me.avatar, /^me\w*\.png$/);

  const guest = w.guest();
  const profile = await guest.collection("users").getOne(student.id);
  const thumb = await fetchImage(guest.files.getURL(profile, profile.avatar, { thumb: "100x100" }));
  assert.equal(thumb.status, 200);
  assert.deepEqual([thumb.info?.width, thumb.info?.height], [100, 100]);

  // a post author's avatar, as the blog renders it from expand
  await author.pb.collection("users").update(author.id, { avatar: pngFile(120, 160, "a.png") });
  const post = await author.pb.collection("posts").create({ title: "Avatar via expand", status: "published" });
  const seen = await guest.collection("posts").getOne(post.id, { expand: "author" });
  const a = seen.expand.author;
  const img = await fetchImage(guest.files.getURL(a, a.avatar, { thumb: "100x100" }));
  assert.deepEqual([img.info?.width, img.info?.height], [100, 100]);

  // another user cannot change it; removing it is an update with null
  await rejects(author.pb.collection("users").update(student.id, { avatar: pngFile(10, 10) }), 404);
  const cleared = await student.pb.collection("users").update(student.id, { avatar: null });
  assert.equal(cleared.avatar, "");
});

test("uploads are validated: not an image, or too big, is a 400 on the field", async () => {
  const text = new File([Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")], "x.svg", { type: "image/svg+xml" });
  await rejects(student.pb.collection("users").update(student.id, { avatar: text }), 400, { avatar: null });
  const plain = new File([Buffer.from("hello")], "x.png", { type: "image/png" });
  await rejects(author.pb.collection("posts").create({ title: "Bad cover", cover: plain }), 400, { cover: null });
  const big = new File([Buffer.concat([png(8, 8), Buffer.alloc(5 * 1024 * 1024)])], "big.png", { type: "image/png" });
  await rejects(admin.pb.collection("users").update(admin.id, { avatar: big }), 400, { avatar: null });
});
