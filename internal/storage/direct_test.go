package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"github.com/gobit/gobit/internal/diskio"
)

// TestDirectWrites: aligned spans go through O_DIRECT (on Linux file systems
// that support it), unaligned tails and misaligned buffers fall back to
// buffered writes, and the data is right either way.
func TestDirectWrites(t *testing.T) {
	// Asynchronous (AIO) where the platform has it.
	t.Run("async", func(t *testing.T) { testDirectWrites(t, false, false) })
	// Without AIO: raw synchronous pwrite.
	t.Run("raw", func(t *testing.T) { testDirectWrites(t, true, false) })
	// After a slow raw write the storage writes through os.File: same data,
	// still direct.
	t.Run("slow disk", func(t *testing.T) { testDirectWrites(t, true, true) })
	// The fallback rules themselves are tested in internal/diskio.
}

func testDirectWrites(t *testing.T, noAIO, slow bool) {
	const pl = 64 << 10
	size := int64(3*pl + 1000)
	l := Layout{PieceLength: pl, TotalLength: size, Files: []File{{Path: "d.bin", Length: size}}}
	dir := t.TempDir()
	s, err := Open(dir, l, Options{ioOff: ioOff(noAIO, slow)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i*13 + i>>8)
	}
	for p := 0; p < 4; p++ {
		n := l.PieceSize(p)
		buf := make([]byte, n) // large allocations are page aligned
		copy(buf, want[int64(p)*pl:])
		if err := s.WritePiece(p, buf); err != nil {
			t.Fatal(err)
		}
	}
	// A misaligned buffer (offset by one byte inside a bigger one) for piece
	// 1 again: must fall back to buffered and still be right.
	big := make([]byte, pl+1)
	copy(big[1:], want[pl:2*pl])
	if err := s.WritePiece(1, big[1:]); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "d.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("data differs")
	}
	if st := s.io.Stats(); st.Mode&diskio.Direct != 0 {
		if st.DirectBytes != 3*pl {
			t.Errorf("direct bytes %d, want %d (3 aligned pieces; the tail and the misaligned write are buffered)", st.DirectBytes, 3*pl)
		}
		if st.AsyncReady != (st.Mode&diskio.Async != 0) || noAIO && st.AsyncReady {
			t.Errorf("mode %v: AIO context set up: %v", st.Mode, st.AsyncReady)
		}
	} else if runtime.GOOS == "linux" {
		t.Logf("mode %v: the file system refuses O_DIRECT, direct writes are not checked", st.Mode)
	}
	// Buffered-only storage writes no byte directly.
	s2, err := Open(t.TempDir(), l, Options{BufferedWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.WritePiece(0, make([]byte, pl)); err != nil || s2.io.Stats().DirectBytes != 0 || s2.direct != nil {
		t.Fatalf("buffered writes: err %v, direct bytes %d", err, s2.io.Stats().DirectBytes)
	}
}

// ioOff returns the diskio features to leave off for a test without AIO,
// and for one on a slow disk (no raw writes).
func ioOff(noAIO, slow bool) diskio.Mode {
	var m diskio.Mode
	if noAIO {
		m |= diskio.Async
	}
	if slow {
		m |= diskio.Raw
	}
	return m
}

// alignedBuf returns n zero bytes at a diskio.Align-aligned address (small
// buffers may live on the stack, unaligned).
func alignedBuf(n int) []byte {
	b := make([]byte, n+diskio.Align)
	off := int(diskio.Align - uintptr(unsafe.Pointer(&b[0]))%diskio.Align)
	return b[off%diskio.Align:][:n:n]
}

// TestWritePieceBlocks: a piece handed over as its blocks lands intact
// across file boundaries that fall inside blocks, with aligned runs written
// directly and the rest (a misaligned block, spans starting mid-block)
// buffered.
func TestWritePieceBlocks(t *testing.T) {
	const bs = 16 << 10
	const pl = 8 * bs
	files := []File{
		{Path: "a", Length: 3*bs + 100},                     // ends inside block 3 of piece 0
		{Path: "b", Offset: 3*bs + 100, Length: 2*bs - 100}, // piece 0, blocks 3-4
		{Path: "c", Offset: 5 * bs, Length: 11 * bs},        // the rest of piece 0, all of piece 1
	}
	var size int64
	for _, f := range files {
		size += f.Length
	}
	l := Layout{PieceLength: pl, TotalLength: size, Files: files}
	for _, noAIO := range []bool{false, true} {
		dir := t.TempDir()
		s, err := Open(dir, l, Options{ioOff: ioOff(noAIO, false)})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i*31 + i>>9)
		}
		for p := 0; p < 2; p++ {
			var blocks [][]byte
			for b := 0; b < pl/bs; b++ {
				blk := alignedBuf(bs)
				if p == 1 && b == 5 {
					blk = alignedBuf(bs + 1)[1:] // misaligned
				}
				copy(blk, want[p*pl+b*bs:])
				blocks = append(blocks, blk)
			}
			if err := s.WritePieceBlocks(p, blocks); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.WritePieceBlocks(0, [][]byte{alignedBuf(bs)}); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("blocks shorter than the piece: %v, want ErrOutOfRange", err)
		}
		var got []byte
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("noAIO=%v: data differs", noAIO)
		}
		if s.io.Stats().Mode&diskio.Direct != 0 {
			// Direct: a's first 3 blocks (block 3 ends the file 100 bytes
			// in), none of b (it starts mid-block), piece 0's last 3
			// blocks in c, and piece 1's blocks before the misaligned one.
			if d := s.io.Stats().DirectBytes; d != 11*bs {
				t.Errorf("noAIO=%v: %d bytes written directly, want %d", noAIO, d, 11*bs)
			}
		}
		s.Close()
	}
}
