package testutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of size bytes on a fresh temporary directory and
// returns the directory; the cleanup unmounts it. Mounting needs root (or
// CAP_SYS_ADMIN): when it fails the test fails under CI and is skipped
// elsewhere, saying why.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size))
	if err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN; running as uid %d): %v", os.Geteuid(), err)
		if InCI() {
			t.Fatalf("%s (required when CI=true)", msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			// Something still holds a file open: detach it so that the
			// temporary directory can go.
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Errorf("unmount tmpfs %s: %v", dir, err)
			}
		}
	})
	return dir
}

// FillDisk writes zeros to a new file in dir until its file system is full
// (ENOSPC) and returns a function that deletes the file again. The space
// left afterwards is less than one file system block.
func FillDisk(t testing.TB, dir string) (free func()) {
	t.Helper()
	f, err := os.CreateTemp(dir, "filler-*")
	if err != nil {
		t.Fatalf("fill %s: %v", dir, err)
	}
	name := f.Name()
	buf := make([]byte, 64<<10)
	for size := len(buf); size > 0; {
		_, err := f.Write(buf[:size])
		if err == nil {
			continue
		}
		if !errors.Is(err, syscall.ENOSPC) {
			f.Close()
			t.Fatalf("fill %s: %v", dir, err)
		}
		size /= 2 // fill the last partial chunk too
	}
	if err := f.Close(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("fill %s: %v", dir, err)
	}
	return func() {
		if err := os.Remove(filepath.Clean(name)); err != nil {
			t.Errorf("free %s: %v", dir, err)
		}
	}
}
