package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestTorrentRoundTrip(t *testing.T) {
	s := openT(t, dbPath(t))
	full := sampleTorrent(1)
	tests := []struct {
		name string
		in   Torrent
	}{
		{"full", full},
		{"minimal", Torrent{InfoHash: hashOf(2)}},
		{"magnet before metadata", Torrent{InfoHash: hashOf(3), Magnet: "magnet:?xt=urn:btih:abc", SaveDir: "/d",
			AddedAt: time.Date(2025, 5, 5, 5, 5, 5, 5, time.UTC)}},
		{"zero limits, big totals", Torrent{InfoHash: hashOf(4), Uploaded: 1 << 50, Downloaded: 1 << 40}},
		{"file priorities and piece order", Torrent{InfoHash: hashOf(5), FilePriorities: map[int]int{0: 0, 3: 3, 7: 1},
			Only: []int{1, 3}, Sequential: true, FirstLastPieceFirst: true}},
		{"renamed files and display name", Torrent{InfoHash: hashOf(7), FilePaths: map[int]string{0: "New/a.mkv", 5: "b"},
			DisplayName: "My name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutTorrent(tc.in); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.Torrent(tc.in.InfoHash)
			if err != nil || !ok {
				t.Fatalf("Torrent: ok=%v err=%v", ok, err)
			}
			if !reflect.DeepEqual(got, tc.in) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tc.in)
			}
		})
	}
	if _, ok, err := s.Torrent(hashOf(99)); ok || err != nil {
		t.Errorf("missing torrent: ok=%v err=%v", ok, err)
	}
	// Replacing keeps a single record with the new contents.
	full.Name = "renamed"
	if err := s.PutTorrent(full); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Torrent(full.InfoHash)
	if got.Name != "renamed" {
		t.Errorf("after replace Name = %q", got.Name)
	}
	for _, bad := range []Torrent{
		{InfoHash: hashOf(6), FilePriorities: map[int]int{0: 4}},
		{InfoHash: hashOf(6), FilePriorities: map[int]int{-1: 1}},
		{InfoHash: hashOf(6), Only: []int{-2}},
		{InfoHash: hashOf(6), FilePaths: map[int]string{-1: "a"}},
		{InfoHash: hashOf(6), FilePaths: map[int]string{0: ""}},
		{InfoHash: hashOf(6), FilePaths: map[int]string{0: strings.Repeat("a", maxStringLen+1)}},
		{InfoHash: hashOf(6), DisplayName: strings.Repeat("a", maxStringLen+1)},
	} {
		if err := s.PutTorrent(bad); err == nil {
			t.Errorf("PutTorrent(%+v) accepted a bad file priority", bad)
		}
	}
	all, err := s.Torrents()
	if err != nil || len(all) != len(tests) {
		t.Errorf("Torrents: %d records, err %v; want %d", len(all), err, len(tests))
	}
}

func TestPutTorrentRejectsOversized(t *testing.T) {
	s := openT(t, dbPath(t))
	tr := Torrent{InfoHash: hashOf(1), Trackers: make([][]string, maxTiers+1)}
	if err := s.PutTorrent(tr); err == nil {
		t.Error("PutTorrent accepted too many tracker tiers")
	}
	if err := s.PutTorrent(Torrent{InfoHash: hashOf(1), Uploaded: -1}); err == nil {
		t.Error("PutTorrent accepted negative totals")
	}
}

func TestResumeRoundTrip(t *testing.T) {
	s := openT(t, dbPath(t))
	h := hashOf(1)
	if err := s.PutTorrent(Torrent{InfoHash: h}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   Resume
	}{
		{"no pieces", Resume{NumPieces: 0, Bitfield: []byte{}}},
		{"13 pieces", Resume{NumPieces: 13, Bitfield: []byte{0xff, 0xf8},
			Files:   []FileStamp{{Size: 100, ModTime: 1700000000123456789}, {Size: 0, ModTime: 0}},
			SavedAt: time.Date(2024, 3, 4, 5, 6, 7, 8, time.UTC)}},
		{"16 pieces, none", Resume{NumPieces: 16, Bitfield: []byte{0, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutResume(h, tc.in); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.Resume(h)
			if err != nil || !ok {
				t.Fatalf("Resume: ok=%v err=%v", ok, err)
			}
			if !reflect.DeepEqual(got, tc.in) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tc.in)
			}
		})
	}
	if _, ok, err := s.Resume(hashOf(2)); ok || err != nil {
		t.Errorf("missing resume: ok=%v err=%v", ok, err)
	}
}

