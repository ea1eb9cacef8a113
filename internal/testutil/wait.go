package testutil

import (
	"testing"
	"time"
)

// Polling intervals of WaitFor: the first check is immediate, then the wait
// between checks doubles from firstPoll up to maxPoll, so a condition that
// holds quickly is seen quickly and a long wait costs little CPU.
const (
	firstPoll = time.Millisecond
	maxPoll   = 50 * time.Millisecond
)

// WaitFor polls cond until it returns true. If timeout passes first, it
// fails the test with a message naming what, which should say what the test
// waited for ("the seeder to finish", "2 peers at the tracker"). It must be
// called from the test's goroutine, as t.Fatal requires.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	WaitForErr(t, timeout, what, func() (bool, error) { return cond(), nil })
}

// WaitForErr is WaitFor for a condition that can tell it will never hold:
// cond returns true when done and a non-nil error when waiting longer is
// pointless (the process exited, the connection was refused for good); the
// error fails the test at once, naming what was awaited.
func WaitForErr(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	if !poll(timeout, func() (bool, error) {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		return ok, nil
	}) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Eventually polls cond like WaitFor but reports whether it held within
// timeout instead of failing the test, for callers that fail with their own
// message (showing the last state seen) or that run off the test goroutine.
func Eventually(timeout time.Duration, cond func() bool) bool {
	return poll(timeout, func() (bool, error) { return cond(), nil })
}

// poll is the loop under WaitFor and Eventually: it calls cond until it
// returns true (poll returns true), returns an error (poll returns false
// at once), or timeout passes (poll returns false after one last check).
func poll(timeout time.Duration, cond func() (bool, error)) bool {
	deadline := time.Now().Add(timeout)
	wait := firstPoll
	for {
		ok, err := cond()
		if ok {
			return true
		}
		if err != nil {
			return false
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(wait, left))
		wait = min(2*wait, maxPoll)
	}
}
