// Package healthcheck is `lectern healthcheck`: one GET of /api/health for a
// container's HEALTHCHECK, which on a FROM-scratch image has no curl or wget.
// It runs before PocketBase opens the data dir (see main.go): a probe every
// 30 s must not be a second process on the server's SQLite files.
package healthcheck

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// DefaultURL is the health endpoint of a server on the image's default address.
const DefaultURL = "http://127.0.0.1:8090/api/health"

// Run checks url (args[0], else $LECTERN_HEALTHCHECK_URL, else DefaultURL)
// and returns the process exit code: 0 on a 200 within 4 s, else 1.
func Run(args []string, stderr io.Writer) int {
	url := os.Getenv("LECTERN_HEALTHCHECK_URL")
	if len(args) > 0 {
		url = args[0]
	}
	if url == "" {
		url = DefaultURL
	}
	hc := &http.Client{Timeout: 4 * time.Second, Transport: &http.Transport{Proxy: nil}}
	res, err := hc.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return 1
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s answered %d\n", url, res.StatusCode)
		return 1
	}
	return 0
}

// NewCommand lists `healthcheck` in `lectern --help`. main.go answers the
// command before PocketBase starts, so this RunE only runs if that is removed.
func NewCommand() *cobra.Command {
	return &cobra.Command{
		Use:          "healthcheck [url]",
		Short:        "GET /api/health (default " + DefaultURL + ", or $LECTERN_HEALTHCHECK_URL); exit 0 on a 200",
		Example:      "  lectern healthcheck\n  lectern healthcheck http://127.0.0.1:8090/api/health",
		Args:         cobra.MaximumNArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if Run(args, cmd.ErrOrStderr()) != 0 {
				return fmt.Errorf("unhealthy")
			}
			return nil
		},
	}
}
