package torrent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/storage"
)

// TestStaleDiskResultsIgnored: a piece written to a storage the loop has
// since closed (the save directory vanished, then a recheck opened a new
// one) must not count as had: its bytes are not in the current files.
// Found by TestSaveDirVanishes under load, where such a write finished
// after the recheck and the torrent seeded a file with a hole in it.
func TestStaleDiskResultsIgnored(t *testing.T) {
	tr, mi := downloadingTorrent(t)
	old, err := storage.Open(t.TempDir(), storage.LayoutFromInfo(&mi.Info), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	var staleHave, freshHave bool
	if err := tr.do(func() {
		for _, r := range []pieceVerified{{store: old, index: 0, ok: true}, {store: tr.store, index: 1, ok: true}} {
			tr.pendingWrites++
			tr.heldBytes += tr.info.PieceSize(r.index)
			tr.handleDiskResult(r)
		}
		staleHave, freshHave = tr.have.Has(0), tr.have.Has(1)
	}); err != nil {
		t.Fatal(err)
	}
	if staleHave {
		t.Error("a piece written to a closed storage counts as had")
	}
	if !freshHave {
		t.Error("a piece written to the current storage does not count as had")
	}
}

// TestRecheckReleasesPartialPieces: a recheck (as after the save directory
// vanished) drops the partial pieces in memory, and the bytes they held
// with them. Left counted, they shrank the room for requests after the
// resume until none could be made: TestSaveDirVanishes then stalled with a
// connected seeder and no progress.
func TestRecheckReleasesPartialPieces(t *testing.T) {
	tr, _ := downloadingTorrent(t)
	var held int64
	if err := tr.do(func() {
		for i := range 3 {
			pb := newPieceBuf(int(tr.info.PieceSize(i)))
			block := make([]byte, 16<<10)
			pb.add(0, block)
			tr.pieces[i] = pb
			tr.heldBytes += int64(len(block))
		}
		if err := tr.recheck(nil); err != nil {
			t.Error(err)
		}
		held = tr.heldBytes
	}); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Errorf("%d bytes still counted as held after a recheck dropped every partial piece", held)
	}
}

// downloadingTorrent starts a torrent of 200,000 bytes (four 64 KiB
// pieces) with an empty save directory and no peers, and waits until its
// data check leaves it downloading. Each of with may change the
// configuration first.
func downloadingTorrent(t *testing.T, with ...func(*Config)) (*Torrent, *metainfo.MetaInfo) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(p, []byte(strings.Repeat("piece", 40000)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p, PieceLength: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{MetaInfo: mi, InfoHash: mi.InfoHash, SaveDir: t.TempDir(), Disk: NewDiskPool(1), NoSync: true}
	for _, f := range with {
		f(&cfg)
	}
	tr := New(cfg)
	t.Cleanup(func() { tr.Close(false) })
	deadline := time.Now().Add(30 * time.Second)
	for tr.Stats().State != StateDownloading {
		if time.Now().After(deadline) {
			t.Fatalf("state %q, want downloading", tr.Stats().State)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return tr, mi
}
