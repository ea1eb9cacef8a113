package session

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// announceFake registers a peer at 127.0.0.1:port with the HTTP tracker so
// that announces report it.
func announceFake(t *testing.T, announceURL string, ih metainfo.Hash, port int) {
	t.Helper()
	q := url.Values{}
	q.Set("info_hash", string(ih[:]))
	q.Set("peer_id", "-XX0000-fakefakefake")
	q.Set("port", fmt.Sprint(port))
	q.Set("uploaded", "0")
	q.Set("downloaded", "0")
	q.Set("left", "0")
	q.Set("compact", "1")
	q.Set("event", "started")
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(announceURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// deadTrackerURL returns an HTTP announce URL on loopback where nothing
// listens.
func deadTrackerURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/announce"
}

// TestGetDetail checks what one torrent's detail tells: per-file progress,
// each tracker's status (working, error with its message, not contacted),
// last and next announce, the peers a tracker reported.
func TestGetDetail(t *testing.T) {
	tr := trackertest.New(t)
	dead := deadTrackerURL(t)
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "set"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]int{"a.bin": 40000, "b.bin": 70000, "empty": 0} {
		if err := os.WriteFile(filepath.Join(src, "set", name), bytes.Repeat([]byte{'x'}, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{
		Path: filepath.Join(src, "set"), PieceLength: 16 << 10,
		Trackers: [][]string{{tr.HTTPURL()}, {dead}},
	})
	if err != nil {
		t.Fatal(err)
	}
	announceFake(t, tr.HTTPURL(), mi.InfoHash, 6881)

	// Seeding from src: every file complete, both trackers contacted.
	s, err := New(Config{DownloadDir: src, ListenAddr: "127.0.0.1", AnnounceMinInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Add(context.Background(), AddRequest{Torrent: data})
	if err != nil {
		t.Fatal(err)
	}
	var d Detail
	if !testutil.Eventually(20*time.Second, func() bool {
		if d, err = s.Get(st.InfoHash); err != nil {
			t.Fatal(err)
		}
		return d.State == StateSeeding && len(d.Trackers) == 2 && d.Trackers[0].Status == "working" && d.Trackers[1].Status == "error"
	}) {
		t.Fatalf("no seeding torrent with a working and a failing tracker: %+v", d)
	}
	if len(d.Files) != 3 {
		t.Fatalf("files %+v", d.Files)
	}
	for _, f := range d.Files {
		if f.Progress != 1 || f.Completed != f.Size {
			t.Errorf("complete torrent's file %+v", f)
		}
	}
	ok, bad := d.Trackers[0], d.Trackers[1]
	if ok.URL != tr.HTTPURL() || ok.Tier != 0 || ok.Error != "" || ok.LastTime.IsZero() || !ok.NextTime.After(ok.LastTime) || ok.Peers < 1 {
		t.Errorf("working tracker: %+v", ok)
	}
	if bad.URL != dead || bad.Tier != 1 || bad.Error == "" || bad.LastTime.IsZero() {
		t.Errorf("failing tracker: %+v", bad)
	}

	// Added paused into an empty directory: nothing done, no tracker
	// contacted, yet every tracker listed.
	s2, err := New(Config{DownloadDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	st, err = s2.Add(context.Background(), AddRequest{Torrent: data, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err = s2.Get(st.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != StatePaused || len(d.Trackers) != 2 {
		t.Fatalf("paused torrent: state %s trackers %+v", d.State, d.Trackers)
	}
	for i, tk := range d.Trackers {
		if tk.Status != "not contacted" || tk.Tier != i || !tk.LastTime.IsZero() {
			t.Errorf("tracker of a torrent never started: %+v", tk)
		}
	}
	byName := map[string]FileStatus{}
	for _, f := range d.Files {
		byName[filepath.Base(f.Path)] = f
	}
	if f := byName["a.bin"]; f.Size != 40000 || f.Completed != 0 || f.Progress != 0 {
		t.Errorf("file of an empty download: %+v", f)
	}
	if f := byName["empty"]; f.Progress != 1 {
		t.Errorf("empty file: %+v, want progress 1", f)
	}
	if !strings.Contains(d.Magnet, st.InfoHash) {
		t.Errorf("magnet %q", d.Magnet)
	}
}

// TestAddPausedIsSavedPaused: a torrent added paused stays paused across a
// restart, and resumes on request.
func TestAddPausedIsSavedPaused(t *testing.T) {
	data, _ := makeTorrent(t)
	cfg := Config{DownloadDir: t.TempDir(), DataDir: t.TempDir(), Port: -1}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Add(context.Background(), AddRequest{Torrent: data, Paused: true})
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	if st.State != StatePaused {
		t.Errorf("added paused, answered state %s", st.State)
	}
	s.Close()

	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.Get(st.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != StatePaused {
		t.Fatalf("after a restart: state %s, want paused", d.State)
	}
	if err := s.Resume(st.InfoHash); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Get(st.InfoHash); d.State == StatePaused {
		t.Errorf("resumed, still paused")
	}
}
