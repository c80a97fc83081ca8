package hooks

// FieldPolicy is the exported, read-only view of which fields of a collection
// ignore client values, for the API reference (internal/apidocs) to mark them
// without keeping a second list that could drift from the guards.
type FieldPolicy struct {
	// Server fields are computed: a client value is ignored on create and update.
	Server []string
	// Fixed fields are chosen on create and never change: a client value is
	// ignored on update.
	Fixed []string
	// Owner is set from the signed-in user on create and never changes ("" if none).
	Owner string
}

// FieldPolicyOf returns the guard policy of a Lectern collection, and false for
// a collection the guards don't cover.
func FieldPolicyOf(collection string) (FieldPolicy, bool) {
	p, ok := policies[collection]
	if !ok {
		return FieldPolicy{}, false
	}
	return FieldPolicy{
		Server: append([]string(nil), p.server...),
		Fixed:  append([]string(nil), p.fixed...),
		Owner:  p.owner,
	}, true
}
