package apitest

import (
	"syscall"
	"time"
)

// ThreadCPU returns the CPU time (user and system) the calling OS thread
// has used; 0 where it cannot be read. A benchmark that locks its
// goroutine to its thread measures with it what its loop cost in CPU,
// whatever else the machine runs.
func ThreadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
