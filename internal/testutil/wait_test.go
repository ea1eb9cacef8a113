package testutil

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeTB records what WaitFor reports instead of failing the real test;
// Fatalf ends the calling goroutine as testing.T's does.
type fakeTB struct {
	testing.TB
	msg string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalSentinel{})
}

type fatalSentinel struct{}

// runFake calls fn with a fakeTB and returns the failure message, or "" if
// fn returned normally.
func runFake(fn func(tb testing.TB)) (msg string) {
	f := &fakeTB{}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatalSentinel); !ok {
				panic(r)
			}
			msg = f.msg
		}
	}()
	fn(f)
	return ""
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var calls atomic.Int32
		msg := runFake(func(tb testing.TB) {
			WaitFor(tb, time.Minute, "the third call", func() bool { return calls.Add(1) == 3 })
		})
		if msg != "" {
			t.Fatalf("WaitFor failed: %s", msg)
		}
		if calls.Load() != 3 {
			t.Fatalf("cond called %d times, want 3", calls.Load())
		}
		// Two waits: 1 ms and 2 ms of fake time.
		if d := time.Since(start); d != 3*time.Millisecond {
			t.Fatalf("WaitFor took %v, want 3ms (backoff from %v)", d, firstPoll)
		}
	})
}

func TestWaitForNamesWhatItWaitedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var calls int
		msg := runFake(func(tb testing.TB) {
			WaitFor(tb, 10*time.Second, "the peer to connect", func() bool { calls++; return false })
		})
		if want := "timed out after 10s waiting for the peer to connect"; msg != want {
			t.Fatalf("message %q, want %q", msg, want)
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Fatalf("gave up after %v, want exactly the timeout", d)
		}
		// Backoff caps at maxPoll: about timeout/maxPoll checks, not thousands.
		if max := int(10*time.Second/maxPoll) + 10; calls > max {
			t.Fatalf("cond called %d times in 10 s, want at most %d", calls, max)
		}
	})
}

func TestWaitForErrFailsAtOnceOnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		msg := runFake(func(tb testing.TB) {
			WaitForErr(tb, time.Hour, "the daemon", func() (bool, error) { return false, errors.New("exited: status 1") })
		})
		if msg != "waiting for the daemon: exited: status 1" {
			t.Fatalf("message %q", msg)
		}
		if time.Since(start) != 0 {
			t.Fatal("WaitForErr kept waiting after an error")
		}
	})
}

func TestEventually(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ready := time.Now().Add(300 * time.Millisecond)
		if !Eventually(time.Second, func() bool { return !time.Now().Before(ready) }) {
			t.Fatal("Eventually missed a condition that held after 300 ms of 1 s")
		}
		if Eventually(time.Second, func() bool { return false }) {
			t.Fatal("Eventually reported a condition that never held")
		}
		if !strings.Contains(runFake(func(tb testing.TB) { WaitFor(tb, 0, "x", func() bool { return false }) }), "waiting for x") {
			t.Fatal("a zero timeout should check once and fail")
		}
	})
}
