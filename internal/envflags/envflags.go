// Package envflags lets a container or a unit file configure `serve` from the
// environment where a command line is awkward to change (a Dockerfile's CMD,
// a Kubernetes manifest): LECTERN_ORIGINS sets --origins unless the flag is
// given. Without either, PocketBase allows every origin ("*").
package envflags

import (
	"github.com/spf13/cobra"
)

// Env maps serve flags to the variables that set them.
var Env = map[string]string{
	"origins": "LECTERN_ORIGINS",
}

// Register makes every command of root read Env before it runs: a flag
// given on the command line wins over its variable.
func Register(root *cobra.Command, getenv func(string) string) {
	prev := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		for flag, name := range Env {
			f := cmd.Flags().Lookup(flag)
			if f == nil || f.Changed {
				continue
			}
			if v := getenv(name); v != "" {
				if err := cmd.Flags().Set(flag, v); err != nil {
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
