// Package ops holds what an operator sets or reads on the command line and
// in the environment beyond PocketBase's own flags: the build's version, the
// Application URL, JSON request logs on stdout, and a clear word (instead of
// sendmail noise) while mail is not configured.
package ops

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"
)

// Environment variables (each also a flag of the root command).
const (
	// EnvAppURL sets PocketBase's Application URL (dashboard > Settings >
	// Application URL) on serve: feeds, the sitemap and every mail link
	// are built from it.
	EnvAppURL = "LECTERN_APP_URL"
	// EnvLogJSON turns on one JSON line per HTTP request on stdout
	// ("1", "true", "on").
	EnvLogJSON = "LECTERN_LOG_JSON"
)

// Stamped at build time by the Makefile:
//
//	go build -ldflags "-X lectern/internal/ops.version=v1.2.0 -X lectern/internal/ops.commit=abc123"
//
// A plain `go build` in a git checkout needs neither: the module version and
// the VCS revision Go records in the binary are used.
var version, commit string

// Version describes the build: the version, the commit (and whether the
// tree had local changes) and the PocketBase it embeds.
func Version() string {
	v, c, when, dirty, pb := version, commit, "", false, ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if c == "" {
					c = s.Value
				}
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		for _, d := range info.Deps {
			if d.Path == "github.com/pocketbase/pocketbase" {
				pb = d.Version
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	var parts []string
	if c != "" {
		if len(c) == 40 { // a full git hash from Go's VCS stamp
			c = c[:12]
		}
		if dirty && !strings.HasSuffix(c, "-dirty") {
			c += "-dirty"
		}
		parts = append(parts, "commit "+c)
	}
	if when != "" {
		parts = append(parts, when)
	}
	if pb != "" {
		parts = append(parts, "PocketBase "+pb)
	}
	if len(parts) == 0 {
		return v
	}
	return v + " (" + strings.Join(parts, ", ") + ")"
}

// Register adds the --app-url and --log-json flags to root and binds what
// they (or their environment variables) turn on to app.
func Register(app core.App, root *cobra.Command) {
	root.Version = Version()
	var appURL string
	var logJSON bool
	root.PersistentFlags().StringVar(&appURL, "app-url", os.Getenv(EnvAppURL),
		"the site's public URL, saved as the Application URL on serve (env "+EnvAppURL+")")
	root.PersistentFlags().BoolVar(&logJSON, "log-json", truthy(os.Getenv(EnvLogJSON)),
		"log every HTTP request as a JSON line on stdout (env "+EnvLogJSON+")")

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		if appURL != "" {
			if err := SetAppURL(se.App, appURL); err != nil {
				return err
			}
		}
		return se.Next()
	})
	bindRequestLog(app, func() bool { return logJSON })
	bindMailNotice(app)
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

// SetAppURL saves raw (an absolute http(s) URL) as the Application URL when
// it differs from the stored one.
func SetAppURL(app core.App, raw string) error {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--app-url / %s %q: want an absolute http(s) URL such as https://example.com", EnvAppURL, raw)
	}
	settings := app.Settings()
	if settings.Meta.AppURL == raw {
		return nil
	}
	settings.Meta.AppURL = raw
	if err := app.Save(settings); err != nil {
		return fmt.Errorf("save the Application URL %q: %w", raw, err)
	}
	return nil
}

// ---

// ErrMailNotConfigured is what sending a mail returns while neither SMTP is
// set nor a sendmail program installed.
var ErrMailNotConfigured = errors.New("mail is not configured: set the SMTP server in the dashboard " +
	"(Settings > Mail) or install a sendmail program; nothing was sent")

// bindMailNotice replaces PocketBase's "failed to locate a sendmail
// executable path", logged on every superuser sign-in from a new device while
// SMTP is unset, by one clear warning: the new-login alert is skipped
// quietly, and any other mail fails with ErrMailNotConfigured (so a feature
// never believes a mail went out).
func bindMailNotice(app core.App) {
	var once sync.Once
	unconfigured := func(a core.App) bool {
		if a.Settings().SMTP.Enabled {
			return false
		}
		for _, p := range []string{"/usr/sbin/sendmail", "/usr/bin/sendmail", "sendmail"} {
			if _, err := exec.LookPath(p); err == nil {
				return false
			}
		}
		return true
	}
	warn := func(a core.App) {
		once.Do(func() { a.Logger().Warn(ErrMailNotConfigured.Error()) })
	}
	app.OnMailerRecordAuthAlertSend().BindFunc(func(e *core.MailerRecordEvent) error {
		if unconfigured(e.App) {
			warn(e.App)
			return nil // the alert is a courtesy; the sign-in goes on
		}
		return e.Next()
	})
	app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error {
		if unconfigured(e.App) {
			warn(e.App)
			return ErrMailNotConfigured
		}
		return e.Next()
	})
}
