package mail

// WaitBackground waits for the mails sent after a response (confirmation,
// contact, reply notifications).
func WaitBackground() { background.Wait() }

// HashToken exposes the stored form of a token.
func HashToken(token string) string { return hashToken(token) }
