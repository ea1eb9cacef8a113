//go:build !unix

package diskio

import "errors"

// FreeSpace returns the bytes available on the file system holding path,
// and its total size. It is not implemented on this platform.
func FreeSpace(path string) (free, total uint64, err error) {
	return 0, 0, errors.New("free space: not supported on this platform")
}
