package torrent

import (
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/metainfo"
)

// TestFileProgress: each file is reported complete exactly when the last of
// its pieces is verified, in any order, with files that share pieces and
// empty files.
func TestFileProgress(t *testing.T) {
	// Piece length 100; files: a [0,250) b [250,250) empty, c [250,260), d [260,700).
	info := &metainfo.Info{Name: "t", PieceLength: 100, Files: []metainfo.File{
		{Length: 250, Path: []string{"a"}},
		{Length: 0, Path: []string{"b"}},
		{Length: 10, Path: []string{"c"}},
		{Length: 440, Path: []string{"d"}},
	}}
	info.Pieces = make([]byte, 20*7)
	tor := &Torrent{info: info, have: bitfield.New(7)}
	tor.initFileProgress()
	order := []int{6, 0, 2, 1, 3, 5, 4}
	// Completing piece 1 finishes a (pieces 0-2 once 0 and 2 are in); piece 2
	// also covers c (250-260) which needs only piece 2; d needs 2..6.
	want := map[int]bool{2: true, 1: true, 4: true}
	for _, p := range order {
		tor.have.Set(p)
		if got := tor.pieceVerifiedForFiles(p); got != want[p] {
			t.Errorf("piece %d: file completed=%v, want %v", p, got, want[p])
		}
	}
	for f, m := range tor.files.missing {
		if m != 0 {
			t.Errorf("file %d still misses %d pieces", f, m)
		}
	}
}
