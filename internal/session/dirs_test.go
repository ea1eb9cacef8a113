package session

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/testutil"
)

// readOnlyDir makes dir refuse new files: by permissions, or as root (whom
// permissions do not bind) by the immutable attribute. It is undone at
// cleanup.
func readOnlyDir(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() == 0 {
		chattr := testutil.NeedProgram(t, "chattr", "e2fsprogs")
		if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot make %s immutable here: %v: %s", dir, err, out)
		}
		t.Cleanup(func() { exec.Command(chattr, "-i", dir).Run() })
		return
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
}

func TestCheckDownloadDir(t *testing.T) {
	base := t.TempDir()

	// Missing, with missing parents: created.
	nested := filepath.Join(base, "a", "b", "c")
	if err := CheckDownloadDir(nested); err != nil {
		t.Fatalf("missing directory: %v", err)
	}
	if fi, err := os.Stat(nested); err != nil || !fi.IsDir() {
		t.Fatalf("not created: %v", err)
	}
	if ents, _ := os.ReadDir(nested); len(ents) != 0 {
		t.Errorf("the write check left %d entries behind", len(ents))
	}

	// A file where the directory should be, or above it.
	file := filepath.Join(base, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, dir := range []string{file, filepath.Join(file, "sub")} {
		err := CheckDownloadDir(dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: error %v does not name the directory", dir, err)
		}
	}

	// Present but not writable, and missing under an unwritable parent.
	ro := filepath.Join(base, "ro")
	os.Mkdir(ro, 0o755)
	readOnlyDir(t, ro)
	err := CheckDownloadDir(ro)
	if err == nil || !strings.Contains(err.Error(), ro+" is not writable") {
		t.Errorf("read-only directory: %v", err)
	}
	under := filepath.Join(ro, "new")
	err = CheckDownloadDir(under)
	if err == nil || !strings.Contains(err.Error(), under+" does not exist and cannot be created") {
		t.Errorf("missing under a read-only directory: %v", err)
	}
}

// TestAddChecksDownloadDir: an add into a directory that cannot be written
// fails at once with an error naming it (not with a torrent that fails at
// its first piece), and adds nothing; a missing one is created.
func TestAddChecksDownloadDir(t *testing.T) {
	s := newTestSession(t)
	data, _ := makeTorrent(t)
	ro := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(ro, 0o755)
	readOnlyDir(t, ro)
	_, err := s.Add(context.Background(), AddRequest{Torrent: data, DownloadDir: ro})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), ro) || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("add into a read-only directory: %v", err)
	}
	if n := len(s.List()); n != 0 {
		t.Fatalf("%d torrents after a refused add", n)
	}
	missing := filepath.Join(t.TempDir(), "new", "dir")
	st, err := s.Add(context.Background(), AddRequest{Torrent: data, DownloadDir: missing})
	if err != nil {
		t.Fatalf("add into a missing directory: %v", err)
	}
	if st.SaveDir != missing {
		t.Errorf("save dir %q, want %q", st.SaveDir, missing)
	}
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Errorf("missing download directory not created: %v", err)
	}
}
