package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"lectern/internal/cli"
)

// NewCommand returns the `newsletter` command and its `send` subcommand.
func NewCommand(app core.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:          "newsletter",
		Short:        "Newsletter issues: build and send one by hand",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
	}
	cmd.AddCommand(newSendCommand(app))
	return cmd
}

func newSendCommand(app core.App) *cobra.Command {
	var dryRun bool
	var rate int
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Builds the next issue from the posts published since the previous one and sends it",
		Long: `Builds the next newsletter issue — the posts published since the previous
issue, filtered by each active subscriber's topics — and sends it, showing
progress. An issue left unfinished (a crash, Ctrl-C) is finished first: every
subscriber gets each issue once.

It writes to the same data dir as a running server and can run beside it:
each subscriber's copy is claimed by one process only.`,
		Example: `  lectern newsletter send --dry-run
  lectern newsletter send
  lectern newsletter send --rate 30 --dir /var/lib/lectern/pb_data`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			restore, err := cli.Prepare(app)
			if err != nil {
				return err
			}
			defer restore()
			out := cmd.OutOrStdout()
			if dryRun {
				return dryRunIssue(app, out)
			}
			if !configured(app) {
				return errors.New("mail is not configured: enable SMTP in the dashboard (Settings → Mail) first")
			}
			if rate <= 0 {
				rate = RatePerMinute(app)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			animate := isatty.IsTerminal(os.Stderr.Fd())

			open, err := app.FindRecordsByFilter("newsletterIssues", "status = 'pending' || status = 'failed'", "number", 0, 0)
			if err != nil {
				return err
			}
			issue, err := CreateIssue(app, time.Now())
			if err != nil {
				return fmt.Errorf("build the issue: %w", err)
			}
			if issue != nil {
				open = append(open, issue)
			} else {
				fmt.Fprintln(out, "No post published since the previous issue (or no active subscriber for them): no new issue.")
			}
			for _, is := range open {
				if err := sendWithProgress(ctx, app, is, rate, os.Stderr, animate, out); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what the next issue would hold and who would get it; send and write nothing")
	cmd.Flags().IntVar(&rate, "rate", 0, "mails per minute (default: the rate set in the dashboard, newsletterSettings)")
	return cmd
}

func dryRunIssue(app core.App, out io.Writer) error {
	p, err := PlanIssue(app, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Issue #%d (dry run, nothing sent): posts published after %s up to %s\n", p.Number, p.Since, p.Until)
	if len(p.Posts) == 0 {
		fmt.Fprintln(out, "  no new post: there would be no issue")
		return nil
	}
	fmt.Fprintf(out, "  %d post%s:\n", len(p.Posts), plural(len(p.Posts)))
	for _, post := range p.Posts {
		fmt.Fprintf(out, "    %s  %s/posts/%s\n", post.GetString("title"), siteURL(app), post.GetString("slug"))
	}
	fmt.Fprintf(out, "  %d recipient%s", len(p.Recipients), plural(len(p.Recipients)))
	if len(p.PerTopic) > 0 {
		keys := make([]string, 0, len(p.PerTopic))
		for k := range p.PerTopic {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			name := k
			if name == "" {
				name = "every topic"
			}
			parts = append(parts, fmt.Sprintf("%s: %d", name, p.PerTopic[k]))
		}
		fmt.Fprintf(out, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(out)
	return nil
}

func sendWithProgress(ctx context.Context, app core.App, issue *core.Record, rate int, w io.Writer, animate bool, out io.Writer) error {
	n := issue.GetInt("number")
	start := time.Now()
	var last time.Time
	draw := func(p Progress, force bool) {
		if !force && time.Since(last) < 200*time.Millisecond && animate || !force && !animate && time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		frac := 1.0
		if p.Total > 0 {
			frac = float64(p.Done) / float64(p.Total)
		}
		if animate {
			const width = 30
			filled := int(frac * width)
			fmt.Fprintf(w, "\r\033[K[%s%s] %3.0f%%  issue #%d  %d/%d  %s",
				strings.Repeat("#", filled), strings.Repeat("-", width-filled), 100*frac, n, p.Done, p.Total,
				time.Since(start).Truncate(time.Second))
		} else {
			fmt.Fprintf(w, "newsletter: issue #%d: %d/%d done (%d sent)\n", n, p.Done, p.Total, p.Sent)
		}
	}
	fmt.Fprintf(out, "Sending issue #%d at up to %d mails a minute\n", n, rate)
	err := SendIssue(ctx, app, issue.Id, rate, func(p Progress) { draw(p, false) })
	p, perr := IssueProgress(app, issue.Id)
	if perr == nil {
		draw(p, true)
	}
	if animate {
		fmt.Fprintln(w)
	}
	if err != nil {
		return fmt.Errorf("issue #%d stopped (run the command again to resume): %w", n, err)
	}
	if p.Done == p.Total {
		if err := markIssueSent(app, issue.Id); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "Issue #%d: %d of %d sent, %d skipped or failed, %d left for a retry, in %s\n",
		n, p.Sent, p.Total, p.Done-p.Sent, p.Total-p.Done, time.Since(start).Round(100*time.Millisecond))
	return nil
}
