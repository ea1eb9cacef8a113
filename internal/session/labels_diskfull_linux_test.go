package session

import (
	"context"
	"errors"
	"testing"

	"github.com/gobit/gobit/internal/testutil"
)

// TestLabelChangesOnFullDataDisk: renaming a category rewrites its
// torrents' records in the same transaction; on a full data disk the
// rename is refused with ErrStorageFull and nothing changes, in memory or
// after a restart.
func TestLabelChangesOnFullDataDisk(t *testing.T) {
	dataDir := testutil.Tmpfs(t, 4<<20)
	cfg := Config{DownloadDir: t.TempDir(), DataDir: dataDir, Port: -1}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	big, h := testutil.BigTorrent(t, "big", 20000) // a 400 KB record
	if _, err := s.AddCategory(Category{Name: "old", SavePath: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(context.Background(), AddRequest{Torrent: big, Category: "old", Paused: true}); err != nil {
		t.Fatal(err)
	}
	free := testutil.FillDisk(t, dataDir)
	to := "new"
	if _, err := s.UpdateCategory("old", CategoryUpdate{Name: &to}); !errors.Is(err, ErrStorageFull) {
		t.Fatalf("rename on a full disk: %v, want ErrStorageFull", err)
	}
	check := func(when string) {
		t.Helper()
		if c := s.Categories(); len(c) != 1 || c[0].Name != "old" {
			t.Errorf("%s: categories %+v", when, c)
		}
		if st, ok := statusByHash(t, s, h); !ok || st.Category != "old" {
			t.Errorf("%s: torrent category %q", when, st.Category)
		}
	}
	check("after the refused rename")
	free()
	s.Close()
	if s, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	check("after a restart")
	if _, err := s.UpdateCategory("old", CategoryUpdate{Name: &to}); err != nil {
		t.Fatalf("rename with space: %v", err)
	}
}
