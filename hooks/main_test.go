package hooks_test

import (
	"fmt"
	"os"
	"testing"

	"lectern/internal/testkit"
)

// fixture is the data dir every API scenario in this package clones.
var fixture *testkit.Fixture

func TestMain(m *testing.M) {
	f, err := testkit.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build fixture:", err)
		os.Exit(1)
	}
	fixture = f
	code := m.Run()
	os.RemoveAll(fixture.Dir)
	os.Exit(code)
}
