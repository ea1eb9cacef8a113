package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// expectCorrupt asserts that opening path fails with ErrCorrupt naming it.
func expectCorrupt(t *testing.T, path string) {
	t.Helper()
	s, err := open(path, options{lockTimeout: 100 * time.Millisecond})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded on a corrupt file")
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestOpenCorruptFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	valid := readFile(t, writeValidDB(t, 40, 20_000))
	if len(valid) < 64<<10 {
		t.Fatalf("valid db only %d bytes; the truncation cases need more", len(valid))
	}
	smashPage := func(page int) []byte {
		b := bytes.Clone(valid)
		copy(b[page*4096:(page+1)*4096], random(4096))
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"zero length", []byte{}},
		{"one byte", []byte{0}},
		{"random 100 bytes", random(100)},
		{"random 4 KiB", random(4096)},
		{"random 64 KiB", random(64 << 10)},
		{"zeros 64 KiB", make([]byte, 64<<10)},
		{"text", []byte(strings.Repeat("this is not a database\n", 1000))},
		{"truncated at half", valid[:len(valid)/2]},
		{"truncated to two pages", valid[:2*4096]},
		{"truncated below the high-water mark", valid[:(highWater(t, valid)-1)*4096]},
		{"both meta pages smashed", append(random(8192), valid[8192:]...)},
		{"tree page smashed", smashPage(3)},
		{"tree pages zeroed", append(bytes.Clone(valid[:8192]), make([]byte, len(valid)-8192)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := dbPath(t)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			expectCorrupt(t, path)
			// The file is left as it was for OpenOrRecover or a human.
			if got := readFile(t, path); !bytes.Equal(got, tc.data) {
				t.Error("Open modified the corrupt file")
			}
		})
	}
}

func TestOpenDirectory(t *testing.T) {
	path := dbPath(t)
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	expectCorrupt(t, path)
}

func TestOpenOneBadMetaPageStillWorks(t *testing.T) {
	// bbolt keeps two meta pages so that a torn write of one loses at most
	// the last transaction; the store must open from the other.
	for page := range 2 {
		path := writeValidDB(t, 5, 100)
		b := readFile(t, path)
		b[page*4096+pageHeaderSize+48] ^= 0xff // txid: breaks the checksum
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s := openT(t, path)
		if _, err := s.Torrents(); err != nil {
			t.Fatalf("meta page %d damaged: %v", page, err)
		}
	}
}

func TestOpenIgnoresUnusedTail(t *testing.T) {
	// bbolt grows the file ahead of use; losing pages past the high-water
	// mark loses nothing.
	path := writeValidDB(t, 40, 20_000)
	b := readFile(t, path)
	hw := highWater(t, b)
	if int64(len(b)) <= hw*4096 {
		t.Skipf("file has no unused tail (%d bytes, high-water page %d)", len(b), hw)
	}
	if err := os.WriteFile(path, b[:hw*4096], 0o600); err != nil {
		t.Fatal(err)
	}
	s := openT(t, path)
	if list, err := s.Torrents(); err != nil || len(list) != 40 {
		t.Fatalf("got %d torrents, %v", len(list), err)
	}
}

// highWater returns the high-water page of the newest valid meta page.
func highWater(t *testing.T, b []byte) int64 {
	t.Helper()
	var best boltMeta
	for i := range 2 {
		m, err := parseMeta(b[i*4096 : (i+1)*4096])
		if err == nil && m.txid >= best.txid {
			best = m
		}
	}
	if best.pgid == 0 {
		t.Fatal("no valid meta page")
	}
	return int64(best.pgid)
}

