package swarmtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// corrupt flips n bytes of the file at path starting at off, in place (the
// seeder keeps its file handles, so it serves the new bytes).
func corrupt(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0xA5
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptSeederIsBanned runs a leecher against a seeder whose file was
// corrupted after it started seeding: the leecher must drop and ban it (and
// never come back), then complete with correct data from a good seeder.
func TestCorruptSeederIsBanned(t *testing.T) {
	if testing.Short() {
		t.Skip("slow swarm test")
	}
	const size, pieceLen = 4 << 20, 32 << 10
	tr := trackertest.New(t)
	tr.SetInterval(time.Second, time.Second)
	dir := t.TempDir()
	good := Payload(t, filepath.Join(dir, "seed"), "payload.bin", 11, map[string]int{"": size})
	bad := Payload(t, filepath.Join(dir, "bad"), "payload.bin", 11, map[string]int{"": size})
	data, mi := MakeTorrent(t, good, pieceLen, tr.HTTPURL())
	hash := mi.InfoHash.String()

	badSeed := NewSession(t, filepath.Join(dir, "bad"))
	if _, err := badSeed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, badSeed, hash, 30*time.Second, session.StateSeeding)
	corrupt(t, bad, 0, size) // every piece is now wrong

	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 60*time.Second, "the bad seeder to upload", func() bool { return Status(t, badSeed, hash).Uploaded > 0 })
	testutil.WaitFor(t, 60*time.Second, "the leecher to drop the bad seeder", func() bool { return Status(t, badSeed, hash).Peers == 0 })
	st := Status(t, leech, hash)
	if st.Completed != 0 || st.State == session.StateSeeding {
		t.Fatalf("leecher verified %d bytes from a seeder serving only corrupt data (state %s)", st.Completed, st.State)
	}
	banUploaded := Status(t, badSeed, hash).Uploaded
	t.Logf("bad seeder uploaded %d bytes before being dropped", banUploaded)

	goodSeed := NewSession(t, filepath.Join(dir, "seed"))
	if _, err := goodSeed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st = WaitState(t, leech, hash, 30*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	SameTree(t, filepath.Dir(good), filepath.Join(dir, "leech"))

	// The leecher re-announced (1 s interval) and saw the bad seeder's
	// address again while downloading; a banned peer gets nothing more.
	if st := Status(t, badSeed, hash); st.Uploaded != banUploaded || st.Peers != 0 {
		t.Errorf("bad seeder: uploaded %d (was %d at the ban), %d peers: the leecher went back to it", st.Uploaded, banUploaded, st.Peers)
	}
	if banUploaded > size/4 {
		t.Errorf("bad seeder uploaded %d of %d bytes before the ban; want it dropped early", banUploaded, size)
	}
}

// TestCorruptOnlySeederNeverCompletes has a single seeder serving two
// corrupt pieces: the leecher must not reach seeding, and its file must hold
// only verified data (good pieces or nothing), never the corrupt bytes.
func TestCorruptOnlySeederNeverCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("slow swarm test")
	}
	const size, pieceLen = 1 << 20, 32 << 10
	tr := trackertest.New(t)
	tr.SetInterval(time.Second, time.Second)
	dir := t.TempDir()
	path := Payload(t, filepath.Join(dir, "seed"), "payload.bin", 12, map[string]int{"": size})
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, mi := MakeTorrent(t, path, pieceLen, tr.HTTPURL())
	hash := mi.InfoHash.String()

	seed := NewSession(t, filepath.Join(dir, "seed"))
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)
	badPieces := map[int]bool{3: true, 20: true}
	corrupt(t, path, 3*pieceLen+5000, 1)    // one byte of piece 3
	corrupt(t, path, 20*pieceLen, pieceLen) // all of piece 20
	served, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "the seeder to upload", func() bool { return Status(t, seed, hash).Uploaded > 0 })
	// Let the leecher settle: it may drop the seeder, re-announce, retry.
	var st session.Status
	stableSince, last := time.Now(), int64(-1)
	testutil.WaitFor(t, 30*time.Second, "the leecher's progress to settle", func() bool {
		st = Status(t, leech, hash)
		if st.Completed != last || st.Peers != 0 {
			last, stableSince = st.Completed, time.Now()
		}
		return st.State == session.StateSeeding || time.Since(stableSince) > 3*time.Second
	})
	if st.State == session.StateSeeding || st.Completed >= size {
		t.Fatalf("leecher completed (%s, %d bytes) from a seeder with corrupt pieces", st.State, st.Completed)
	}

	got, err := os.ReadFile(filepath.Join(dir, "leech", "payload.bin"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	verified := 0
	for i := 0; i < size/pieceLen; i++ {
		lo, hi := i*pieceLen, (i+1)*pieceLen
		var piece []byte
		if lo < len(got) {
			piece = got[lo:min(hi, len(got))]
		}
		switch {
		case len(piece) == pieceLen && bytes.Equal(piece, want[lo:hi]):
			verified++
			if badPieces[i] {
				t.Errorf("piece %d: the leecher has the good data, which nobody served", i)
			}
		case bytes.Count(piece, []byte{0}) == len(piece):
			// Not written.
		case bytes.Equal(piece, served[lo:lo+len(piece)]):
			t.Errorf("piece %d: the corrupt data reached the disk", i)
		default:
			t.Errorf("piece %d: unexpected bytes on disk", i)
		}
	}
	if int64(verified)*pieceLen != st.Completed {
		t.Errorf("%d good pieces on disk, status says %d bytes verified", verified, st.Completed)
	}
	t.Logf("leecher stopped at %d/%d pieces, %s, %d peers", verified, size/pieceLen, st.State, st.Peers)
}
