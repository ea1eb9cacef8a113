//go:build linux && (amd64 || arm64)

package diskio

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadCached: data in the page cache is read by the raw RWF_NOWAIT
// path; data not in it is left to the ordinary read (readCached returns
// less), and IO reads return the right bytes either way.
func TestReadCached(t *testing.T) {
	dir := t.TempDir()
	const size = 1 << 20
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(dir, "f.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	buf := make([]byte, size-100)
	n := readCached(f, buf, 100)
	if n == 0 {
		t.Skip("preadv2(RWF_NOWAIT) reads nothing here (kernel or file system without it); reads take the ordinary path")
	}
	if n != len(buf) || !bytes.Equal(buf, data[100:]) {
		t.Fatalf("cached read: %d bytes, equal=%v; want all %d", n, bytes.Equal(buf[:n], data[100:100+n]), len(buf))
	}
	if n := readCached(f, make([]byte, 10), size); n != 0 {
		t.Errorf("read at the end of the file: %d bytes", n)
	}

	// Drop the file's pages: the raw path must not wait for the disk.
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	const fadvDontNeed = 4
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		t.Fatalf("fadvise: %v", e)
	}
	if n := readCached(f, buf, 0); n == len(buf) {
		t.Log("the pages were not dropped (fadvise is advice); the uncached case is not checked")
	} else {
		t.Logf("after dropping the pages, the raw path read %d of %d bytes and left the rest", n, len(buf))
	}

	for _, dio := range []IO{Open(Options{}, nil), Open(Options{Buffered: true}, nil)} {
		got := make([]byte, size)
		if n, err := dio.ReadAt(f, got, 0); err != nil || n != size {
			t.Fatalf("ReadAt: %d, %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatal("ReadAt of dropped pages returned other bytes")
		}
		// Now cached again, and read back the fast way.
		if n, err := dio.ReadAt(f, got, 0); err != nil || n != size || !bytes.Equal(got, data) {
			t.Fatalf("second read: %d, %v", n, err)
		}
	}
}
