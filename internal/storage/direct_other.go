//go:build !linux

package storage

import "os"

// oDirect is 0 where O_DIRECT is not available; direct writes are off.
const oDirect = 0

// pwriteDirect writes iov at off (never called: direct writes are off).
func pwriteDirect(f *os.File, iov [][]byte, off int64) error { return writeEach(f, iov, off) }
