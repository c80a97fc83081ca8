// Correct use of the generated types: this file must type-check.
import PocketBase from "pocketbase";
import type {
  CommentsRecord,
  CoursesLevelOptions,
  PostsCreate,
  PostsRecord,
  PostsStatusOptions,
  SearchHitPicked,
  SearchParams,
  SearchResult,
  TypedPocketBase,
  UsersRecord,
} from "./generated/lectern-types";

// Type-level assertions, so a type that silently became `any` fails here.
type IsAny<T> = 0 extends 1 & T ? true : false;
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): void {}

const pb = new PocketBase("http://127.0.0.1:8090") as TypedPocketBase;

export async function blog(): Promise<void> {
  // typed getList with expand
  const page = await pb.collection("posts").getList(1, 20, {
    filter: pb.filter("status = {:s}", { s: "published" }),
    sort: "-publishedAt",
    expand: "author,topics",
  });
  const post = page.items[0];
  expectType<Equals<IsAny<typeof post>, false>>();
  expectType<Equals<typeof post, PostsRecord>>();
  // always-returned fields are required in responses (create/update inputs are other types)
  expectType<Equals<typeof post.status, PostsStatusOptions | "">>();
  expectType<Equals<typeof post.slug, string>>();
  expectType<Equals<typeof post.topics, string[]>>();
  expectType<Equals<typeof page.totalItems, number>>();
  const authorName: string | undefined = post.expand?.author?.name;
  const topicNames: string[] = (post.expand?.topics ?? []).map((t) => t.name);
  const replies: CommentsRecord[] | undefined = post.expand?.comments_via_post;
  expectType<Equals<NonNullable<typeof post.expand>["author"], UsersRecord | undefined>>();
  console.log(authorName, topicNames, replies?.length, post.commentsCount, post.collectionName === "posts");

  // narrowing on a select union
  if (post.status === "scheduled") {
    console.log("goes live at", post.publishedAt);
  }

  // one record, first match, full list
  const one = await pb.collection("posts").getOne(post.id, { expand: "author" });
  const bySlug = await pb.collection("posts").getFirstListItem(pb.filter("slug = {:s}", { s: "hello-lectern" }));
  const all = await pb.collection("comments").getFullList({ filter: pb.filter("post = {:p}", { p: one.id }), sort: "created" });
  expectType<Equals<typeof all, CommentsRecord[]>>();
  console.log(bySlug.title, all.length);

  // create input: required fields, select values, a file upload
  const input: PostsCreate = { title: "Typed posts", body: "<p>Hi</p>", status: "draft", topics: [] };
  const created = await pb.collection("posts").create(input);
  expectType<Equals<typeof created, PostsRecord>>();
  await pb.collection("posts").create({ title: "With a cover", cover: new Blob(["x"], { type: "image/png" }) });
  await pb.collection("posts").create(new FormData()); // multipart stays allowed

  // update input: any subset, list modifiers, server fields may not be written
  await pb.collection("posts").update(created.id, { status: "published" });
  await pb.collection("comments").create({ post: post.id, parent: all[0]?.id, body: "Thanks!" });
  await pb.collection("comments").update(all[0].id, { status: "hidden" });
}

export async function catalogue(lessonId: string): Promise<void> {
  const courses = await pb.collection("courses").getList(1, 20, { filter: 'mode = "hybrid"', sort: "-ratingAvg", expand: "instructor" });
  const course = courses.items[0];
  const level: CoursesLevelOptions | "" | undefined = course.level;
  const rating = `${course.ratingAvg ?? 0} (${course.ratingCount ?? 0})`;
  console.log(level, rating, course.expand?.instructor?.role);

  const enrollment = await pb.collection("enrollments").create({ course: course.id });
  await pb.collection("enrollments").update(enrollment.id, { "completedLessons+": lessonId });
  await pb.collection("enrollments").update(enrollment.id, { status: "cancelled" });
  await pb.collection("reviews").create({ course: course.id, rating: 5, body: "Great course" });

  // realtime events carry typed records
  await pb.collection("comments").subscribe("*", (e) => {
    const body: string = e.record.body;
    console.log(e.action, body);
  });
}

export async function accounts(email: string, password: string): Promise<void> {
  await pb.collection("users").create({ email, password, passwordConfirm: password, name: "Ada" });
  const auth = await pb.collection("users").authWithPassword(email, password);
  expectType<Equals<typeof auth.record, UsersRecord>>();
  const role: "student" | "author" | "instructor" | "admin" | "" | undefined = auth.record.role;
  await pb.collection("users").update(auth.record.id, { bio: "Hello", oldPassword: password, password: "n3w-Passw0rd", passwordConfirm: "n3w-Passw0rd" });
  console.log(role);

  // collections the generator does not know still work, untyped
  const other = await pb.collection("_superusers").getList(1, 1);
  console.log(other.items.length);
}

export async function searching(): Promise<void> {
  // GET /api/search: typed parameters, slim hits narrowed on their type
  const params = { q: "kubernetes", type: "courses", level: "beginner", perPage: 10 } satisfies SearchParams;
  const res = await pb.send<SearchResult>("/api/search", { query: params });
  expectType<Equals<typeof res.facets.level.beginner, number>>();
  const corrected: string | undefined = res.correctedQuery;
  for (const hit of res.items) {
    const marked: string = hit.snippet;
    if (hit.type === "courses") {
      const rating: number = hit.record.ratingAvg;
      const level: CoursesLevelOptions | "" = hit.record.level;
      console.log(rating, level);
    } else if (hit.type === "posts") {
      console.log(hit.record.slug, hit.record.excerpt, hit.record.publishedAt, hit.record.expand?.author?.name);
    } else {
      console.log(hit.record.course, hit.record.position);
    }
    console.log(marked, hit.score);
  }
  // with ?fields: only the keys asked for, from the full record
  const picked = await pb.send<SearchResult<SearchHitPicked>>("/api/search", { query: { q: "go", fields: "type,id,record.body" } satisfies SearchParams });
  const body: string | undefined = picked.items[0]?.type === "posts" ? picked.items[0].record?.body : undefined;
  console.log(corrected, body, res.facets.minRating["4.5"]);
}
