package diskio

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Preallocate allocates disk blocks for the first length bytes of f with
// fallocate(2), growing the file, and falls back to a sparse extension on
// file systems that do not support it.
func Preallocate(f *os.File, length int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() >= length || length == 0 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Fallocate(int(fd), 0, 0, length)
			if ferr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if errors.Is(ferr, unix.EOPNOTSUPP) || errors.Is(ferr, unix.ENOSYS) {
		return f.Truncate(length)
	}
	return ferr
}
