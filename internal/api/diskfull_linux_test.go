package api

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

// TestAddOnFullDataDiskIs507: with the data directory's file system full,
// an add answers 507 and leaves nothing behind, the database survives the
// failed commit, every torrent acknowledged before is there after a restart,
// and once space is freed the add works and survives a restart too.
func TestAddOnFullDataDiskIs507(t *testing.T) {
	dataDir := testutil.Tmpfs(t, 2<<20)
	dlDir := t.TempDir()
	open := func() (*session.Session, http.Handler) {
		t.Helper()
		s, err := session.New(session.Config{DownloadDir: dlDir, DataDir: dataDir, Port: -1})
		if err != nil {
			t.Fatalf("session on %s: %v", dataDir, err)
		}
		return s, NewHandler(s, Options{})
	}
	listed := func(h http.Handler) []string {
		t.Helper()
		w := serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents"})
		var l []session.Status
		if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
			t.Fatalf("list: %v: %s", err, w.Body)
		}
		var hashes []string
		for _, st := range l {
			hashes = append(hashes, st.InfoHash)
		}
		slices.Sort(hashes)
		return hashes
	}
	addTorrent := func(h http.Handler, data []byte) (int, string) {
		w := serve(t, h, reqSpec{method: "POST", path: "/api/v1/torrents", ctype: contentTorrent, body: string(data)})
		return w.Code, w.Body.String()
	}

	small, smallHash := testutil.BigTorrent(t, "small", 100)
	// 400 KB: more pages than the database could have free, so its commit
	// needs new blocks of the file system.
	big, bigHash := testutil.BigTorrent(t, "big", 20000)
	want := []string{hashA, smallHash}
	slices.Sort(want)

	s, h := open()
	if code, body := addTorrent(h, small); code != http.StatusCreated {
		t.Fatalf("add before the disk filled: %d %s", code, body)
	}
	if w := serve(t, h, reqSpec{method: "POST", path: "/add/magnet", ctype: "text/plain", body: magnetA}); w.Code != http.StatusOK {
		t.Fatalf("magnet before the disk filled: %d %s", w.Code, w.Body)
	}

	free := testutil.FillDisk(t, dataDir)
	code, body := addTorrent(h, big)
	if code != http.StatusInsufficientStorage {
		t.Fatalf("add on a full disk: %d %s, want 507", code, body)
	}
	if !strings.Contains(body, "no space left") {
		t.Errorf("507 body %s does not say the disk is full", body)
	}
	if got := listed(h); !slices.Equal(got, want) {
		t.Fatalf("after the refused add the list is %v, want %v", got, want)
	}
	if w := serve(t, h, reqSpec{method: "GET", path: "/api/v1/torrents/" + bigHash}); w.Code != http.StatusNotFound {
		t.Fatalf("the refused torrent answers %d, want 404", w.Code)
	}
	if err := s.Close(); err != nil {
		t.Logf("close on a full disk: %v", err)
	}

	// Restart with the disk still full: the database opens (not moved aside
	// as corrupt) and holds exactly what was acknowledged.
	s, h = open()
	if got := listed(h); !slices.Equal(got, want) {
		t.Fatalf("after a restart on the full disk the list is %v, want %v", got, want)
	}
	if code, body := addTorrent(h, big); code != http.StatusInsufficientStorage {
		t.Fatalf("add again on the full disk: %d %s, want 507", code, body)
	}
	s.Close()

	free()
	s, h = open()
	if code, body := addTorrent(h, big); code != http.StatusCreated {
		t.Fatalf("add after freeing space: %d %s", code, body)
	}
	s.Close()
	s, h = open()
	defer s.Close()
	want = append(want, bigHash)
	slices.Sort(want)
	if got := listed(h); !slices.Equal(got, want) {
		t.Fatalf("after freeing space and restarting the list is %v, want %v", got, want)
	}
	if moved, _ := filepath.Glob(filepath.Join(dataDir, "*.corrupt-*")); len(moved) > 0 {
		t.Fatalf("the database was moved aside as corrupt: %v", moved)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "gobit.db")); err != nil {
		t.Fatal(err)
	}
}
