//go:build !unix

package store

import (
	"errors"
	"os"
	"time"
)

// errLockTimeout reports that lockFile gave up waiting.
var errLockTimeout = errors.New("lock timeout")

// lockFile is a no-op where flock is unavailable: bbolt locks the file itself
// when it opens it (its timeout maps to ErrLocked), so validation there runs
// before the lock is held.
func lockFile(*os.File, time.Duration) error { return nil }

// InUse reports whether the database at path is held open elsewhere; where
// flock is unavailable it cannot tell and reports false.
func InUse(string) bool { return false }
