package swarmtest

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gobit/gobit/internal/metainfo"
)

// Payload writes deterministic pseudo-random files under dir/name and
// returns that root. sizes maps relative paths to sizes; a single entry with
// an empty path makes a single-file payload dir/name.
func Payload(t testing.TB, dir, name string, seed uint64, sizes map[string]int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	root := filepath.Join(dir, name)
	for rel, n := range sizes {
		p := root
		if rel != "" {
			p = filepath.Join(root, rel)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// MakeTorrent builds a .torrent for path with the given trackers.
func MakeTorrent(t testing.TB, path string, pieceLength int64, trackers ...string) ([]byte, *metainfo.MetaInfo) {
	t.Helper()
	var tiers [][]string
	for _, tr := range trackers {
		tiers = append(tiers, []string{tr})
	}
	data, mi, err := metainfo.Create(metainfo.CreateOptions{Path: path, PieceLength: pieceLength, Trackers: tiers, CreatedBy: "gobit tests"})
	if err != nil {
		t.Fatal(err)
	}
	return data, mi
}

// SameTree fails the test unless every regular file under want exists under
// got with identical contents (and got has no extra files).
func SameTree(t testing.TB, want, got string) {
	t.Helper()
	count := 0
	err := filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		a, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("missing %s: %v", rel, err)
			return nil
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs (%d vs %d bytes)", rel, len(a), len(b))
		}
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	extra := 0
	filepath.WalkDir(got, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			extra++
		}
		return nil
	})
	if extra != count {
		t.Errorf("%s has %d files, %s has %d", got, extra, want, count)
	}
}

// Snapshot returns the sorted paths of everything under dir.
func Snapshot(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
