package swarmtest

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// threeFiles seeds a three-file torrent with 64 KiB pieces: a.bin (4
// pieces), b.bin (8 pieces, sharing none with the others) and c.bin (a
// piece and a half). It returns the tracker, the .torrent, the info hash
// and the payload root.
func threeFiles(t *testing.T, uploadLimit int64) (tr *trackertest.Tracker, data []byte, hash, root, dir string) {
	t.Helper()
	tr = trackertest.New(t)
	dir = t.TempDir()
	root = Payload(t, filepath.Join(dir, "seed"), "multi", 21, map[string]int{
		"a.bin": 256 << 10, "b.bin": 512 << 10, "c.bin": 100 << 10,
	})
	data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UploadLimit: uploadLimit})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	hash = mi.InfoHash.String()
	WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)
	return tr, data, hash, root, dir
}

func sameFile(t *testing.T, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("%s differs from %s", got, want)
	}
}

// TestSkippedFileNotDownloaded: a torrent added with one file skipped
// finishes when the others are complete, the skipped file is never
// created, the tracker is told bytes are left, and un-skipping the file
// later downloads it and completes the torrent. The priorities survive a
// restart.
func TestSkippedFileNotDownloaded(t *testing.T) {
	tr, data, hash, root, dir := threeFiles(t, 0)
	cfg := session.Config{DownloadDir: filepath.Join(dir, "leech"), DataDir: filepath.Join(dir, "state")}
	leech := NewSessionWith(t, cfg)
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data, Only: []int{0, 2}}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	got := filepath.Join(dir, "leech", "multi")
	sameFile(t, filepath.Join(root, "a.bin"), filepath.Join(got, "a.bin"))
	sameFile(t, filepath.Join(root, "c.bin"), filepath.Join(got, "c.bin"))
	if _, err := os.Stat(filepath.Join(got, "b.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("skipped b.bin: stat err %v, want it absent", err)
	}
	const total = (256 + 512 + 100) << 10
	if st.TotalSize != total || st.WantedSize != total-512<<10 || st.WantedCompleted != st.WantedSize || st.Progress != 1 {
		t.Fatalf("status %+v: want total %d, wanted %d all complete, progress 1", st, total, total-512<<10)
	}
	if st.Completed >= total {
		t.Fatalf("completed %d: the skipped file's pieces were fetched", st.Completed)
	}
	d, err := leech.Get(hash)
	if err != nil {
		t.Fatal(err)
	}
	if d.Files[1].Priority != "skip" || d.Files[0].Priority != "normal" || d.Files[1].Index != 1 {
		t.Fatalf("files %+v: want b.bin (index 1) skipped", d.Files)
	}
	pm, err := leech.Pieces(hash)
	if err != nil {
		t.Fatal(err)
	}
	// Pieces 0-3 (a.bin) and 12-13 (c.bin) of 14.
	if pm.Pieces != 14 || !bytes.Equal(pm.Have, []byte{0xf0, 0x0c}) {
		t.Fatalf("pieces %d have %08b, want 14 pieces 11110000 00001100", pm.Pieces, pm.Have)
	}
	// The tracker never heard "left 0" from the leecher.
	testutil.WaitFor(t, 10*time.Second, "an announce from the leecher", func() bool {
		for _, a := range tr.Events() {
			if a.PeerID == leech.PeerID() {
				return true
			}
		}
		return false
	})
	for _, a := range tr.Events() {
		if a.PeerID == leech.PeerID() && (a.Left == 0 || a.Event == "completed") {
			t.Fatalf("leecher announced %+v: a partial download is no seeder", a)
		}
	}

	// A restart keeps the selection: still finished, b.bin still absent.
	if err := leech.Close(); err != nil {
		t.Fatal(err)
	}
	leech = NewSessionWith(t, cfg)
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	d, err = leech.Get(hash)
	if err != nil {
		t.Fatal(err)
	}
	if d.Files[1].Priority != "skip" {
		t.Fatalf("after restart files %+v: want b.bin skipped", d.Files)
	}
	if _, err := os.Stat(filepath.Join(got, "b.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after restart b.bin: stat err %v, want it absent", err)
	}

	// Wanting b.bin again downloads it.
	if _, err := leech.SetFilePriorities(hash, map[int]string{1: "high"}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the whole torrent", func() bool {
		st, _ := leech.Get(hash)
		return st.State == session.StateSeeding && st.Completed == total
	})
	SameTree(t, root, got)
	if _, err := leech.SetFilePriorities(hash, map[int]string{3: "skip"}); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("priority for file 3 of 3: err %v, want ErrInvalid", err)
	}
}

