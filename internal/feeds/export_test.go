package feeds

import "time"

// SetNow replaces the package clock and returns a func restoring it.
func SetNow(f func() time.Time) (restore func()) {
	old := now
	now = f
	return func() { now = old }
}

// OnRender sets a func called before each document body is built and returns
// a func removing it.
func OnRender(f func(key string)) (restore func()) {
	old := onRender
	onRender = f
	return func() { onRender = old }
}
