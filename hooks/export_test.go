package hooks

import (
	"os"

	"lectern/internal/authrules"
)

// LECTERN_GUARD_MUTATION=off unregisters the filter guard for this test
// binary: reliability.TestRuleMutations runs TestFilterLeaks so and expects
// it to fail. Unset, this file does nothing.
func init() {
	if os.Getenv("LECTERN_GUARD_MUTATION") == "off" {
		filterGuardOff = true
	}
}

// LECTERN_AUTHRULES_MUTATION=stale breaks internal/authrules' cache (keyed by
// the caller's id instead of the values the rule reads of them):
// reliability.TestRuleMutations runs the role-change tests so and expects
// them to fail. LECTERN_AUTHRULES_MUTATION=pin-or makes its pinned-rows
// rewrite take a term of an OR for a pin: the lessons rows of the
// authorization matrix must fail. LECTERN_AUTHRULES_MUTATION=answer-key
// leaves the caller out of its kept answers' key:
// TestAuthzPinnedPagesFollowWrites must fail.
func init() {
	switch os.Getenv("LECTERN_AUTHRULES_MUTATION") {
	case "stale":
		authrules.SetStaleMutation()
	case "pin-or":
		authrules.SetPinOrMutation()
	case "answer-key":
		authrules.SetAnswerKeyMutation()
	}
}
