//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// errLockTimeout reports that lockFile gave up waiting.
var errLockTimeout = errors.New("lock timeout")

// lockFile takes an exclusive flock on f, retrying until timeout. It is the
// same kind of lock bbolt takes, on the same file description that is later
// handed to bbolt, so bbolt's own lock call succeeds immediately.
func lockFile(f *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return err
		}
		if !time.Now().Before(deadline) {
			return errLockTimeout
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// InUse reports whether another open file description (another process,
// or another Store in this one) holds the lock on the database at path. A
// missing or unreadable file is not in use. It creates nothing.
func InUse(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	// A shared lock conflicts with the exclusive lock an open Store holds;
	// closing f releases it.
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}
