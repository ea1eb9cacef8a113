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
