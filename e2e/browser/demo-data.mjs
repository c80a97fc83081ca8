// A small, realistic data set made through the public API (as the site's users
// would make it): topics, posts with comments, courses with lessons, enrollments
// and reviews, for trying the demo site by hand (the README screenshot shows
// `lectern seed`'s data instead: screenshot.mjs):
//
//   make build && cd e2e && node browser/demo-data.mjs      # prints the URL and logins, Ctrl-C stops
//
// It does not use `lectern seed`: the browser suite makes its data through the API.
import { pathToFileURL } from "node:url";
import { startSite, coverFile } from "./helpers.mjs";

const TOPICS = [
  ["Go", "The Go language and its ecosystem."],
  ["JavaScript", "Node.js, browsers and the web platform."],
  ["Databases", "SQL, SQLite, PostgreSQL and data modelling."],
  ["DevOps", "Deploying and running software."],
];

const POSTS = [
  {
    title: "Shipping a whole backend as one Go binary",
    topics: ["Go", "DevOps"],
    body: `<p>One file to copy, one process to run, one directory to back up. Here is how we package Lectern and why a single binary keeps operations boring.</p>
<h2>Embed everything</h2><p>Migrations, hooks and the public site are compiled in with <code>go:embed</code>.</p>
<pre><code class="language-go">//go:embed all:pb_public
var publicFiles embed.FS</code></pre>
<p>Upgrades are a file swap and a restart.</p>`,
    comments: [["Nice write-up! How do you handle backups?", [["Scheduled backups in the dashboard, copied to S3.", []]]], ["Single binaries are underrated.", []]],
  },
  {
    title: "Realtime comments with Server-Sent Events",
    topics: ["JavaScript"],
    body: `<p>EventSource is the quiet workhorse of the web platform: a plain HTTP response that never ends. Subscribing to a record collection takes three lines with the JS SDK.</p>
<pre><code class="language-js">pb.collection("comments").subscribe("*", (e) =&gt; render(e.record));</code></pre>
<p>Each event passes the same view rule as a normal request, so nobody sees a hidden comment.</p>`,
    comments: [["Does this work behind nginx?", [["Yes, turn proxy buffering off for /api/realtime.", []]]]],
  },
  {
    title: "SQLite is enough for your side project (and maybe more)",
    topics: ["Databases"],
    body: `<p>WAL mode, a single writer and careful indexes carry a surprising amount of traffic. We measured a few thousand reads per second on a small VPS.</p><ul><li>Keep transactions short.</li><li>Index the columns you filter on.</li><li>Back up with the online backup API.</li></ul>`,
    comments: [["What about write-heavy workloads?", []]],
  },
  {
    title: "Accessible forms without a framework",
    topics: ["JavaScript"],
    body: `<p>Labels, <code>aria-describedby</code> for errors and a live region for status messages get you most of the way. Then test with a keyboard.</p>`,
    comments: [],
  },
  {
    title: "Zero-downtime deploys with systemd socket activation",
    topics: ["DevOps"],
    body: `<p>systemd can hold the listening socket while the new process starts. Combined with a health check, a deploy becomes invisible to users.</p>`,
    comments: [["Great tip, thanks!", []]],
  },
  {
    title: "Five Go testing habits that pay off",
    topics: ["Go"],
    body: `<p>Table tests, <code>t.Parallel()</code>, fuzzing the parsers, golden files and a race-detector run in CI. Each one caught a real bug for us this year.</p>`,
    comments: [],
  },
];

const COURSES = [
  {
    title: "Node.JS", summary: "From your first script to a production API, with an on-site week to pair on real code.",
    durationDays: 45, mode: "hybrid", level: "beginner", price: 99.5, currency: "USD", topics: ["JavaScript"],
    lessons: [["Installing Node and npm", true], ["Modules and packages", true], ["Async and the event loop", false], ["Building an HTTP API", false]],
    ratings: [5, 5, 4, 5, 5, 4, 5],
  },
  {
    title: "Go for Backend Developers", summary: "Write, test and deploy services in Go.",
    durationDays: 30, mode: "online", level: "intermediate", price: 149, currency: "USD", topics: ["Go"],
    lessons: [["Tour of the language", true], ["Testing", false], ["HTTP servers", false]],
    ratings: [5, 4, 4, 5, 4],
  },
  {
    title: "PostgreSQL in Production", summary: "Tuning, backups, replication and incident drills in our lab.",
    durationDays: 5, mode: "onsite", level: "advanced", price: 890, currency: "EUR", topics: ["Databases", "DevOps"],
    lessons: [["Reading EXPLAIN", true], ["Backups that restore", false]],
    ratings: [5, 4, 4],
  },
  {
    title: "Intro to Web Accessibility", summary: "Make every page usable with a keyboard and a screen reader.",
    durationDays: 14, mode: "online", level: "beginner", price: 0, currency: "USD", topics: ["JavaScript"],
    lessons: [["Why accessibility", true], ["Semantic HTML", true]],
    ratings: [],
  },
];

