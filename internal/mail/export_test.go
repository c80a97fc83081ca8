package mail

import (
	"fmt"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// WaitOutbox waits until the worker has sent (or given up on) every queued
// single mail of app.
func WaitOutbox(app core.App) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		err := app.DB().NewQuery("SELECT COUNT(*) FROM mailOutbox WHERE status IN ('pending','failed')").Row(&n)
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d outbox mails still queued after 20s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// HashToken exposes the stored form of a token.
func HashToken(token string) string { return hashToken(token) }
