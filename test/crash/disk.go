package crash

import (
	"crypto/sha1"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobit/gobit/internal/bitfield"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/store"
)

// goodPieces hashes every piece of a single-file torrent saved under dir
// and returns the set whose bytes match the torrent's piece hashes. A
// missing file or a short one counts as pieces absent.
func goodPieces(t testing.TB, mi *metainfo.MetaInfo, dir string) *bitfield.Bitfield {
	t.Helper()
	info := &mi.Info
	n := info.NumPieces()
	good := bitfield.New(n)
	f, err := os.Open(filepath.Join(dir, info.Name))
	if errors.Is(err, fs.ErrNotExist) {
		return good
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, info.PieceLength)
	for i := 0; i < n; i++ {
		b := buf[:info.PieceSize(i)]
		if _, err := f.ReadAt(b, int64(i)*info.PieceLength); err != nil {
			if errors.Is(err, io.EOF) {
				continue // beyond the end of the file: not written
			}
			t.Fatalf("read piece %d: %v", i, err)
		}
		if sha1.Sum(b) == info.PieceHash(i) {
			good.Set(i)
		}
	}
	return good
}

// savedState is what a dead daemon left in its state database for one
// torrent.
type savedState struct {
	rec       store.Torrent
	hasResume bool
	verified  *bitfield.Bitfield // the resume bitfield; empty if none
	resume    store.Resume
}

// readSaved opens the database of a daemon that is no longer running
// (the file lock died with it) and reads the torrent's record and resume
// data. It fails the test if the torrent is not recorded.
func readSaved(t testing.TB, dataDir string, mi *metainfo.MetaInfo) savedState {
	t.Helper()
	db, err := store.Open(filepath.Join(dataDir, "gobit.db"))
	if err != nil {
		t.Fatalf("open the dead daemon's state database: %v", err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Errorf("close state database: %v", err)
		}
	}()
	var s savedState
	rec, ok, err := db.Torrent(mi.InfoHash)
	if err != nil {
		t.Fatalf("read torrent record: %v", err)
	}
	if !ok {
		t.Fatalf("state database has no record of torrent %s", mi.InfoHash)
	}
	s.rec = rec
	n := mi.Info.NumPieces()
	s.verified = bitfield.New(n)
	r, ok, err := db.Resume(mi.InfoHash)
	if err != nil {
		t.Fatalf("read resume data: %v", err)
	}
	if !ok {
		return s
	}
	if r.NumPieces != n {
		t.Fatalf("resume data for %d pieces, torrent has %d", r.NumPieces, n)
	}
	bf, err := bitfield.FromBytes(r.Bitfield, n)
	if err != nil {
		t.Fatalf("resume bitfield: %v", err)
	}
	s.hasResume, s.verified, s.resume = true, bf, r
	return s
}

// bytesOf returns the payload bytes of the pieces in bf.
func bytesOf(mi *metainfo.MetaInfo, bf *bitfield.Bitfield) int64 {
	var n int64
	for i := 0; i < bf.Len(); i++ {
		if bf.Has(i) {
			n += mi.Info.PieceSize(i)
		}
	}
	return n
}

// notIn returns the pieces of a missing from b.
func notIn(a, b *bitfield.Bitfield) []int {
	var out []int
	for i := 0; i < a.Len(); i++ {
		if a.Has(i) && !b.Has(i) {
			out = append(out, i)
		}
	}
	return out
}