// TestOnlyBeforeMetadata: a magnet added with "only" keeps the wish until
// the metadata arrives, then downloads just those files; after a restart
// the wish, now explicit priorities, still holds.
func TestOnlyBeforeMetadata(t *testing.T) {
	tr, _, hash, root, dir := threeFiles(t, 0)
	cfg := session.Config{DownloadDir: filepath.Join(dir, "leech"), DataDir: filepath.Join(dir, "state")}
	leech := NewSessionWith(t, cfg)
	magnet := "magnet:?xt=urn:btih:" + hash + "&tr=" + url.QueryEscape(tr.HTTPURL())
	st, err := leech.Add(context.Background(), session.AddRequest{URI: magnet, Only: []int{2}, Files: map[int]string{0: "low", 7: "high"}, Sequential: true})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Sequential {
		t.Fatalf("status %+v: want sequential", st)
	}
	WaitState(t, leech, hash, 60*time.Second, session.StateSeeding)
	got := filepath.Join(dir, "leech", "multi")
	check := func(when string) {
		t.Helper()
		sameFile(t, filepath.Join(root, "a.bin"), filepath.Join(got, "a.bin"))
		sameFile(t, filepath.Join(root, "c.bin"), filepath.Join(got, "c.bin"))
		if _, err := os.Stat(filepath.Join(got, "b.bin")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: skipped b.bin: stat err %v, want it absent", when, err)
		}
		d, err := leech.Get(hash)
		if err != nil {
			t.Fatal(err)
		}
		var prio []string
		for _, f := range d.Files {
			prio = append(prio, f.Priority)
		}
		if !slices.Equal(prio, []string{"low", "skip", "normal"}) || !d.Sequential {
			t.Fatalf("%s: priorities %v sequential %v, want [low skip normal] true", when, prio, d.Sequential)
		}
	}
	check("after the download")
	if err := leech.Close(); err != nil {
		t.Fatal(err)
	}
	leech = NewSessionWith(t, cfg)
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	check("after a restart")
}

// TestEveryFileSkipped: a torrent added with every file skipped (to pick
// files later, as users do with a big pack) seeds nothing and creates
// nothing, and is not stopped for "data vanished": there is no data to
// look for. Wanting a file later downloads just that file.
func TestEveryFileSkipped(t *testing.T) {
	_, data, hash, root, dir := threeFiles(t, 0)
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech")})
	skipAll := map[int]string{0: "skip", 1: "skip", 2: "skip"}
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data, Files: skipAll}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	if st.Error != "" || st.Completed != 0 || st.WantedSize != 0 {
		t.Fatalf("status %+v: want seeding nothing, no error", st)
	}
	got := filepath.Join(dir, "leech", "multi")
	if _, err := os.Stat(got); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("every file skipped: stat %s err %v, want it absent", got, err)
	}
	if _, err := leech.SetFilePriorities(hash, map[int]string{2: "normal"}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "c.bin", func() bool {
		st, _ := leech.Get(hash)
		return st.State == session.StateSeeding && st.WantedSize == 100<<10 && st.WantedCompleted == st.WantedSize
	})
	sameFile(t, filepath.Join(root, "c.bin"), filepath.Join(got, "c.bin"))
	for _, f := range []string{"a.bin", "b.bin"} {
		if _, err := os.Stat(filepath.Join(got, f)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("skipped %s: stat err %v, want it absent", f, err)
		}
	}
}
