// Wrong use of the generated types: every line marked "expect-error" must be a
// type error, and no other line may be one. check.mjs enforces both.
import PocketBase from "pocketbase";
import type { CoursesRecord, PostsCreate, SearchParams, SearchResult, TypedPocketBase } from "./generated/lectern-types";

const pb = new PocketBase("http://127.0.0.1:8090") as TypedPocketBase;

export async function mistakes(id: string): Promise<void> {
  await pb.collection("posts").create({ title: "Live now", status: "live" }); // expect-error: "live" is not a post status
  await pb.collection("posts").create({ title: "Popular", commentsCount: 99 }); // expect-error: commentsCount is server-set
  const input: PostsCreate = { title: "Mine", author: "someoneelse0001" }; // expect-error: author is the signed-in user, set by the server
  await pb.collection("posts").create({ status: "draft" }); // expect-error: title is required
  await pb.collection("comments").update(id, { post: "anotherpost0001" }); // expect-error: post never changes after create
  await pb.collection("enrollments").update(id, { progress: 100 }); // expect-error: progress is server-set
  await pb.collection("users").create({ email: "a@b.c", password: "x", passwordConfirm: "x", name: "A", verified: true }); // expect-error: verified is not a client field
  const level: CoursesRecord["level"] = "expert"; // expect-error: not a course level
  const post = await pb.collection("posts").getOne(id, { expand: "author" });
  const n: number | undefined = post.expand?.author?.name; // expect-error: an author's name is a string
  const rating: string = (await pb.collection("courses").getOne(id)).ratingAvg; // expect-error: ratingAvg is a number
  console.log(input, level, n, rating);
}

export async function searchMistakes(): Promise<void> {
  const bad = { q: "go", type: "users" } satisfies SearchParams; // expect-error: users are not searched
  const level = { q: "go", level: "expert" } satisfies SearchParams; // expect-error: not a course level
  const res = await pb.send<SearchResult>("/api/search", { query: { q: "go" } });
  const hit = res.items[0];
  const rating: number = hit.record.ratingAvg; // expect-error: only a course hit has a rating; narrow on hit.type first
  if (hit.type === "posts") {
    const body: string = hit.record.body; // expect-error: a slim hit has no body; ask with ?fields=record.body
    console.log(body);
  }
  console.log(bad, level, rating);
}
