//go:build unix

package diskio

import "golang.org/x/sys/unix"

// FreeSpace returns the bytes available to an unprivileged user on the file
// system holding path, and its total size.
func FreeSpace(path string) (free, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	bs := uint64(st.Bsize)
	return st.Bavail * bs, st.Blocks * bs, nil
}
