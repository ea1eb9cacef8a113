package storage

import (
	"fmt"
	"testing"
)

const benchPiece = 256 << 10

// benchTorrent is 64 pieces of 256 KiB over 8 files of 2 MiB.
func benchTorrent(b *testing.B) *testTorrent {
	var files []fileSpec
	for i := range 8 {
		files = append(files, fileSpec{path: fmt.Sprintf("bench/f%d", i), length: 2 << 20})
	}
	return makeTorrent(b, benchPiece, files, 1)
}

func BenchmarkWritePiece(b *testing.B) {
	tt := benchTorrent(b)
	s := tt.open(b, b.TempDir(), Options{})
	n := tt.layout.NumPieces()
	b.SetBytes(benchPiece)
	for i := 0; b.Loop(); i++ {
		if err := s.WritePiece(i%n, tt.piece(i%n)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashPiece(b *testing.B) {
	tt := benchTorrent(b)
	s := tt.open(b, b.TempDir(), Options{})
	tt.writeAll(b, s)
	n := tt.layout.NumPieces()
	b.SetBytes(benchPiece)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.HashPiece(i % n); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadBlock(b *testing.B) {
	tt := benchTorrent(b)
	s := tt.open(b, b.TempDir(), Options{})
	tt.writeAll(b, s)
	n := tt.layout.NumPieces()
	buf := make([]byte, 16<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.ReadBlock(i%n, (i%16)*len(buf), buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyData is the SHA-1 check of a complete 1 MiB piece held in
// memory: the only hashing a downloaded piece gets (compare with
// `openssl speed -evp sha1`).
func BenchmarkVerifyData(b *testing.B) {
	data := make([]byte, 1<<20)
	var want [20]byte
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		VerifyData(data, want)
	}
}

// BenchmarkWritePieceBlocks writes 256 KiB pieces handed over as their 16
// KiB blocks (the download path): vectored direct writes, asynchronous
// (AIO) where available, and synchronous for comparison.
func BenchmarkWritePieceBlocks(b *testing.B) {
	for _, mode := range []string{"async", "sync"} {
		b.Run(mode, func(b *testing.B) {
			tt := benchTorrent(b)
			s := tt.open(b, b.TempDir(), Options{ioOff: ioOff(mode == "sync", false)})
			n := tt.layout.NumPieces()
			pieces := make([][][]byte, n)
			for p := range pieces {
				data := tt.piece(p)
				for off := 0; off < len(data); off += 16 << 10 {
					blk := alignedBuf(16 << 10)
					copy(blk, data[off:])
					pieces[p] = append(pieces[p], blk)
				}
			}
			b.SetBytes(benchPiece)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := s.WritePieceBlocks(i%n, pieces[i%n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