func TestPutResumeRejectsInconsistentData(t *testing.T) {
	s := openT(t, dbPath(t))
	h := hashOf(1)
	if err := s.PutTorrent(Torrent{InfoHash: h}); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		r    Resume
	}{
		{"bitfield too short", Resume{NumPieces: 9, Bitfield: []byte{0xff}}},
		{"bitfield too long", Resume{NumPieces: 8, Bitfield: []byte{0xff, 0}}},
		{"spare bits set", Resume{NumPieces: 9, Bitfield: []byte{0xff, 0x01}}},
		{"negative pieces", Resume{NumPieces: -1}},
		{"too many pieces", Resume{NumPieces: maxPieces + 1, Bitfield: make([]byte, (maxPieces+8)/8)}},
		{"negative file size", Resume{Files: []FileStamp{{Size: -2}}, Bitfield: []byte{}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutResume(h, tc.r); err == nil {
				t.Error("PutResume accepted it")
			}
		})
	}
	if _, ok, _ := s.Resume(h); ok {
		t.Error("a rejected resume record was stored")
	}
	// Size -1 is an absent file or a pad file (storage.Stamps): kept.
	absent := Resume{NumPieces: 1, Bitfield: []byte{0}, Files: []FileStamp{{Size: -1}, {Size: 5, ModTime: 7}}}
	if err := s.PutResume(h, absent); err != nil {
		t.Fatalf("PutResume with an absent file: %v", err)
	}
	if got, ok, err := s.Resume(h); err != nil || !ok || len(got.Files) != 2 || got.Files[0].Size != -1 || got.Files[1] != absent.Files[1] {
		t.Fatalf("Resume = %+v, %v, %v; want the stamps back", got, ok, err)
	}
	if err := s.PutResume(hashOf(2), Resume{Bitfield: []byte{}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutResume for an unknown torrent: %v, want ErrNotFound", err)
	}
}

func TestStats(t *testing.T) {
	s := openT(t, dbPath(t))
	tr := sampleTorrent(1)
	if err := s.PutTorrent(tr); err != nil {
		t.Fatal(err)
	}
	if err := s.PutStats(tr.InfoHash, 5<<30, 7<<30); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Torrent(tr.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Uploaded != 5<<30 || got.Downloaded != 7<<30 {
		t.Errorf("totals = %d/%d, want %d/%d", got.Uploaded, got.Downloaded, int64(5<<30), int64(7<<30))
	}
	got.Uploaded, got.Downloaded = tr.Uploaded, tr.Downloaded
	if !reflect.DeepEqual(got, tr) {
		t.Errorf("PutStats changed the record: %+v", got)
	}
	if err := s.PutStats(hashOf(2), 1, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutStats for an unknown torrent: %v, want ErrNotFound", err)
	}
	if err := s.PutStats(tr.InfoHash, -1, 0); err == nil {
		t.Error("PutStats accepted a negative total")
	}
}

func TestSettings(t *testing.T) {
	s := openT(t, dbPath(t))
	type cfg struct {
		Port  int
		Dirs  []string
		Ratio float64
	}
	want := cfg{Port: 6881, Dirs: []string{"/a", "/b"}, Ratio: 2}
	if err := s.PutSetting("session", want); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting("name", "gobit"); err != nil {
		t.Fatal(err)
	}
	var got cfg
	if ok, err := s.Setting("session", &got); !ok || err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Setting(session) = %+v ok=%v err=%v", got, ok, err)
	}
	var name string
	if ok, err := s.Setting("name", &name); !ok || err != nil || name != "gobit" {
		t.Errorf("Setting(name) = %q ok=%v err=%v", name, ok, err)
	}
	untouched := 42
	if ok, err := s.Setting("missing", &untouched); ok || err != nil || untouched != 42 {
		t.Errorf("Setting(missing) ok=%v err=%v value=%d", ok, err, untouched)
	}
	// A stored value of the wrong shape is reported as corrupt.
	var n int
	if _, err := s.Setting("session", &n); !errors.Is(err, ErrCorrupt) {
		t.Errorf("decoding a struct into an int: %v, want ErrCorrupt", err)
	}
	if err := s.PutSetting("", 1); err == nil {
		t.Error("empty key accepted")
	}
	if err := s.PutSetting(strings.Repeat("k", maxKeyLen+1), 1); err == nil {
		t.Error("overlong key accepted")
	}
	if err := s.PutSetting("ch", make(chan int)); err == nil {
		t.Error("unencodable value accepted")
	}
}

