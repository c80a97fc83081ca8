package realtime_test

import (
	"testing"

	"lectern/internal/testkit"
)

// fixture is the data dir every test app of this package clones.
var fixture *testkit.Fixture

func TestMain(m *testing.M) { testkit.Main(m, &fixture) }
