package session

// HoldChecks makes the loop of every torrent that finishes a data check
// wait, in its OnChecked callback, until release is called: a test's way
// to have a torrent's loop busy.
func HoldChecks(s *Session) (release func()) {
	s.checks.mu.Lock()
	return s.checks.mu.Unlock
}
