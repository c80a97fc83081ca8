package hooks

import "os"

// LECTERN_GUARD_MUTATION=off unregisters the filter guard for this test
// binary: reliability.TestRuleMutations runs TestFilterLeaks so and expects
// it to fail. Unset, this file does nothing.
func init() {
	if os.Getenv("LECTERN_GUARD_MUTATION") == "off" {
		filterGuardOff = true
	}
}
