//go:build !linux

package apitest

import "time"

// ThreadCPU returns 0: the thread's CPU time is read on Linux only.
func ThreadCPU() time.Duration { return 0 }