// cover gradients per post (none for some: cards without a cover must look fine too)
const COVERS = [null, [[247, 223, 30], [180, 83, 9]], [[51, 103, 145], [20, 160, 120]], null, [[90, 90, 120], [200, 60, 90]], [[0, 173, 216], [59, 61, 191]]];

const NAMES = ["Ana Souza", "Ben Okafor", "Chen Wei", "Dana Levi", "Emil Novak", "Fatima Zahra", "Gus Lindqvist"];

/** createDemoData fills a site started with startSite({relaxRateLimits: true}). */
export async function createDemoData(site) {
  const topicIds = {};
  for (const [name, description] of TOPICS) {
    topicIds[name] = (await site.su.collection("topics").create({ name, description })).id;
  }
  const author = await site.user("author", { name: "Ada Park", bio: "Writes about Go, SQLite and shipping small." });
  const instructor = await site.user("instructor", { name: "Marco Rossi", bio: "Teaches backend development." });
  const students = [];
  for (const name of NAMES) students.push(await site.user("student", { name }));

  const posts = [];
  for (const [i, p] of POSTS.entries()) {
    const writer = i % 3 === 2 ? instructor : author;
    const post = await writer.pb.collection("posts").create({
      title: p.title, body: p.body, status: "published", topics: p.topics.map((t) => topicIds[t]),
      ...(COVERS[i] ? { cover: coverFile(...COVERS[i]) } : {}),
    });
    posts.push(post);
    let k = 0;
    const addComments = async (list, parent) => {
      for (const [body, replies] of list) {
        const who = students[k++ % students.length];
        const c = await who.pb.collection("comments").create({ post: post.id, body, ...(parent ? { parent } : {}) });
        await addComments(replies, c.id);
      }
    };
    await addComments(p.comments, null);
  }

  const courses = [];
  for (const c of COURSES) {
    const course = await instructor.pb.collection("courses").create({
      title: c.title, summary: c.summary, durationDays: c.durationDays, mode: c.mode, level: c.level,
      price: c.price, currency: c.currency, status: "published", topics: c.topics.map((t) => topicIds[t]),
      description: `<p>${c.summary}</p><p>Includes exercises, a final project and a certificate.</p>`,
    });
    courses.push(course);
    for (const [i, [title, freePreview]] of c.lessons.entries()) {
      await instructor.pb.collection("lessons").create({
        course: course.id, title, position: i + 1, freePreview, durationMinutes: 15 + 5 * i,
        body: `<p>${title}: notes and exercises.</p>`,
      });
    }
    for (const [i, rating] of c.ratings.entries()) {
      const s = students[i % students.length];
      // paid courses are bought, not joined: the superuser enrolls the demo students
      await site.su.collection("enrollments").create({ course: course.id, user: s.id });
      await s.pb.collection("reviews").create({ course: course.id, rating, body: rating >= 5 ? "Excellent, clear and practical." : "Good course, a bit fast in places." });
    }
  }
  return { topicIds, author, instructor, students, posts, courses };
}

// Run directly: start a site with the demo data and keep it up until Ctrl-C.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const site = await startSite({ relaxRateLimits: true });
  const data = await createDemoData(site);
  console.log(`Lectern demo site: ${site.url}/  (dashboard ${site.url}/_/ as ${site.superuser.email} / ${site.superuser.password})`);
  console.log(`author: ${data.author.email} / ${data.author.password}`);
  console.log(`student: ${data.students[0].email} / ${data.students[0].password}`);
  const stop = async () => {
    await site.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
