//go:build unix

package store

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInUse: InUse sees the lock an open Store holds, sees none once it is
// closed, and creates nothing for a missing file.
func TestInUse(t *testing.T) {
	path := dbPath(t)
	if InUse(path) {
		t.Fatal("a missing database is reported in use")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("InUse created %s: %v", path, err)
	}
	s := openT(t, path)
	if !InUse(path) {
		t.Error("an open database is not reported in use")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if InUse(path) {
		t.Error("a closed database is reported in use")
	}
	if InUse(filepath.Join(t.TempDir(), "missing", "gobit.db")) {
		t.Error("a path under a missing directory is reported in use")
	}
}
