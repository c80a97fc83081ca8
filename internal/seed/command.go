package seed

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"lectern/internal/cli"
)

// NewCommand returns the `seed` command, which fills the data dir with demo data.
func NewCommand(app core.App) *cobra.Command {
	opts := DefaultOptions()
	var force bool
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fills the data dir with realistic demo data (users, posts, comments, courses, reviews)",
		Long: `Fills the data dir with realistic demo data, written through the app so every
hook applies (slugs, sanitizing, comment counts, ratings, progress).

The same flags always give the same data set: ids, titles, slugs and counts
(dates are relative to the day the seed runs).

It refuses a data dir that already holds Lectern records unless --force, which
DELETES every user, topic, post, comment, course, lesson, enrollment and review
(and their uploaded files) first. Superusers and settings are kept.`,
		Example: `  lectern seed
  lectern seed --dir /tmp/demo/pb_data --posts 10000 --comments 50000
  lectern seed --seed 7 --users 40 --posts 50 --force`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			restore, err := cli.Prepare(app)
			if err != nil {
				return err
			}
			defer restore()

			counts, total, err := Existing(app)
			if err != nil {
				return err
			}
			if total > 0 {
				if !force {
					return fmt.Errorf("%s already holds Lectern data (%s); seed only fills an empty data dir. "+
						"Rerun with --force to DELETE all of it first, or use another --dir", app.DataDir(), describe(counts))
				}
				fmt.Fprintf(os.Stderr, "seed: --force: deleting %s from %s\n", describe(counts), app.DataDir())
				if err := Wipe(app); err != nil {
					return fmt.Errorf("delete existing data: %w", err)
				}
			}

			opts.Progress = os.Stderr
			opts.Animate = isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd())
			sum, err := Run(app, opts)
			if err != nil {
				return fmt.Errorf("seeding stopped, the data dir holds a partial data set (rerun with --force): %w", err)
			}
			printSummary(cmd.OutOrStdout(), cmd.Root().Name(), app.DataDir(), opts, sum)
			return nil
		},
	}

	f := cmd.Flags()
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "random seed: the same seed and sizes give the same data")
	f.IntVar(&opts.Users, "users", opts.Users, "users in total, including one demo login per role (2% admins, 8% instructors, 12% authors, the rest students)")
	f.IntVar(&opts.Posts, "posts", opts.Posts, "blog posts (about 82% published, the rest drafts, scheduled and archived)")
	f.IntVar(&opts.Comments, "comments", opts.Comments, "comments on published posts, replies up to 3 deep")
	f.IntVar(&opts.Courses, "courses", opts.Courses, "courses, each with 3-12 lessons")
	f.IntVar(&opts.Enrollments, "enrollments", opts.Enrollments, "enrollments in published courses (one per course and user)")
	f.IntVar(&opts.Reviews, "reviews", opts.Reviews, "course reviews, by enrolled users only (at most one per active or completed enrollment)")
	f.StringVar(&opts.Password, "password", opts.Password, "password of every seeded user, demo logins included")
	f.IntVar(&opts.BatchSize, "batch", opts.BatchSize, "records per transaction")
	f.BoolVar(&force, "force", false, "DELETE all existing Lectern records first (superusers and settings are kept)")
	return cmd
}

func describe(counts map[string]int) string {
	var parts []string
	for _, name := range Collections {
		if counts[name] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[name], name))
		}
	}
	return strings.Join(parts, ", ")
}

func printSummary(w io.Writer, bin, dir string, opts Options, sum *Summary) {
	fmt.Fprintf(w, "Seeded %s in %s (--seed %d):\n", dir, sum.Elapsed.Round(100*time.Millisecond), opts.Seed)
	for _, name := range Collections {
		line := fmt.Sprintf("  %-12s %7d", name, sum.Counts[name])
		if b := sum.Breakdown[name]; len(b) > 0 && name != "reviews" {
			keys := make([]string, 0, len(b))
			for k := range b {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool { return b[keys[i]] > b[keys[j]] || b[keys[i]] == b[keys[j]] && keys[i] < keys[j] })
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%d %s", b[k], k))
			}
			line += "   (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
	for _, n := range sum.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	fmt.Fprintf(w, "\nDemo logins (password %q, shared by every seeded user):\n", opts.Password)
	for _, role := range demoRoles {
		fmt.Fprintf(w, "  %-24s %s\n", DemoEmail(role), role)
	}
	fmt.Fprintf(w, `
Sign in from a frontend with the JS SDK:
  await pb.collection("users").authWithPassword("%s", "%s")
or: POST /api/collections/users/auth-with-password {"identity": "...", "password": "..."}

The dashboard (/_/) needs a superuser account, which the seed does not create:
  %s superuser upsert EMAIL PASSWORD
`, DemoEmail("student"), opts.Password, bin)
}
