//go:build !linux

package diskio

import "os"

// DirectFlag is 0 where O_DIRECT is not available; direct writes are off.
const DirectFlag = 0

// platformDirect says that this build has no direct writes.
const platformDirect Mode = 0

// pwriteDirect writes iov at off (never called: direct writes are off).
func pwriteDirect(f *os.File, iov [][]byte, off int64) error { return writeEach(f, iov, off) }
