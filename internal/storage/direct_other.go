//go:build !linux

package storage

import "os"

// oDirect is 0 where O_DIRECT is not available; direct writes are off.
const oDirect = 0

// pwriteDirect writes iov at off (never called: direct writes are off).
func pwriteDirect(f *os.File, iov [][]byte, off int64) error {
	for _, b := range iov {
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}
