/// <reference path="../pb_data/types.d.ts" />

// The comment counter: every comment write recounts its post's visible
// comments in the same transaction.

onRecordCreate((e) => {
  const lib = require(`${__hooks}/lib.js`)
  lib.inTx(e, (txApp) => {
    if (!e.record.getString("status")) e.record.set("status", "visible")
    e.next()
    lib.recountComments(txApp, e.record.getString("post"))
  })
}, "comments")

onRecordUpdate((e) => {
  const lib = require(`${__hooks}/lib.js`)
  lib.inTx(e, (txApp) => {
    e.next()
    lib.recountComments(txApp, e.record.getString("post"))
  })
}, "comments")

onRecordDelete((e) => {
  const lib = require(`${__hooks}/lib.js`)
  lib.inTx(e, (txApp) => {
    e.next()
    lib.recountComments(txApp, e.record.getString("post"))
  })
}, "comments")
