package startup_test

import (
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/startup"
)

func TestAddressMessages(t *testing.T) {
	err := startup.CheckAddress("http", "8095")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use --http 127.0.0.1:8095")
	assert.NotContains(t, err.Error(), "missing port")
	assert.ErrorContains(t, startup.CheckAddress("https", "example.com"), "--https \"example.com\" is not host:port")
	for _, ok := range []string{"127.0.0.1:8095", ":8090", "0.0.0.0:80", "[::1]:8090"} {
		assert.NoError(t, startup.CheckAddress("http", ok), ok)
	}
}

func TestEncryptionKeyMessage(t *testing.T) {
	err := startup.CheckEncryptionKey("PB_KEY", "short")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be exactly 32 characters")
	assert.Contains(t, err.Error(), "this one has 5")
	assert.NoError(t, startup.CheckEncryptionKey("PB_KEY", ""))
	assert.NoError(t, startup.CheckEncryptionKey("PB_KEY", strings.Repeat("k", 32)))
}

// the check runs as a pre-run of every command, so `serve --http=8095` stops
// with the message before PocketBase tries to listen
func TestServeFlagChecked(t *testing.T) {
	root := &cobra.Command{Use: "lectern"}
	var ran bool
	serve := &cobra.Command{Use: "serve", RunE: func(*cobra.Command, []string) error { ran = true; return nil }}
	serve.Flags().String("http", "", "")
	root.AddCommand(serve)
	startup.Register(newApp(t), root)

	root.SetArgs([]string{"serve", "--http=8095"})
	root.SilenceErrors, root.SilenceUsage = true, true
	err := root.Execute()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use --http 127.0.0.1:8095")
	assert.False(t, ran)

	root.SetArgs([]string{"serve", "--http=127.0.0.1:8095"})
	require.NoError(t, root.Execute())
	assert.True(t, ran)
}

func newApp(t *testing.T) *tests.TestApp {
	app, err := tests.NewTestApp()
	require.NoError(t, err)
	t.Cleanup(app.Cleanup)
	return app
}

// a bootstrap with a short key fails with the message, not crypto/aes's
func TestBootstrapWithShortKey(t *testing.T) {
	t.Setenv("LECTERN_TEST_KEY", "short")
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: t.TempDir(), EncryptionEnv: "LECTERN_TEST_KEY"})
	startup.Register(app, &cobra.Command{})
	err := app.Bootstrap()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be exactly 32 characters")
	_ = app.ResetBootstrapState()
}
