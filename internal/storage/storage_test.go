package storage_test

import (
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/cron"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"lectern/internal/storage"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var full = map[string]string{
	storage.EnvEndpoint:       "http://127.0.0.1:9000",
	storage.EnvAccessKey:      "key",
	storage.EnvSecret:         "secret",
	storage.EnvForcePathStyle: "true",
	storage.EnvBucket:         "files",
	storage.EnvBackupsBucket:  "backups",
}

func with(kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range full {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestFromEnv(t *testing.T) {
	c, err := storage.FromEnv(env(nil))
	require.NoError(t, err)
	assert.Nil(t, c.Files, "no variables: files stay where they are")
	assert.Nil(t, c.Backups)

	c, err = storage.FromEnv(env(full))
	require.NoError(t, err)
	require.NotNil(t, c.Files)
	require.NotNil(t, c.Backups)
	assert.Equal(t, "files", c.Files.Bucket)
	assert.Equal(t, "backups", c.Backups.Bucket)
	assert.Equal(t, "us-east-1", c.Files.Region, "region defaults")
	assert.True(t, c.Files.ForcePathStyle)
	assert.Equal(t, storage.DefaultBackupsCron, c.BackupsCron, "backups on S3 are scheduled by default")
	assert.Equal(t, storage.DefaultBackupsKeep, c.BackupsKeep)

	c, err = storage.FromEnv(env(with(storage.EnvBackupsBucket, "")))
	require.NoError(t, err)
	assert.Nil(t, c.Backups)
	assert.Empty(t, c.BackupsCron, "files only: the backup schedule is left as configured")

	c, err = storage.FromEnv(env(with(storage.EnvBackupsCron, "off", storage.EnvBackupsKeep, "3")))
	require.NoError(t, err)
	assert.Empty(t, c.BackupsCron)
	assert.Equal(t, 3, c.BackupsKeep)

	for name, m := range map[string]map[string]string{
		"same bucket":   with(storage.EnvBackupsBucket, "files"),
		"no secret":     with(storage.EnvSecret, ""),
		"no endpoint":   with(storage.EnvEndpoint, ""),
		"bad bool":      with(storage.EnvForcePathStyle, "yes please"),
		"bad keep":      with(storage.EnvBackupsKeep, "0"),
		"endpoint only": {storage.EnvEndpoint: "http://x"},
	} {
		_, err := storage.FromEnv(env(m))
		assert.Error(t, err, name)
		if err != nil {
			assert.NotContains(t, err.Error(), "secret\"", "%s: an error never quotes the secret", name)
			assert.True(t, strings.Contains(err.Error(), "LECTERN_"), "%s: the error names the variable: %v", name, err)
		}
	}
}

// backupJob is the expression of PocketBase's scheduled backup job, if any.
func backupJob(jobs []*cron.Job) string {
	for _, j := range jobs {
		if j.Id() == "__pbAutoBackup__" {
			return j.Expression()
		}
	}
	return ""
}

func TestApply(t *testing.T) {
	app, err := tests.NewTestApp()
	require.NoError(t, err)
	defer app.Cleanup()

	c, err := storage.FromEnv(env(full))
	require.NoError(t, err)
	saved, err := storage.Apply(app, c)
	require.NoError(t, err)
	assert.True(t, saved)
	s := app.Settings()
	assert.True(t, s.S3.Enabled)
	assert.Equal(t, "files", s.S3.Bucket)
	assert.True(t, s.Backups.S3.Enabled)
	assert.Equal(t, "backups", s.Backups.S3.Bucket)
	assert.Equal(t, storage.DefaultBackupsCron, s.Backups.Cron)
	assert.Equal(t, storage.DefaultBackupsCron, backupJob(app.Cron().Jobs()), "PocketBase's backup job is scheduled")

	// the stored settings, as the next start reads them
	require.NoError(t, app.ReloadSettings())
	assert.Equal(t, "backups", app.Settings().Backups.S3.Bucket)

	saved, err = storage.Apply(app, c)
	require.NoError(t, err)
	assert.False(t, saved, "unchanged settings are not saved again")

	off, err := storage.FromEnv(env(with(storage.EnvBackupsCron, "off")))
	require.NoError(t, err)
	_, err = storage.Apply(app, off)
	require.NoError(t, err)
	assert.Empty(t, app.Settings().Backups.Cron)
	assert.Empty(t, backupJob(app.Cron().Jobs()), "LECTERN_BACKUPS_CRON=off unschedules it")
}
