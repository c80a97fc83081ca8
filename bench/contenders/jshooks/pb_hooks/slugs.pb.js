/// <reference path="../pb_data/types.d.ts" />

// Slugs: a post or course without one gets one derived from its title at
// create, with -2, -3… on collision.

onRecordCreate((e) => {
  const lib = require(`${__hooks}/lib.js`)
  lib.assignSlug(e.app, e.record, e.record.collection().name === "posts" ? "post" : "course")
  e.next()
}, "posts", "courses")
