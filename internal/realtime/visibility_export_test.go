package realtime

// ViewChecks is how many access checks the visibility step ran itself since
// start (its rule checks before a write and its filter checks).
func ViewChecks() int64 { return viewChecks.Load() }

// SetLeaveViews turns the delete-on-leaving-a-view steps on or off (for the
// benchmark's baseline).
func SetLeaveViews(on bool) { leaveViewsOff = !on }
