package store

import (
	"path/filepath"
	"testing"
)

func TestSmoke(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "d", "gobit.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutTorrent(Torrent{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	ts, err := s.Torrents()
	if err != nil || len(ts) != 1 {
		t.Fatal(ts, err)
	}
	s.Close()
}
