package diskio

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"unsafe"
)

// alignedBuf returns n zero bytes at an Align-aligned address (small
// buffers may live on the stack, unaligned).
func alignedBuf(n int) []byte {
	b := make([]byte, n+Align)
	off := int(Align - uintptr(unsafe.Pointer(&b[0]))%Align)
	return b[off%Align:][:n:n]
}

// testFiles lends direct handles to one file, opened per write, as a
// storage lends those of its handle cache; err, when set, is what opening
// fails with.
type testFiles struct {
	path     string
	err      error
	acquired atomic.Int32
}

func (tf *testFiles) AcquireDirect(int) (Handle, error) {
	if tf.err != nil {
		return nil, tf.err
	}
	f, err := os.OpenFile(tf.path, os.O_WRONLY|DirectFlag, 0)
	if err != nil {
		return nil, err
	}
	tf.acquired.Add(1)
	return fileHandle{f}, nil
}

type fileHandle struct{ f *os.File }

func (h fileHandle) File() *os.File { return h.f }
func (h fileHandle) Release()       { h.f.Close() }

// openTest returns a direct IO (skipping where the platform has none) over
// a new file, the file's ordinary handle, and its testFiles.
func openTest(t *testing.T, opts Options) (*direct, *os.File, *testFiles) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	tf := &testFiles{path: path}
	dio := Open(opts, tf)
	t.Cleanup(func() { dio.Close(); f.Close() })
	d, ok := dio.(*direct)
	if !ok {
		t.Skipf("no direct writes on this platform (mode %v)", dio.Stats().Mode)
	}
	return d, f, tf
}
