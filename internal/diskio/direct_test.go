package diskio

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestWriteAtModes: in every direct mode, aligned runs go through O_DIRECT
// (on file systems that support it), unaligned tails and misaligned
// buffers are written buffered, and the data is right either way.
func TestWriteAtModes(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  Mode
	}{
		{"async", 0},                 // AIO where the platform has it
		{"raw", Async},               // synchronous raw pwritev
		{"slow disk", Async | Raw},   // synchronous through os.File
		{"buffered", Direct | Async}, // no direct I/O at all
	} {
		t.Run(tc.name, func(t *testing.T) {
			const pl = 64 << 10
			size := 3*pl + 1000
			path := filepath.Join(t.TempDir(), "f")
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tf := &testFiles{path: path}
			dio := Open(Options{Off: tc.off}, tf)
			defer dio.Close()
			mode := dio.Stats().Mode
			want := make([]byte, size)
			for i := range want {
				want[i] = byte(i*13 + i>>8)
			}
			for p := 0; p < 4; p++ {
				n := min(pl, size-p*pl)
				buf := alignedBuf(n)
				copy(buf, want[p*pl:])
				if err := dio.WriteAt(f, 0, [][]byte{buf}, int64(p*pl)); err != nil {
					t.Fatal(err)
				}
			}
			// A misaligned buffer (one byte into a bigger one) for piece 1
			// again, in 4 KiB-long blocks: must be written buffered.
			big := alignedBuf(pl + 1)[1:]
			copy(big, want[pl:2*pl])
			var blocks [][]byte
			for b := 0; b < pl; b += 16 << 10 {
				blocks = append(blocks, big[b:b+16<<10])
			}
			if err := dio.WriteAt(f, 0, blocks, pl); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("data differs")
			}
			st := dio.Stats()
			if st.Mode != mode {
				t.Errorf("mode went from %v to %v", mode, st.Mode)
			}
			if st.Mode&Direct == 0 {
				if st.DirectBytes != 0 || tf.acquired.Load() != 0 {
					t.Errorf("mode %v: %d bytes written directly through %d handles", st.Mode, st.DirectBytes, tf.acquired.Load())
				}
				return
			}
			if st.DirectBytes != 3*pl {
				t.Errorf("direct bytes %d, want %d (3 aligned pieces; the tail and the misaligned write are buffered)", st.DirectBytes, 3*pl)
			}
			if st.AsyncReady != (st.Mode&Async != 0) {
				t.Errorf("mode %v: AIO context set up: %v", st.Mode, st.AsyncReady)
			}
		})
	}
}

// TestDirectRefusedFallsBack: when the file system refuses O_DIRECT
// (EINVAL at open), the write is done buffered, and the IO writes buffered
// for good without asking again; other open errors are the write's.
func TestDirectRefusedFallsBack(t *testing.T) {
	d, f, tf := openTest(t, Options{})
	tf.err = &fs.PathError{Op: "open", Path: tf.path, Err: syscall.EINVAL}
	data := alignedBuf(64 << 10)
	for i := range data {
		data[i] = byte(i * 3)
	}
	for range 2 {
		if err := d.WriteAt(f, 0, [][]byte{data}, 0); err != nil {
			t.Fatal(err)
		}
		if m := d.Stats().Mode; m != 0 {
			t.Fatalf("mode %v after the file system refused O_DIRECT, want buffered", m)
		}
	}
	if got, _ := os.ReadFile(tf.path); !bytes.Equal(got, data) {
		t.Fatal("the data written after the refusal is not in the file")
	}

	d, f, tf = openTest(t, Options{})
	tf.err = &fs.PathError{Op: "open", Path: tf.path, Err: syscall.EACCES}
	if err := d.WriteAt(f, 0, [][]byte{data}, 0); !errors.Is(err, syscall.EACCES) {
		t.Fatalf("direct handle refused with EACCES: write error %v", err)
	}
	if m := d.Stats().Mode; m&Direct == 0 {
		t.Fatalf("mode %v after an open error that is not EINVAL, want still direct", m)
	}
}

// TestSlowRawWriteFallsBack: after a raw synchronous write slower than
// rawWriteLimit, synchronous direct writes go through os.File; they stay
// direct, and the data is right.
func TestSlowRawWriteFallsBack(t *testing.T) {
	defer func(l time.Duration) { rawWriteLimit = l }(rawWriteLimit)
	rawWriteLimit = 0 // every write is slow
	d, f, _ := openTest(t, Options{Off: Async})
	if d.Stats().Mode != Direct|Raw {
		t.Skipf("mode %v: no raw direct writes here", d.Stats().Mode)
	}
	data := alignedBuf(128 << 10)
	for i := range data {
		data[i] = byte(i * 5)
	}
	if err := d.WriteAt(f, 0, [][]byte{data[:64<<10]}, 0); err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if st.Mode&Direct == 0 {
		t.Skip("the file system refuses O_DIRECT here")
	}
	if st.Mode != Direct {
		t.Fatalf("mode %v after a slow raw write, want %v", st.Mode, Direct)
	}
	if err := d.WriteAt(f, 0, [][]byte{data[64<<10:]}, 64<<10); err != nil {
		t.Fatal(err)
	}
	if st := d.Stats(); st.DirectBytes != int64(len(data)) {
		t.Errorf("%d bytes written directly, want %d", st.DirectBytes, len(data))
	}
	if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
}

// TestPwriteDirectWritesAllAndReportsErrors: the raw pwritev writes every
// buffer, and a refused write is a PathError naming the file.
func TestPwriteDirectWritesAllAndReportsErrors(t *testing.T) {
	if platformDirect == 0 {
		t.Skip("no raw writes on this platform")
	}
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("gobit"), 10000)
	if err := pwriteDirect(f, [][]byte{data[:7000], data[7000:]}, 4096); err != nil {
		t.Fatalf("pwriteDirect: %v", err)
	}
	f.Close()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4096+len(data) || !bytes.Equal(got[4096:], data) {
		t.Fatalf("file holds %d bytes, want the data at offset 4096", len(got))
	}
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	err = pwriteDirect(ro, [][]byte{data}, 0)
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != path {
		t.Fatalf("write to a read-only file: %v, want a PathError naming %s", err, path)
	}
}

// TestDirectPrefix: the part of a vectored write O_DIRECT can take.
func TestDirectPrefix(t *testing.T) {
	a := alignedBuf(5 * Align)
	for _, tc := range []struct {
		name string
		iov  [][]byte
		off  int64
		want int
	}{
		{"aligned whole buffers", [][]byte{a[:Align], a[Align : 3*Align]}, 0, 3 * Align},
		{"misaligned offset", [][]byte{a[:Align]}, 512, 0},
		{"aligned head of a longer buffer", [][]byte{a[:2*Align+100]}, Align, 2 * Align},
		{"stops at a misaligned buffer", [][]byte{a[:Align], a[Align+1 : 3*Align+1]}, 0, Align},
		{"stops after a partial buffer", [][]byte{a[:Align+7], a[2*Align : 3*Align]}, 0, Align},
		{"short buffer", [][]byte{a[:100]}, 0, 0},
	} {
		got, n := directPrefix(tc.iov, tc.off)
		sum := 0
		for _, b := range got {
			sum += len(b)
		}
		if n != tc.want || sum != n {
			t.Errorf("%s: %d bytes (buffers sum to %d), want %d", tc.name, n, sum, tc.want)
		}
	}
}
