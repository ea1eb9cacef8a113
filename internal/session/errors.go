package session

import (
	"errors"
	"strings"
	"syscall"
)

// Sentinel errors for state that could not be saved. Every state change the
// API acknowledges (add, pause, resume, remove, move, limit and settings
// updates) is committed to the state database before it takes effect; when
// the commit fails the change is not made and the caller gets an error that
// matches ErrNotSaved, and also ErrStorageFull when the cause is a full disk
// or an exhausted quota.
var (
	// ErrNotSaved means a change was refused because it could not be
	// committed to the state database.
	ErrNotSaved = errors.New("state not saved")
	// ErrStorageFull means a change was refused because the disk (or the
	// quota) of the data directory is full. It is the ErrNotSaved case the
	// user can fix by freeing space; the API answers 507.
	ErrStorageFull = errors.New("no space left for the state database")
)

// SaveError is the error of a state change that could not be committed. It
// matches ErrNotSaved, ErrStorageFull when the cause is ENOSPC or EDQUOT, and
// unwraps to the database's error.
type SaveError struct {
	// Op says what was refused, e.g. "torrent not added".
	Op string
	// Err is the database's error.
	Err error
}

func (e *SaveError) Error() string {
	msg := e.Op + ": state not saved: " + e.Err.Error()
	if noSpace(e.Err) {
		msg += " (free space in the data directory and retry)"
	}
	return msg
}

// Unwrap returns the database's error.
func (e *SaveError) Unwrap() error { return e.Err }

// Is reports whether target is ErrNotSaved, or ErrStorageFull for a full
// disk.
func (e *SaveError) Is(target error) bool {
	return target == ErrNotSaved || (target == ErrStorageFull && noSpace(e.Err))
}

// noSpace reports whether err comes from a full disk or quota. bbolt formats
// some of its errors (growing the file) with %s, losing the errno, so the
// message is checked as well.
func noSpace(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, syscall.ENOSPC.Error()) || strings.Contains(msg, syscall.EDQUOT.Error())
}

// saveErr wraps a database error of a state change as a *SaveError; nil stays
// nil.
func saveErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return &SaveError{Op: op, Err: err}
}
