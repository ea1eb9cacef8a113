package session

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

func statusByHash(t *testing.T, s *Session, h string) (Status, bool) {
	t.Helper()
	for _, st := range s.List() {
		if st.InfoHash == h {
			return st, true
		}
	}
	return Status{}, false
}

// TestChangesOnFullDataDisk: with the data directory's file system full,
// pause, limit changes and moves of a torrent whose record cannot be
// rewritten are refused with ErrStorageFull and change nothing, in memory or
// after a restart; resume, remove and settings changes, which bbolt may
// manage in pages it already has, are either refused the same way or saved;
// once space is freed the changes work and last.
//
// The torrent changed is added last and its record (400 KB) is larger than
// everything written before it, so the database cannot have enough free
// pages in the file to rewrite it and must grow into the full file system.
func TestChangesOnFullDataDisk(t *testing.T) {
	dataDir := testutil.Tmpfs(t, 4<<20)
	dlDir, otherDir := t.TempDir(), t.TempDir()
	open := func() *Session {
		t.Helper()
		s, err := New(Config{DownloadDir: dlDir, DataDir: dataDir, Port: -1})
		if err != nil {
			t.Fatalf("session on %s: %v", dataDir, err)
		}
		return s
	}
	runData, runHash := testutil.BigTorrent(t, "running", 20000)
	pausedData, pausedHash := testutil.BigTorrent(t, "paused", 10)
	goneData, goneHash := testutil.BigTorrent(t, "to-remove", 10)

	s := open()
	ctx := context.Background()
	for _, r := range []AddRequest{{Torrent: pausedData, Paused: true}, {Torrent: goneData}, {Torrent: runData}} {
		if _, err := s.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	settingsBefore := s.Settings()

	free := testutil.FillDisk(t, dataDir)
	full := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrStorageFull) || !errors.Is(err, ErrNotSaved) {
			t.Fatalf("%s on a full disk: %v, want ErrStorageFull", what, err)
		}
	}
	full("pause", s.Pause(runHash))
	resumeErr := s.Resume(pausedHash)
	if resumeErr != nil {
		full("resume", resumeErr)
	}
	limit := int64(1000)
	_, err := s.UpdateTorrent(runHash, TorrentUpdate{UploadLimit: &limit})
	full("limit change", err)
	full("move", s.Move(runHash, otherDir))
	check := func(when string, s *Session) {
		t.Helper()
		st, ok := statusByHash(t, s, runHash)
		if !ok || st.State == StatePaused || st.UploadLimit != 0 || st.SaveDir != dlDir {
			t.Fatalf("%s: running torrent is %+v (listed %v), want it unpaused, unlimited, in %s", when, st, ok, dlDir)
		}
		st, ok = statusByHash(t, s, pausedHash)
		if !ok || (st.State == StatePaused) != (resumeErr != nil) {
			t.Fatalf("%s: paused torrent is %q (listed %v), resume answered %v", when, st.State, ok, resumeErr)
		}
	}
	check("after refused changes", s)

	// Removing needs fewer new pages than it frees, so bbolt may manage it
	// on a full disk; either way the answer must match what is saved.
	removeErr := s.Remove(goneHash, false)
	if removeErr != nil {
		full("remove", removeErr)
	}
	if _, listed := statusByHash(t, s, goneHash); listed != (removeErr != nil) {
		t.Fatalf("remove answered %v but the torrent is listed: %v", removeErr, listed)
	}
	ratio := 2.5
	settingsAfter, settingsErr := s.UpdateSettings(SettingsUpdate{RatioLimit: &ratio})
	if settingsErr != nil {
		full("settings", settingsErr)
		if got := s.Settings(); got != settingsBefore {
			t.Fatalf("refused settings were applied: %+v", got)
		}
		settingsAfter = settingsBefore
	}
	t.Logf("on the full disk: resume %v; remove %v; settings %v", resumeErr, removeErr, settingsErr)
	s.Close()

	s = open()
	check("after a restart on the full disk", s)
	if _, listed := statusByHash(t, s, goneHash); listed != (removeErr != nil) {
		t.Fatalf("remove answered %v; after a restart the torrent is listed: %v", removeErr, listed)
	}
	if got := s.Settings(); got != settingsAfter {
		t.Fatalf("settings after a restart %+v, want %+v (update answered %v)", got, settingsAfter, settingsErr)
	}
	s.Close()

	free()
	s = open()
	defer s.Close()
	if err := s.Pause(runHash); err != nil {
		t.Fatalf("pause after freeing space: %v", err)
	}
	// The restarted session may still be checking the torrent's files
	// (ErrConflict); a move is accepted once that is over.
	testutil.WaitForErr(t, 30*time.Second, "the move after freeing space to be accepted", func() (bool, error) {
		err := s.Move(pausedHash, otherDir)
		if errors.Is(err, ErrConflict) {
			return false, nil
		}
		return err == nil, err
	})
	s.Close()
	s = open()
	if st, _ := statusByHash(t, s, runHash); st.State != StatePaused {
		t.Fatalf("pause after freeing space did not last: %q", st.State)
	}
	if st, _ := statusByHash(t, s, pausedHash); st.SaveDir != otherDir {
		t.Fatalf("move after freeing space did not last: %q", st.SaveDir)
	}
	if moved, _ := filepath.Glob(filepath.Join(dataDir, "*.corrupt-*")); len(moved) > 0 {
		t.Fatalf("the database was moved aside as corrupt: %v", moved)
	}
}

// TestRefusedSaveChangesNothing: when the database refuses every commit (here:
// it is closed under the session), each change is answered with ErrNotSaved
// (not ErrStorageFull) and not made.
func TestRefusedSaveChangesNothing(t *testing.T) {
	s, err := New(Config{DownloadDir: t.TempDir(), DataDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data, h := testutil.BigTorrent(t, "x", 10)
	if _, err := s.Add(context.Background(), AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	s.db.Close()
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrNotSaved) || errors.Is(err, ErrStorageFull) {
			t.Fatalf("%s with a closed database: %v, want ErrNotSaved only", what, err)
		}
	}
	other, otherHash := testutil.BigTorrent(t, "y", 10)
	_, err = s.Add(context.Background(), AddRequest{Torrent: other})
	refused("add", err)
	if _, ok := statusByHash(t, s, otherHash); ok {
		t.Fatal("a refused add is listed")
	}
	refused("pause", s.Pause(h))
	refused("remove", s.Remove(h, false))
	slots := 3
	_, err = s.UpdateTorrent(h, TorrentUpdate{UploadSlots: &slots})
	refused("update", err)
	before := s.Settings()
	up := int64(5000)
	_, err = s.UpdateSettings(SettingsUpdate{UploadLimit: &up})
	refused("settings", err)
	if st, ok := statusByHash(t, s, h); !ok || st.State == StatePaused || st.UploadSlots == slots {
		t.Fatalf("refused changes were made: %+v (listed %v)", st, ok)
	}
	if got := s.Settings(); got != before {
		t.Fatalf("refused settings were applied: %+v", got)
	}
	// A second add of the refused torrent is refused the same way, not
	// answered "already added".
	_, err = s.Add(context.Background(), AddRequest{Torrent: other})
	refused("add again", err)
}
