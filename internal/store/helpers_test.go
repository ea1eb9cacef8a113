package store

import (
	"crypto/sha1"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// hashOf returns a deterministic info hash for test torrent n.
func hashOf(n int) [20]byte {
	return sha1.Sum([]byte{byte(n >> 8), byte(n)})
}

// dbPath returns a fresh database path in a new temporary directory.
func dbPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "data", "gobit.db")
}

// openT opens path with a short lock timeout and closes it at cleanup.
func openT(t testing.TB, path string) *Store {
	t.Helper()
	s, err := open(path, options{lockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sampleTorrent returns a fully populated torrent record.
func sampleTorrent(n int) Torrent {
	return Torrent{
		InfoHash:    hashOf(n),
		Name:        "torrent " + string(rune('a'+n%26)),
		Magnet:      "magnet:?xt=urn:btih:0123",
		Torrent:     []byte("d4:infod6:lengthi1e4:name1:xee"),
		InfoBytes:   []byte("d6:lengthi1e4:name1:xe"),
		Trackers:    [][]string{{"http://127.0.0.1:1/announce", "udp://127.0.0.1:2"}, {"http://b/announce"}},
		SaveDir:     "/srv/downloads",
		Paused:      n%2 == 1,
		AddedAt:     time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC).Add(time.Duration(n) * time.Minute),
		CompletedAt: time.Date(2024, 2, 2, 3, 4, 5, 0, time.UTC),
		Uploaded:    int64(1000 + n),
		Downloaded:  int64(2000 + n),
		Limits:      Limits{UploadLimit: 1 << 20, DownloadLimit: 2 << 20, RatioLimit: 1.5, SeedTimeLimit: 3600, UploadSlots: 4},
	}
}

// writeValidDB creates a database holding n torrents, whose .torrent bytes
// are padSize bytes each (large values spill into overflow pages), written
// in one transaction, and returns its path, closed.
func writeValidDB(t testing.TB, n, padSize int) string {
	t.Helper()
	path := dbPath(t)
	s, err := open(path, options{lockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		for i := range n {
			tr := sampleTorrent(i)
			tr.Torrent = make([]byte, padSize)
			for j := range tr.Torrent {
				tr.Torrent[j] = byte(i * j)
			}
			val, err := encodeTorrent(tr)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketTorrents).Put(tr.InfoHash[:], val); err != nil {
				return err
			}
			st, _ := encodeStats(tr.Uploaded, tr.Downloaded)
			if err := tx.Bucket(bucketStats).Put(tr.InfoHash[:], st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixMetaChecksums recomputes the checksums of both meta pages in a file
// image laid out with pageSize-byte pages, so that a mutated image gets past
// the checksum and exercises the rest of the validation.
func fixMetaChecksums(b []byte, pageSize int) {
	for _, off := range []int{0, pageSize} {
		m := off + pageHeaderSize
		if m+metaSize > len(b) {
			continue
		}
		h := fnv.New64a()
		h.Write(b[m : m+56])
		ne.PutUint64(b[m+56:], h.Sum64())
	}
}

// readFile returns the file's bytes or fails the test.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
