package apidocs

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"lectern/internal/cli"
)

// NewTypesCommand returns the `types` command, which prints TypeScript
// definitions for the JS SDK generated from the data dir's schema.
func NewTypesCommand(app core.App) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "types",
		Short: "Prints TypeScript types for the PocketBase JS SDK, generated from the schema",
		Long: `Prints TypeScript definitions for the PocketBase JS SDK: a record type per
collection (select values as unions, typed expand), create and update input
types without the server-set fields, and a TypedPocketBase whose
collection("posts") is typed. The server serves the same text at
GET /api/types.d.ts.

It reads the schema of the data dir (--dir), applying Lectern's migrations
first, as "serve" would. In dev mode (on by default under "go run")
PocketBase also prints SQL to stdout: use --out, or --dev=false.`,
		Example: `  lectern types > src/lectern-types.d.ts
  lectern types --out src/lectern-types.d.ts
  lectern types --dir /var/lib/lectern/pb_data --out lectern-types.d.ts`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// dev mode logs every SQL statement to stdout, which is where the types go
			restore, err := cli.Prepare(app)
			if err != nil {
				return err
			}
			defer restore()
			collections, err := app.FindAllCollections()
			if err != nil {
				return fmt.Errorf("load collections: %w", err)
			}
			text := BuildTypeScript(collections, SchemaVersion(collections))
			if out == "" || out == "-" {
				_, err := fmt.Fprint(cmd.OutOrStdout(), text)
				return err
			}
			if dir := filepath.Dir(out); dir != "." {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("create %s: %w", dir, err)
				}
			}
			if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "types: wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of stdout")
	return cmd
}
