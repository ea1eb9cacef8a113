package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

func TestExtrasAndMeta(t *testing.T) {
	s := newTestSession(t)
	p := filepath.Join(t.TempDir(), "m.bin")
	if err := os.WriteFile(p, []byte(strings.Repeat("meta", 30000)), 0o644); err != nil {
		t.Fatal(err)
	}
	created := time.Unix(1700000000, 0)
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p, PieceLength: 16 << 10, Comment: "a comment",
		CreatedBy: "a tool", CreationDate: created.Unix(), Trackers: [][]string{{"http://127.0.0.1:9/a"}, {"http://127.0.0.1:9/b"}}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Add(context.Background(), AddRequest{Torrent: data, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	md, err := s.Meta(st.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	if md.Comment != "a comment" || md.CreatedBy != "a tool" || !md.CreationDate.Equal(created) {
		t.Errorf("meta: %+v", md)
	}
	if len(md.PieceHashes) != mi.Info.NumPieces() || md.PieceHashes[1] != mi.Info.PieceHash(1) {
		t.Errorf("%d piece hashes, want %d", len(md.PieceHashes), mi.Info.NumPieces())
	}
	x, ok := s.Extras()[st.InfoHash]
	if !ok || len(x.Trackers) != 2 || x.Trackers[1][0] != "http://127.0.0.1:9/b" || x.Private || !x.CompletedAt.IsZero() {
		t.Errorf("extras: %+v", x)
	}
	if err := s.Reannounce(st.InfoHash); !errors.Is(err, ErrConflict) {
		t.Errorf("Reannounce of a paused torrent: %v, want ErrConflict", err)
	}

	mag, err := s.Add(context.Background(), AddRequest{URI: "magnet:?xt=urn:btih:" + strings.Repeat("ab", 20), Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Meta(mag.InfoHash); !errors.Is(err, ErrConflict) {
		t.Errorf("Meta of a magnet without metadata: %v, want ErrConflict", err)
	}
	if err := s.Reannounce(strings.Repeat("cd", 20)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Reannounce of no torrent: %v", err)
	}
}

// TestReannounceWithinInterval: a seeding torrent whose tracker asks for an hour between
// announces announces again, within the minimum interval, when asked.
func TestReannounceWithinInterval(t *testing.T) {
	tr := trackertest.New(t)
	tr.SetInterval(time.Hour, time.Second)
	dir := t.TempDir()
	s, err := New(Config{DownloadDir: dir, ListenAddr: "127.0.0.1", AnnounceMinInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p := filepath.Join(dir, "seed.bin")
	if err := os.WriteFile(p, []byte(strings.Repeat("seed", 20000)), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _, err := metainfo.Create(metainfo.CreateOptions{Path: p, Trackers: [][]string{{tr.HTTPURL()}}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Add(context.Background(), AddRequest{Torrent: data})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "the first announce", func() bool { return tr.Announces() >= 1 })
	time.Sleep(1500 * time.Millisecond) // past the minimum interval
	n := tr.Announces()
	if err := s.Reannounce(st.InfoHash); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "an announce asked for", func() bool { return tr.Announces() > n })
}
