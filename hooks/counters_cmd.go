package hooks

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"
)

// NewCheckCountersCommand is `lectern check-counters`: it recounts every
// derived counter from its source rows, lists the drift and, with --repair,
// fixes it through the hooks. It exits non-zero when drift remains, so an
// operator can run it from cron or after restoring a backup.
func NewCheckCountersCommand(app core.App) *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:          "check-counters",
		Short:        "Recount comment counts, ratings, enrollment counts and progress; report (and repair) drift",
		Example:      "  lectern check-counters\n  lectern check-counters --repair",
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return err
			}
			drifts, err := CheckCounters(app, repair)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, d := range drifts {
				fmt.Fprintln(out, d)
			}
			switch {
			case len(drifts) == 0:
				fmt.Fprintln(out, "No drift: every counter equals a fresh count.")
			case repair:
				fmt.Fprintf(out, "Repaired %d drifting value(s).\n", len(drifts))
			default:
				return fmt.Errorf("%d drifting value(s); run with --repair to fix them", len(drifts))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "save each drifting record again so the hooks recompute it")
	return cmd
}
