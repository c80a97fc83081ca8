// Helpers shared by the *.pb.js hooks. PocketBase runs each hook handler in a
// pooled VM of its own, so a handler reaches shared code through require().

// inTx runs fn(txApp) in one transaction with e.app switched to it, so the
// record write done by e.next() and the derived writes commit or roll back
// together; e.app is restored afterwards so the after-success hooks (realtime)
// don't run against the finished transaction.
function inTx(e, fn) {
  const orig = e.app
  try {
    orig.runInTransaction((txApp) => {
      e.app = txApp
      fn(txApp)
    })
  } finally {
    e.app = orig
  }
}

// recountComments stores the number of visible comments of a post on it.
function recountComments(app, postId) {
  if (!postId) return
  let post
  try {
    post = app.findRecordById("posts", postId)
  } catch (_) {
    return // deleted in this transaction (a cascade)
  }
  const row = new DynamicModel({ n: 0 })
  app.db()
    .newQuery("SELECT COUNT(*) AS n FROM comments WHERE post = {:p} AND status = 'visible'")
    .bind({ p: postId })
    .one(row)
  post.set("commentsCount", row.n)
  app.save(post)
}

// recountRating stores a course's review count and mean rating (rounded half
// up to one decimal, 0 without reviews) on it.
function recountRating(app, courseId) {
  if (!courseId) return
  let course
  try {
    course = app.findRecordById("courses", courseId)
  } catch (_) {
    return
  }
  const row = new DynamicModel({ s: 0, c: 0 })
  app.db()
    .newQuery("SELECT COALESCE(SUM(rating), 0) AS s, COUNT(*) AS c FROM reviews WHERE course = {:c}")
    .bind({ c: courseId })
    .one(row)
  course.set("ratingCount", row.c)
  course.set("ratingAvg", row.c > 0 ? Math.floor((row.s * 20 + row.c) / (2 * row.c)) / 10 : 0)
  app.save(course)
}

// slugify lowercases, drops diacritics and joins the a-z0-9 words with "-".
function slugify(s) {
  const out = String(s || "")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80)
    .replace(/-+$/g, "")
  return out
}

// assignSlug sets a free slug derived from the title when the record has none.
function assignSlug(app, record, fallback) {
  if (record.getString("slug")) return
  const base = slugify(record.getString("title")) || fallback
  let candidate = base
  for (let n = 2; ; n++) {
    try {
      app.findFirstRecordByFilter(record.collection().name, "slug = {:s} && id != {:id}", { s: candidate, id: record.id })
    } catch (_) {
      break // not found: free
    }
    candidate = base + "-" + n
  }
  record.set("slug", candidate)
}

module.exports = { inTx, recountComments, recountRating, assignSlug }