func TestTorrentsOrder(t *testing.T) {
	s := openT(t, dbPath(t))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// Added in scrambled order; two share an AddedAt (ordered by hash).
	offsets := []int{5, 1, 3, 3, 0, 4}
	for i, off := range offsets {
		if err := s.PutTorrent(Torrent{InfoHash: hashOf(i), Name: string(rune('a' + i)),
			AddedAt: base.Add(time.Duration(off) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Torrents()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(offsets) {
		t.Fatalf("%d torrents, want %d", len(list), len(offsets))
	}
	for i := 1; i < len(list); i++ {
		a, b := list[i-1], list[i]
		if a.AddedAt.After(b.AddedAt) ||
			(a.AddedAt.Equal(b.AddedAt) && bytes.Compare(a.InfoHash[:], b.InfoHash[:]) >= 0) {
			t.Errorf("out of order at %d: %v %x, %v %x", i, a.AddedAt, a.InfoHash, b.AddedAt, b.InfoHash)
		}
	}
	if list[0].Name != "e" || list[len(list)-1].Name != "a" {
		t.Errorf("first %q last %q, want e and a", list[0].Name, list[len(list)-1].Name)
	}
}

func TestTorrentsEmpty(t *testing.T) {
	s := openT(t, dbPath(t))
	list, err := s.Torrents()
	if err != nil || list == nil || len(list) != 0 {
		t.Errorf("Torrents on an empty store = %v, %v; want empty non-nil slice", list, err)
	}
}

func TestDeleteTorrentRemovesEverything(t *testing.T) {
	s := openT(t, dbPath(t))
	keep, gone := sampleTorrent(1), sampleTorrent(2)
	for _, tr := range []Torrent{keep, gone} {
		if err := s.PutTorrent(tr); err != nil {
			t.Fatal(err)
		}
		if err := s.PutResume(tr.InfoHash, Resume{NumPieces: 3, Bitfield: []byte{0xa0}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteTorrent(gone.InfoHash); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Torrent(gone.InfoHash); ok || err != nil {
		t.Errorf("deleted torrent still there: ok=%v err=%v", ok, err)
	}
	if _, ok, err := s.Resume(gone.InfoHash); ok || err != nil {
		t.Errorf("deleted torrent's resume still there: ok=%v err=%v", ok, err)
	}
	err := s.view(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketTorrents, bucketStats, bucketResume} {
			if tx.Bucket(b).Get(gone.InfoHash[:]) != nil {
				t.Errorf("bucket %s still holds the deleted torrent", b)
			}
			if tx.Bucket(b).Get(keep.InfoHash[:]) == nil {
				t.Errorf("bucket %s lost the other torrent", b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTorrent(hashOf(77)); err != nil {
		t.Errorf("deleting an unknown torrent: %v", err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := dbPath(t)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := sampleTorrent(3)
	res := Resume{NumPieces: 10, Bitfield: []byte{0xff, 0xc0}, Files: []FileStamp{{Size: 10, ModTime: 20}}}
	if err := s.PutTorrent(tr); err != nil {
		t.Fatal(err)
	}
	if err := s.PutResume(tr.InfoHash, res); err != nil {
		t.Fatal(err)
	}
	if err := s.PutStats(tr.InfoHash, 11, 22); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting("port", 6881); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, path)
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	tr.Uploaded, tr.Downloaded = 11, 22
	if got, ok, err := s.Torrent(tr.InfoHash); !ok || err != nil || !reflect.DeepEqual(got, tr) {
		t.Errorf("torrent after reopen = %+v ok=%v err=%v", got, ok, err)
	}
	if got, ok, err := s.Resume(tr.InfoHash); !ok || err != nil || !reflect.DeepEqual(got, res) {
		t.Errorf("resume after reopen = %+v ok=%v err=%v", got, ok, err)
	}
	var port int
	if ok, err := s.Setting("port", &port); !ok || err != nil || port != 6881 {
		t.Errorf("setting after reopen = %d ok=%v err=%v", port, ok, err)
	}
}

func TestSchemaVersionWritten(t *testing.T) {
	s := openT(t, dbPath(t))
	err := s.view(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get(keySchemaVersion)
		if len(raw) != 8 || binary.BigEndian.Uint64(raw) != SchemaVersion {
			t.Errorf("schema_version = %x, want %d", raw, SchemaVersion)
		}
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				t.Errorf("bucket %s missing", b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if currentVersion() != SchemaVersion {
		t.Errorf("len(migrations) = %d but SchemaVersion = %d", currentVersion(), SchemaVersion)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := openT(t, dbPath(t))
	for i := range 4 {
		if err := s.PutTorrent(Torrent{InfoHash: hashOf(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 10 {
				if err := s.PutStats(hashOf(i), int64(j), int64(j)); err != nil {
					t.Error(err)
				}
				if _, err := s.Torrents(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	list, err := s.Torrents()
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range list {
		if tr.Uploaded != 9 {
			t.Errorf("torrent %x uploaded %d, want 9", tr.InfoHash, tr.Uploaded)
		}
	}
}

// TestPutFlush writes the resume data and totals of several torrents at
// once; a torrent not stored is skipped, bad data writes nothing.
func TestPutFlush(t *testing.T) {
	s := openT(t, dbPath(t))
	for i := range 3 {
		if err := s.PutTorrent(Torrent{InfoHash: hashOf(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	r := Resume{NumPieces: 3, Bitfield: []byte{0xe0}, Files: []FileStamp{{Size: 9, ModTime: 5}}}
	items := []Flush{
		{InfoHash: hashOf(1), Resume: &r, Uploaded: 10, Downloaded: 20},
		{InfoHash: hashOf(2), Uploaded: 30, Downloaded: 40}, // totals only
		{InfoHash: hashOf(9), Resume: &r, Uploaded: 1},      // not stored: skipped
	}
	if err := s.PutFlush(items); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Resume(hashOf(1)); err != nil || !ok || !reflect.DeepEqual(got, r) {
		t.Errorf("resume 1 = %+v %v %v", got, ok, err)
	}
	if _, ok, _ := s.Resume(hashOf(2)); ok {
		t.Error("resume written for an item without one")
	}
	if _, ok, _ := s.Resume(hashOf(9)); ok {
		t.Error("resume written for a torrent not stored")
	}
	for _, w := range []struct {
		h        int
		up, down int64
	}{{1, 10, 20}, {2, 30, 40}, {3, 0, 0}} {
		tr, _, err := s.Torrent(hashOf(w.h))
		if err != nil || tr.Uploaded != w.up || tr.Downloaded != w.down {
			t.Errorf("torrent %d totals = %d/%d (%v), want %d/%d", w.h, tr.Uploaded, tr.Downloaded, err, w.up, w.down)
		}
	}
	bad := Resume{NumPieces: 3, Bitfield: []byte{0xff}} // spare bits set
	if err := s.PutFlush([]Flush{{InfoHash: hashOf(3), Uploaded: 5}, {InfoHash: hashOf(2), Resume: &bad}}); err == nil {
		t.Error("PutFlush accepted an inconsistent bitfield")
	}
	if tr, _, _ := s.Torrent(hashOf(3)); tr.Uploaded != 0 {
		t.Error("a failed PutFlush wrote part of its items")
	}
}

// TestResumes reads every torrent's resume data at once and leaves out a
// damaged record.
func TestResumes(t *testing.T) {
	s := openT(t, dbPath(t))
	r := Resume{NumPieces: 3, Bitfield: []byte{0xe0}, Files: []FileStamp{{Size: 9, ModTime: 5}}}
	for i := range 3 {
		if err := s.PutTorrent(Torrent{InfoHash: hashOf(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutFlush([]Flush{{InfoHash: hashOf(1), Resume: &r}, {InfoHash: hashOf(2), Resume: &r}}); err != nil {
		t.Fatal(err)
	}
	bad := hashOf(3)
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketResume).Put(bad[:], []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Resumes()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || !reflect.DeepEqual(all[hashOf(1)], r) || !reflect.DeepEqual(all[hashOf(2)], r) {
		t.Errorf("Resumes = %+v, want torrents 1 and 2 with %+v", all, r)
	}
}
