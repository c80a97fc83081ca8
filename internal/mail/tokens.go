package mail

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Token purposes: a confirm token never unsubscribes and the reverse.
const (
	purposeConfirm     = "confirm"
	purposeUnsubscribe = "unsubscribe"
)

// Token lifetimes. A confirmation is for the next days; an unsubscribe link
// must keep working as long as people keep old mails around.
var (
	ConfirmTTL     = 48 * time.Hour
	UnsubscribeTTL = 365 * 24 * time.Hour
)

var errBadToken = errors.New("invalid or expired token")

// newToken returns 32 random bytes as URL-safe text, and the hash to store.
func newToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// mintToken stores the hash of a new token for subscriber and returns the
// token, which exists from then on only in the mail it is put in.
func mintToken(app core.App, subscriberID, purpose string, ttl time.Duration) (string, error) {
	c, err := app.FindCachedCollectionByNameOrId("newsletterTokens")
	if err != nil {
		return "", err
	}
	token, hash := newToken()
	r := core.NewRecord(c)
	r.Set("subscriber", subscriberID)
	r.Set("purpose", purpose)
	r.Set("hash", hash)
	r.Set("expiresAt", types.NowDateTime().Add(ttl))
	if err := app.Save(r); err != nil {
		return "", err
	}
	return token, nil
}

// findToken returns the unexpired token record of the given purpose.
func findToken(app core.App, token, purpose string) (*core.Record, error) {
	if len(token) < 20 || len(token) > 200 {
		return nil, errBadToken
	}
	r, err := app.FindFirstRecordByFilter("newsletterTokens",
		"hash = {:h} && purpose = {:p} && expiresAt > @now",
		dbx.Params{"h": hashToken(token), "p": purpose})
	if err != nil {
		return nil, errBadToken
	}
	return r, nil
}

// deleteTokens removes subscriber's tokens of a purpose (and every expired one
// of theirs: a subscriber's token rows never pile up).
func deleteTokens(app core.App, subscriberID, purpose string) error {
	_, err := app.DB().NewQuery(
		"DELETE FROM newsletterTokens WHERE subscriber = {:s} AND (purpose = {:p} OR expiresAt <= {:now})").
		Bind(dbx.Params{"s": subscriberID, "p": purpose, "now": types.NowDateTime().String()}).Execute()
	return err
}
