package envflags_test

import (
	"testing"

	"github.com/spf13/cobra"

	"lectern/internal/envflags"
)

// serve mimics PocketBase's serve command: --origins is a string slice.
func run(t *testing.T, env map[string]string, args ...string) []string {
	t.Helper()
	var origins []string
	root := &cobra.Command{Use: "lectern"}
	serve := &cobra.Command{Use: "serve", RunE: func(*cobra.Command, []string) error { return nil }}
	serve.Flags().StringSliceVar(&origins, "origins", []string{"*"}, "")
	root.AddCommand(serve)
	envflags.Register(root, func(k string) string { return env[k] })
	root.SetArgs(append([]string{"serve"}, args...))
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	return origins
}

func TestOrigins(t *testing.T) {
	if got := run(t, nil); len(got) != 1 || got[0] != "*" {
		t.Errorf("no env, no flag: %v, want PocketBase's default [*]", got)
	}
	env := map[string]string{"LECTERN_ORIGINS": "https://a.example,https://b.example"}
	if got := run(t, env); len(got) != 2 || got[0] != "https://a.example" || got[1] != "https://b.example" {
		t.Errorf("LECTERN_ORIGINS: %v", got)
	}
	if got := run(t, env, "--origins", "https://flag.example"); len(got) != 1 || got[0] != "https://flag.example" {
		t.Errorf("flag and env: %v, want the flag", got)
	}
}
