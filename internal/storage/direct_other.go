//go:build !linux

package storage

import "os"

// oDirect is 0 where O_DIRECT is not available; direct writes are off.
const oDirect = 0

// pwriteDirect writes p at off (never called: direct writes are off).
func pwriteDirect(f *os.File, p []byte, off int64) error {
	_, err := f.WriteAt(p, off)
	return err
}
