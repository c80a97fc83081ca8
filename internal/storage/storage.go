// Package storage puts Lectern's uploaded files and backups on S3 from the
// environment: it fills PocketBase's own S3 settings (files and backups) at
// start, and turns scheduled backups on when they go to S3, so a fresh
// deployment is never one disk failure away from losing its only backup.
//
// Everything else — uploads, thumbnails, protected files, the backup zips and
// their restore — is PocketBase's own code; this package only configures it.
package storage

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// Env names, documented in the README's Production section.
const (
	EnvEndpoint       = "LECTERN_S3_ENDPOINT"
	EnvRegion         = "LECTERN_S3_REGION"
	EnvAccessKey      = "LECTERN_S3_ACCESS_KEY"
	EnvSecret         = "LECTERN_S3_SECRET"
	EnvForcePathStyle = "LECTERN_S3_FORCE_PATH_STYLE"
	EnvBucket         = "LECTERN_S3_BUCKET"         // uploaded files
	EnvBackupsBucket  = "LECTERN_S3_BACKUPS_BUCKET" // backup zips
	EnvBackupsCron    = "LECTERN_BACKUPS_CRON"
	EnvBackupsKeep    = "LECTERN_BACKUPS_KEEP"
)

// Defaults of the scheduled backups when they go to S3: daily at 03:00 UTC,
// the newest 7 kept.
const (
	DefaultBackupsCron = "0 3 * * *"
	DefaultBackupsKeep = 7
)

// Config is the S3 part of the environment.
type Config struct {
	Files       *core.S3Config // nil: files stay as configured (local by default)
	Backups     *core.S3Config // nil: backups stay as configured
	BackupsCron string         // "" leaves the schedule as configured
	BackupsKeep int
}

// FromEnv reads the LECTERN_S3_* and LECTERN_BACKUPS_* variables. Files and
// backups need separate buckets: PocketBase lists every key of the backups
// bucket as a backup.
func FromEnv(getenv func(string) string) (Config, error) {
	var c Config
	files, backups := getenv(EnvBucket), getenv(EnvBackupsBucket)
	if files == "" && backups == "" {
		if getenv(EnvEndpoint) != "" {
			return c, fmt.Errorf("%s is set but neither %s nor %s: name the bucket(s)", EnvEndpoint, EnvBucket, EnvBackupsBucket)
		}
		return c, nil
	}
	if files != "" && files == backups {
		return c, fmt.Errorf("%s and %s must differ: PocketBase lists every key of the backups bucket as a backup", EnvBucket, EnvBackupsBucket)
	}
	base := core.S3Config{
		Enabled:   true,
		Endpoint:  getenv(EnvEndpoint),
		Region:    getenv(EnvRegion),
		AccessKey: getenv(EnvAccessKey),
		Secret:    getenv(EnvSecret),
	}
	if base.Region == "" {
		base.Region = "us-east-1"
	}
	if v := getenv(EnvForcePathStyle); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%s=%q: want true or false", EnvForcePathStyle, v)
		}
		base.ForcePathStyle = b
	}
	var missing []string
	for _, kv := range [][2]string{{EnvEndpoint, base.Endpoint}, {EnvAccessKey, base.AccessKey}, {EnvSecret, base.Secret}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("S3 is configured (%s/%s) but %s missing", EnvBucket, EnvBackupsBucket, strings.Join(missing, ", "))
	}
	if files != "" {
		f := base
		f.Bucket = files
		c.Files = &f
	}
	if backups != "" {
		b := base
		b.Bucket = backups
		c.Backups = &b
		c.BackupsCron, c.BackupsKeep = DefaultBackupsCron, DefaultBackupsKeep
	}
	// "off" keeps backups on S3 but unscheduled (taken by hand or by API)
	if v := getenv(EnvBackupsCron); v == "off" {
		c.BackupsCron = ""
	} else if v != "" {
		c.BackupsCron = v
	}
	if v := getenv(EnvBackupsKeep); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("%s=%q: want a positive number", EnvBackupsKeep, v)
		}
		c.BackupsKeep = n
	}
	return c, nil
}

func (c Config) endpoint() string {
	if c.Files != nil {
		return c.Files.Endpoint
	}
	if c.Backups != nil {
		return c.Backups.Endpoint
	}
	return ""
}

// Apply writes c into the app's settings (saved, so the dashboard shows them
// and PocketBase reloads its file system and backup schedule) when anything
// changes. It reports whether it saved.
func Apply(app core.App, c Config) (bool, error) {
	if c.Files == nil && c.Backups == nil && c.BackupsCron == "" && c.BackupsKeep == 0 {
		return false, nil
	}
	s, err := app.Settings().Clone()
	if err != nil {
		return false, err
	}
	beforeFiles, beforeBackups := s.S3, s.Backups
	if c.Files != nil {
		s.S3 = *c.Files
	}
	if c.Backups != nil {
		s.Backups.S3 = *c.Backups
	}
	if c.BackupsCron != "" || c.Backups != nil {
		s.Backups.Cron = c.BackupsCron
	}
	if c.BackupsKeep > 0 {
		s.Backups.CronMaxKeep = c.BackupsKeep
	}
	if s.S3 == beforeFiles && s.Backups == beforeBackups {
		return false, nil
	}
	if err := app.Save(s); err != nil {
		return false, fmt.Errorf("save S3 settings from the environment: %w", err)
	}
	return true, nil
}

// Register applies the environment's S3 settings when `serve` starts (a bad
// value stops the start with the variable's name) and warns when scheduled
// backups would land on the data volume itself.
func Register(app core.App) {
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		c, err := FromEnv(os.Getenv)
		if err != nil {
			return err
		}
		saved, err := Apply(e.App, c)
		if err != nil {
			return err
		}
		s := e.App.Settings()
		if saved {
			// bucket names and endpoint only: the keys are never logged
			e.App.Logger().Info("S3 settings applied from the environment",
				slog.Bool("files", s.S3.Enabled), slog.String("filesBucket", s.S3.Bucket),
				slog.Bool("backups", s.Backups.S3.Enabled), slog.String("backupsBucket", s.Backups.S3.Bucket),
				slog.String("backupsCron", s.Backups.Cron), slog.String("endpoint", c.endpoint()))
		}
		if s.Backups.Cron != "" && !s.Backups.S3.Enabled {
			e.App.Logger().Warn("scheduled backups are written to pb_data/backups, on the same disk as the data: set " + EnvBackupsBucket + " (or Settings → Backups → S3)")
		}
		return e.Next()
	})
}
