package store

import (
	"errors"
	"runtime"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

// groupRun holds the store busy with one write while n more arrive, then
// lets them go; bad is the index of a write that fails (-1 for none). It
// returns each write's error and the transaction each first ran in.
func groupRun(t *testing.T, s *Store, n, bad int) ([]error, map[int]int) {
	release := make(chan struct{})
	started := make(chan struct{})
	var mu sync.Mutex
	txOf := map[int]int{}
	var wg sync.WaitGroup
	wg.Go(func() {
		err := s.updateGrouped(func(tx *bbolt.Tx) error {
			close(started)
			<-release
			return nil
		})
		if err != nil {
			t.Errorf("first write: %v", err)
		}
	})
	<-started
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.updateGrouped(func(tx *bbolt.Tx) error {
				mu.Lock()
				if _, ok := txOf[i]; !ok {
					txOf[i] = int(tx.ID())
				}
				mu.Unlock()
				if i == bad {
					return errBoom
				}
				b, err := tx.CreateBucketIfNotExists([]byte("group-test"))
				if err != nil {
					return err
				}
				return b.Put([]byte{byte(i)}, []byte{1})
			})
		})
	}
	for { // until all n are queued behind the first
		s.group.mu.Lock()
		q := len(s.group.pending)
		s.group.mu.Unlock()
		if q == n {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("group-test"))
		for i := range n {
			if got := b != nil && b.Get([]byte{byte(i)}) != nil; got != (i != bad) {
				t.Errorf("record %d present = %v", i, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return errs, txOf
}

var errBoom = errors.New("boom")

// TestGroupCommit checks that 40 writes queued while the store is busy are
// committed together, in one transaction after the busy one.
func TestGroupCommit(t *testing.T) {
	s := openT(t, dbPath(t))
	errs, txOf := groupRun(t, s, 40, -1)
	txs := map[int]bool{}
	for _, id := range txOf {
		txs[id] = true
	}
	if len(txs) != 1 {
		t.Errorf("the 40 queued writes ran in %d transactions, want 1", len(txs))
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
}

// TestGroupCommitFailure checks that a failing write of a group fails
// only itself: the others are committed and told so.
func TestGroupCommitFailure(t *testing.T) {
	s := openT(t, dbPath(t))
	errs, _ := groupRun(t, s, 40, 7)
	for i, err := range errs {
		if (i == 7) != errors.Is(err, errBoom) {
			t.Errorf("write %d: err %v", i, err)
		}
	}
}

// TestPutTorrentConcurrent adds 200 torrents from 16 goroutines: every
// record is stored.
func TestPutTorrentConcurrent(t *testing.T) {
	s := openT(t, dbPath(t))
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < 200; i += 16 {
				if err := s.PutTorrent(sampleTorrent(i)); err != nil {
					t.Errorf("put %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	ts, err := s.Torrents()
	if err != nil || len(ts) != 200 {
		t.Fatalf("Torrents() = %d records, %v; want 200", len(ts), err)
	}
}

// TestPutTorrentsOneCommit checks that PutTorrents saves a batch in one
// commit, a bad record failing alone, and that DeleteTorrents takes a
// batch back in one more.
func TestPutTorrentsOneCommit(t *testing.T) {
	s := openT(t, dbPath(t))
	ts := make([]Torrent, 300)
	for i := range ts {
		ts[i] = sampleTorrent(i)
	}
	ts[17].Uploaded = -1 // cannot be encoded
	before := s.Commits()
	errs := s.PutTorrents(ts)
	if got := s.Commits() - before; got != 1 {
		t.Errorf("PutTorrents of %d records took %d commits, want 1", len(ts), got)
	}
	for i, err := range errs {
		if (i == 17) != (err != nil) {
			t.Errorf("record %d: err %v", i, err)
		}
	}
	got, err := s.Torrents()
	if err != nil || len(got) != len(ts)-1 {
		t.Fatalf("Torrents() = %d records, %v; want %d", len(got), err, len(ts)-1)
	}
	hs := make([][20]byte, 0, len(ts))
	for _, tr := range ts {
		hs = append(hs, tr.InfoHash)
	}
	before = s.Commits()
	if err := s.DeleteTorrents(hs); err != nil {
		t.Fatal(err)
	}
	if got := s.Commits() - before; got != 1 {
		t.Errorf("DeleteTorrents took %d commits, want 1", got)
	}
	if got, err := s.Torrents(); err != nil || len(got) != 0 {
		t.Fatalf("after DeleteTorrents: %d records, %v", len(got), err)
	}
}
