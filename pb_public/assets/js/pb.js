// The one SDK client of the site. The API is on the same origin as the site.
import PocketBase from "/vendor/pocketbase/pocketbase.es.mjs";

export const pb = new PocketBase(window.location.origin);

// The SDK cancels a pending request when an identical one starts; views load
// their data in parallel and may be re-rendered, so every request runs to the end
// and a view that is no longer current simply drops its result.
pb.autoCancellation(false);

/** The signed-in users record, or null (superuser tokens are not used by the site). */
export function currentUser() {
  const rec = pb.authStore.record;
  if (!pb.authStore.isValid || !rec || rec.collectionName !== "users") return null;
  return rec;
}
