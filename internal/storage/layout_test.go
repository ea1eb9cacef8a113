package storage

import (
	"fmt"
	"testing"
)

func TestNumPiecesAndSize(t *testing.T) {
	tests := []struct {
		pl, total int64
		n         int
		last      int64
	}{
		{1024, 1024, 1, 1024},
		{1024, 1025, 2, 1},
		{1024, 1, 1, 1},
		{16384, 10 * 16384, 10, 16384},
		{3, 10, 4, 1},
		{1 << 24, 1 << 40, 1 << 16, 1 << 24},
	}
	for _, tc := range tests {
		l := Layout{PieceLength: tc.pl, TotalLength: tc.total}
		if got := l.NumPieces(); got != tc.n {
			t.Errorf("NumPieces(%d/%d) = %d, want %d", tc.total, tc.pl, got, tc.n)
		}
		if got := l.PieceSize(tc.n - 1); got != tc.last {
			t.Errorf("last PieceSize(%d/%d) = %d, want %d", tc.total, tc.pl, got, tc.last)
		}
		if l.PieceSize(tc.n) != 0 || l.PieceSize(-1) != 0 {
			t.Errorf("out-of-range PieceSize not 0")
		}
	}
}

func TestForSpans(t *testing.T) {
	l := Layout{PieceLength: 10, TotalLength: 30, Files: []File{
		{Path: "a", Length: 5},
		{Path: "e", Length: 0, Offset: 5},
		{Path: "b", Length: 10, Offset: 5},
		{Path: "c", Length: 15, Offset: 15},
		{Path: "z", Length: 0, Offset: 30},
	}}
	tests := []struct {
		off, n int64
		want   string
	}{
		{0, 30, "0@0+5/0 2@0+10/5 3@0+15/15 "},
		{0, 5, "0@0+5/0 "},
		{5, 1, "2@0+1/0 "},
		{4, 2, "0@4+1/0 2@0+1/1 "},
		{14, 2, "2@9+1/0 3@0+1/1 "},
		{29, 1, "3@14+1/0 "},
		{10, 0, ""},
	}
	for _, tc := range tests {
		got := ""
		_ = l.forSpans(tc.off, tc.n, func(sp span) error {
			got += fmt.Sprintf("%d@%d+%d/%d ", sp.file, sp.fileOff, sp.n, sp.bufOff)
			return nil
		})
		if got != tc.want {
			t.Errorf("forSpans(%d, %d) = %q, want %q", tc.off, tc.n, got, tc.want)
		}
	}
}

// FuzzForSpans checks on arbitrary layouts that the spans of any in-range
// request are non-empty, in file order, inside their file, and tile the
// request exactly.
func FuzzForSpans(f *testing.F) {
	f.Add([]byte{5, 0, 10, 15}, uint16(7), uint32(3), uint32(20))
	f.Add([]byte{1}, uint16(1), uint32(0), uint32(1))
	f.Add([]byte{0, 0, 3, 0, 0, 4, 0}, uint16(2), uint32(2), uint32(4))
	f.Fuzz(func(t *testing.T, lens []byte, pl uint16, off, n uint32) {
		if len(lens) > 64 {
			lens = lens[:64]
		}
		var l Layout
		l.PieceLength = int64(pl)
		for i, b := range lens {
			l.Files = append(l.Files, File{Path: fmt.Sprintf("f%d", i), Length: int64(b), Offset: l.TotalLength})
			l.TotalLength += int64(b)
		}
		if l.validate() != nil {
			return
		}
		if l.checkRange(int64(off), int(n)) != nil {
			return
		}
		next, lastFile := int64(0), -1
		err := l.forSpans(int64(off), int64(n), func(sp span) error {
			fl := l.Files[sp.file]
			switch {
			case sp.n <= 0:
				return fmt.Errorf("empty span %+v", sp)
			case sp.file <= lastFile:
				return fmt.Errorf("file order: %d after %d", sp.file, lastFile)
			case sp.fileOff < 0 || sp.fileOff+sp.n > fl.Length:
				return fmt.Errorf("span %+v outside file of length %d", sp, fl.Length)
			case sp.bufOff != next:
				return fmt.Errorf("span %+v starts at %d, want %d", sp, sp.bufOff, next)
			case fl.Offset+sp.fileOff != int64(off)+sp.bufOff:
				return fmt.Errorf("span %+v maps to the wrong global offset", sp)
			}
			next += sp.n
			lastFile = sp.file
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if next != int64(n) {
			t.Fatalf("spans cover %d of %d bytes", next, n)
		}
	})
}
