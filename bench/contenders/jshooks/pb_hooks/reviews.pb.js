/// <reference path="../pb_data/types.d.ts" />

// The rating aggregate: every review write recomputes its course's ratingAvg
// and ratingCount in the same transaction.

onRecordCreate((e) => {
  const lib = require(`${__hooks}/lib.js`)
  lib.inTx(e, (txApp) => {
    e.next()
    lib.recountRating(txApp, e.record.getString("course"))
  })
}, "reviews")

onRecordUpdate((e) => {
  const lib = require(`${__hooks}/lib.js`)
  lib.inTx(e, (txApp) => {
    e.next()
    lib.recountRating(txApp, e.record.getString("course"))
  })
}, "reviews")

onRecordDelete((e) => {
  const lib = require(`${__hooks}/lib.js`)
  lib.inTx(e, (txApp) => {
    e.next()
    lib.recountRating(txApp, e.record.getString("course"))
  })
}, "reviews")
