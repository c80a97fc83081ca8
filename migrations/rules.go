package migrations

// Rule fragments shared by the schema migrations. They are plain PocketBase
// filter expressions; keeping them named makes the rules in each migration read
// like the contract in DATA_MODEL.md ("the post's author or an admin").
//
// They are copied into each collection when its migration runs, so changing a
// constant here never alters an applied migration's result: a rule change gets
// its own migration.
const (
	ruleSignedIn  = `@request.auth.id != "" && @request.auth.collectionName = "users"`
	ruleAdmin     = `@request.auth.role = "admin"`
	rulePublished = `status = "published"`
)
