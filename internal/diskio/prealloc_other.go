//go:build !linux

package diskio

import "os"

// Preallocate extends f to length bytes. Outside Linux the extension is
// sparse: the blocks are allocated when written.
func Preallocate(f *os.File, length int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() >= length {
		return nil
	}
	return f.Truncate(length)
}