func TestValidateAcceptsRealDatabases(t *testing.T) {
	tests := []struct{ n, pad int }{{0, 0}, {1, 10}, {300, 50}, {5, 100_000}}
	for _, tc := range tests {
		path := writeValidDB(t, tc.n, tc.pad)
		b := readFile(t, path)
		if err := validateFile(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Errorf("%d torrents of %d bytes: %v", tc.n, tc.pad, err)
		}
		s := openT(t, path)
		if list, err := s.Torrents(); err != nil || len(list) != tc.n {
			t.Errorf("%d torrents of %d bytes: got %d, %v", tc.n, tc.pad, len(list), err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := dbPath(t)
	s := openT(t, path)
	err := s.update(func(tx *bbolt.Tx) error {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], 99)
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, v[:])
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	_, err = Open(path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open: %v, want ErrNewerSchema", err)
	}
	if errors.Is(err, ErrCorrupt) {
		t.Error("a newer schema must not count as corrupt (OpenOrRecover would move it aside)")
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Error("Open modified a newer database")
	}
	_, moved, err := OpenOrRecover(path, slog.New(slog.DiscardHandler))
	if !errors.Is(err, ErrNewerSchema) || moved != "" {
		t.Errorf("OpenOrRecover: moved=%q err=%v, want ErrNewerSchema and nothing moved", moved, err)
	}
}

func TestForeignBoltDatabaseRefused(t *testing.T) {
	path := dbPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("someone-elses"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	expectCorrupt(t, path)
}

func TestMigrations(t *testing.T) {
	orig := migrations
	t.Cleanup(func() { migrations = orig })
	var runs [2]int
	migrations = []func(tx *bbolt.Tx) error{
		func(tx *bbolt.Tx) error { runs[0]++; return orig[0](tx) },
		func(tx *bbolt.Tx) error {
			runs[1]++
			_, err := tx.CreateBucket([]byte("added_by_v2"))
			return err
		},
	}

	// A version-0 database: bbolt file, no gobit buckets at all.
	path := dbPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for round := range 2 {
		s, err := open(path, options{lockTimeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if runs != [2]int{1, 1} {
			t.Errorf("round %d: migrations ran %v times, want once each", round, runs)
		}
		err = s.view(func(tx *bbolt.Tx) error {
			if tx.Bucket([]byte("added_by_v2")) == nil || tx.Bucket(bucketTorrents) == nil {
				t.Error("migrated buckets missing")
			}
			if v, err := readVersion(tx); err != nil || v != 2 {
				t.Errorf("version after migration = %d, %v; want 2", v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A failing migration leaves the database at its old version.
	migrations = append(migrations, func(*bbolt.Tx) error { return errors.New("boom") })
	if _, err := open(path, options{lockTimeout: 100 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("failing migration: %v", err)
	}
	migrations = migrations[:2]
	s := openT(t, path)
	_ = s.view(func(tx *bbolt.Tx) error {
		if v, _ := readVersion(tx); v != 2 {
			t.Errorf("version after a failed migration = %d, want 2", v)
		}
		return nil
	})
}

func TestLocked(t *testing.T) {
	path := dbPath(t)
	first := openT(t, path)
	start := time.Now()
	_, err := open(path, options{lockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "another gobit") || !strings.Contains(err.Error(), path) {
		t.Errorf("unclear error: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %v, want about the 200ms timeout", d)
	}
	// OpenOrRecover must not treat a locked database as corrupt.
	if _, moved, err := OpenOrRecover(path, slog.New(slog.DiscardHandler)); !errors.Is(err, ErrLocked) || moved != "" {
		t.Errorf("OpenOrRecover on a locked db: moved=%q err=%v", moved, err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openT(t, path)
}

func TestOpenOrRecover(t *testing.T) {
	path := dbPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	junk := []byte(strings.Repeat("garbage", 2000))
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	s, moved, err := OpenOrRecover(path, slog.New(slog.NewTextHandler(&logBuf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if !strings.HasPrefix(moved, path+".corrupt-") {
		t.Errorf("moved aside to %q", moved)
	}
	if got := readFile(t, moved); !bytes.Equal(got, junk) {
		t.Error("the moved-aside file lost its contents")
	}
	if !strings.Contains(logBuf.String(), "level=WARN") || !strings.Contains(logBuf.String(), moved) {
		t.Errorf("no warning naming the new location: %q", logBuf.String())
	}
	if err := s.PutTorrent(sampleTorrent(1)); err != nil {
		t.Fatalf("fresh store unusable: %v", err)
	}

	// A healthy database is opened as is.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, moved2, err := OpenOrRecover(path, nil)
	if err != nil || moved2 != "" {
		t.Fatalf("healthy db: moved=%q err=%v", moved2, err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	if _, ok, _ := s2.Torrent(hashOf(1)); !ok {
		t.Error("healthy db lost its torrent")
	}
}

func TestOpenOrRecoverDoesNotClobber(t *testing.T) {
	path := dbPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	var moved []string
	for i := range 2 {
		if err := os.WriteFile(path, []byte{byte(i), 1, 2, 3}, 0o600); err != nil {
			t.Fatal(err)
		}
		s, m, err := OpenOrRecover(path, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		moved = append(moved, m)
	}
	if moved[0] == moved[1] {
		t.Fatalf("both corrupt files moved to %q", moved[0])
	}
	for i, m := range moved {
		if got := readFile(t, m); !bytes.Equal(got, []byte{byte(i), 1, 2, 3}) {
			t.Errorf("%s holds %v", m, got)
		}
	}
}

func TestGarbageRecordsSkipped(t *testing.T) {
	s := openT(t, dbPath(t))
	for i := range 3 {
		if err := s.PutTorrent(sampleTorrent(i)); err != nil {
			t.Fatal(err)
		}
	}
	badJSON, badStats, badResume := hashOf(10), hashOf(1), hashOf(2)
	err := s.update(func(tx *bbolt.Tx) error {
		tb := tx.Bucket(bucketTorrents)
		if err := tb.Put(badJSON[:], []byte("{not json")); err != nil {
			return err
		}
		if err := tb.Put([]byte("short-key"), []byte("{}")); err != nil {
			return err
		}
		if err := tx.Bucket(bucketStats).Put(badStats[:], []byte{1, 2, 3}); err != nil {
			return err
		}
		return tx.Bucket(bucketResume).Put(badResume[:], []byte(`{"num_pieces":9,"bitfield":"/w=="}`))
	})
	if err != nil {
		t.Fatal(err)
	}

	list, err := s.Torrents()
	var cre *CorruptRecordsError
	if !errors.As(err, &cre) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Torrents error %v, want *CorruptRecordsError wrapping ErrCorrupt", err)
	}
	if len(cre.Records) != 3 {
		t.Errorf("%d bad records reported, want 3: %v", len(cre.Records), err)
	}
	if len(list) != 2 {
		t.Errorf("%d good torrents returned, want 2", len(list))
	}
	for _, tr := range list {
		if tr.InfoHash == badStats {
			t.Error("torrent with broken stats returned")
		}
	}
	if _, _, err := s.Torrent(badJSON); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Torrent(bad json): %v, want ErrCorrupt", err)
	}
	if _, _, err := s.Resume(badResume); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Resume(bitfield of wrong length): %v, want ErrCorrupt", err)
	}
	// The caller can clear a bad record and carry on.
	if err := s.DeleteTorrent(badJSON); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Torrent(badJSON); err != nil {
		t.Errorf("after deleting the bad record: %v", err)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	key := hashOf(1)
	resumes := []string{
		`{"num_pieces":-1,"bitfield":""}`,
		`{"num_pieces":16777217,"bitfield":""}`,
		`{"num_pieces":3,"bitfield":"/w=="}`, // spare bits set
		`{"num_pieces":0,"bitfield":"","files":[[-5,0]]}`,
		`[]`, `null1`, ``,
	}
	for _, r := range resumes {
		if _, err := decodeResume(key[:], []byte(r)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeResume(%s): %v, want ErrCorrupt", r, err)
		}
	}
	torrents := []string{`{"trackers":"x"}`, `{"added_at":"yesterday"}`, `5`}
	for _, r := range torrents {
		if _, err := decodeTorrent(key[:], []byte(r)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeTorrent(%s): %v, want ErrCorrupt", r, err)
		}
	}
	neg := make([]byte, statsLen)
	neg[0] = 0x80
	for _, v := range [][]byte{nil, make([]byte, 15), neg} {
		if _, _, err := decodeStats(key[:], v); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeStats(%x): %v, want ErrCorrupt", v, err)
		}
	}
}

func FuzzOpenCorrupt(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add([]byte("not a database"), false)
	f.Add(make([]byte, 8192), true)
	for _, shape := range []struct{ n, pad int }{{0, 0}, {3, 10}, {60, 40}, {2, 9000}} {
		valid := readFile(f, writeValidDB(f, shape.n, shape.pad))
		f.Add(valid, false)
		f.Add(valid, true)
		f.Add(valid[:len(valid)/2], true)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, fixChecksums bool) {
		if len(data) > 256<<10 {
			return
		}
		data = bytes.Clone(data)
		if fixChecksums {
			fixMetaChecksums(data, 4096)
		}
		path := filepath.Join(dir, "gobit.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := open(path, options{lockTimeout: 50 * time.Millisecond, noSync: true})
		if err != nil {
			if errors.Is(err, ErrLocked) {
				t.Fatalf("unexpected lock error: %v", err)
			}
			return
		}
		defer s.Close()
		_, _ = s.Torrents()
		_ = s.PutTorrent(Torrent{InfoHash: hashOf(1), Torrent: make([]byte, 10000)})
		_ = s.DeleteTorrent(hashOf(2))
	})
}
