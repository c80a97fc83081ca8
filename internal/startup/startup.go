// Package startup turns the errors a first run commonly meets into messages
// that say what to type instead: PocketBase's own are the standard library's
// ("missing port in address", "crypto/aes: invalid key size 5").
package startup

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/spf13/cobra"
)

// Register checks serve's address flags before any command runs and the
// settings encryption key before PocketBase bootstraps with it.
func Register(app core.App, root *cobra.Command) {
	app.OnBootstrap().Bind(&hook.Handler[*core.BootstrapEvent]{
		Func: func(e *core.BootstrapEvent) error {
			if err := CheckEncryptionKey(e.App.EncryptionEnv(), os.Getenv(e.App.EncryptionEnv())); err != nil {
				return err
			}
			return e.Next()
		},
		// before the other bootstrap handlers, whose guesses (an unwritable
		// data dir) would otherwise be added to a plain key error
		Priority: -100,
	})

	prev := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		for _, name := range []string{"http", "https"} {
			if f := cmd.Flags().Lookup(name); f != nil && f.Value.String() != "" {
				if err := CheckAddress(name, f.Value.String()); err != nil {
					return err
				}
			}
		}
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
}

// CheckAddress reports a listen address given to --<flag> that net.Listen
// would refuse, saying what to write instead.
func CheckAddress(flag, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return nil
	}
	if n, err := strconv.Atoi(addr); err == nil && n > 0 && n < 65536 {
		return fmt.Errorf("--%s %s is a port without a host: use --%s 127.0.0.1:%d (this machine only) or --%s 0.0.0.0:%d (every interface)",
			flag, addr, flag, n, flag, n)
	}
	return fmt.Errorf("--%s %q is not host:port: use e.g. --%s 127.0.0.1:8090", flag, addr, flag)
}

// CheckEncryptionKey reports a settings encryption key (the value of the
// variable --encryptionEnv names) that AES-256 cannot use. Empty means
// settings are stored unencrypted, which PocketBase allows.
func CheckEncryptionKey(env, key string) error {
	if key == "" || len(key) == 32 {
		return nil
	}
	return fmt.Errorf("--encryptionEnv %s: the key must be exactly 32 characters (AES-256), this one has %d; generate one with `openssl rand -hex 16`", env, len(key))
}
