package webhooks

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Environment variables of the retention (README, "Webhooks").
const (
	EnvKeepDays     = "LECTERN_WEBHOOKS_KEEP_DAYS"
	EnvKeepDeadDays = "LECTERN_WEBHOOKS_KEEP_DEAD_DAYS"
)

// Default retention: delivered deliveries are only a record of what went
// well; dead ones are what an operator may still want to look into and
// send again.
const (
	DefaultKeepDelivered = 30 * 24 * time.Hour
	DefaultKeepDead      = 90 * 24 * time.Hour
)

// RetentionCron is when the cleanup runs (PocketBase's cron, UTC): hourly,
// so each run removes about an hour of deliveries in a few short
// transactions.
const (
	RetentionCron  = "41 * * * *"
	retentionJobID = "webhooksRetention"
	cleanupBatch   = 500
)

// Retention is how long finished deliveries (and their attempts) are kept
// after their last change. Zero is the default; negative keeps them for
// ever. Pending and failed deliveries are never removed, nor each webhook's
// latest delivered one: the 5-day failure check counts from it.
type Retention struct {
	Delivered time.Duration
	Dead      time.Duration
}

// RetentionFromEnv reads LECTERN_WEBHOOKS_KEEP_DAYS and
// LECTERN_WEBHOOKS_KEEP_DEAD_DAYS (whole days; 0 keeps for ever; unset is
// the default).
func RetentionFromEnv() (Retention, error) {
	var r Retention
	for _, v := range []struct {
		env string
		to  *time.Duration
	}{{EnvKeepDays, &r.Delivered}, {EnvKeepDeadDays, &r.Dead}} {
		raw := strings.TrimSpace(os.Getenv(v.env))
		if raw == "" {
			continue
		}
		days, err := strconv.Atoi(raw)
		if err != nil || days < 0 {
			return Retention{}, fmt.Errorf("%s=%q: want a whole number of days (0 keeps for ever)", v.env, raw)
		}
		*v.to = time.Duration(days) * 24 * time.Hour
		if days == 0 {
			*v.to = -1
		}
	}
	return r, nil
}

func (r Retention) withDefaults() Retention {
	if r.Delivered == 0 {
		r.Delivered = DefaultKeepDelivered
	}
	if r.Dead == 0 {
		r.Dead = DefaultKeepDead
	}
	return r
}

func (s *Service) bindRetention() {
	s.app.Cron().MustAdd(retentionJobID, RetentionCron, func() {
		if n, err := s.Cleanup(time.Now()); err != nil {
			s.app.Logger().Error("webhooks: retention", "error", err.Error(), "removed", n)
		}
	})
}

// Cleanup removes the deliveries that the retention no longer keeps at now,
// with their attempts, and returns how many deliveries went. It works in
// batches of a few hundred, each its own short transaction: the rows are
// chosen by a read, so the site's writers wait only for the deletes.
func (s *Service) Cleanup(now time.Time) (int, error) {
	keep := s.opts.Retention
	removed := 0
	// each webhook's last success stays: failing() measures a streak of
	// failures from it (SQLite gives the row of the MAX for a bare column)
	var last []struct {
		ID string `db:"id"`
		At string `db:"at"`
	}
	err := s.app.DB().Select("id", "MAX([[deliveredAt]]) AS [[at]]").From(Deliveries).
		Where(dbx.HashExp{"status": StatusDelivered}).GroupBy("webhook").All(&last)
	if err != nil {
		return 0, fmt.Errorf("find each webhook's last delivery: %w", err)
	}
	lastOK := make([]any, len(last))
	for i, l := range last {
		lastOK[i] = l.ID
	}
	for _, c := range []struct {
		status string
		keep   time.Duration
	}{{StatusDelivered, keep.Delivered}, {StatusDead, keep.Dead}} {
		if c.keep < 0 {
			continue
		}
		cut, _ := types.ParseDateTime(now.Add(-c.keep).UTC())
		for {
			var ids []string
			q := s.app.DB().Select("d.id").From(Deliveries + " d").
				Where(dbx.HashExp{"d.status": c.status}).
				AndWhere(dbx.NewExp("d.[[updated]] < {:cut}", dbx.Params{"cut": cut.String()})).
				Limit(cleanupBatch)
			if c.status == StatusDelivered && len(lastOK) > 0 {
				q.AndWhere(dbx.NotIn("d.id", lastOK...))
			}
			if err := q.Column(&ids); err != nil {
				return removed, fmt.Errorf("find %s deliveries to remove: %w", c.status, err)
			}
			if len(ids) == 0 {
				break
			}
			in := make([]any, len(ids))
			for i, id := range ids {
				in[i] = id
			}
			var gone int64
			err := s.app.RunInTransaction(func(tx core.App) error {
				// checked again: an admin may have sent one again since the read
				res, err := tx.DB().Delete(Deliveries, dbx.And(dbx.In("id", in...), dbx.HashExp{"status": c.status},
					dbx.NewExp("[[updated]] < {:cut}", dbx.Params{"cut": cut.String()}))).Execute()
				if err != nil {
					return err
				}
				gone, _ = res.RowsAffected()
				_, err = tx.DB().Delete(Attempts, dbx.And(dbx.In("delivery", in...),
					dbx.NewExp("NOT EXISTS (SELECT 1 FROM {{"+Deliveries+"}} d WHERE d.[[id]] = {{"+Attempts+"}}.[[delivery]])"))).Execute()
				return err
			})
			if err != nil {
				return removed, fmt.Errorf("remove %s deliveries: %w", c.status, err)
			}
			removed += int(gone)
			if len(ids) < cleanupBatch {
				break
			}
		}
	}
	return removed, nil
}
