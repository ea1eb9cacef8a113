package storage

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestCacheBoundConcurrent hammers a 10-file torrent with MaxOpenFiles=2
// from many goroutines (run under -race) and checks the bound and the data.
func TestCacheBoundConcurrent(t *testing.T) {
	var files []fileSpec
	for i := range 10 {
		files = append(files, fileSpec{path: fmt.Sprintf("ten/f%d.bin", i), length: 700 + int64(i)*13})
	}
	tt := makeTorrent(t, 512, files, 21)
	n := tt.layout.NumPieces()
	dir := t.TempDir()
	s := tt.open(t, dir, Options{MaxOpenFiles: 2})

	var wg sync.WaitGroup
	errc := make(chan error, 64)
	// Writers: every piece written by two goroutines (same content), in
	// different orders.
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for _, p := range rng.Perm(n) {
				if w%2 == 1 && p%2 == 0 {
					continue
				}
				if err := s.WritePiece(p, tt.piece(p)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	// Readers running alongside: errors are expected (data not there yet),
	// data races and deadlocks are not.
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			b := make([]byte, 100)
			for range 200 {
				p := rng.IntN(n)
				begin := rng.IntN(int(tt.layout.PieceSize(p)) - len(b) + 1)
				_ = s.ReadBlock(p, begin, b)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("concurrent write: %v", err)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	tt.checkFilesOnDisk(t, dir)

	// Concurrent verified reads of everything.
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range n {
				got := make([]byte, tt.layout.PieceSize(p))
				if err := s.ReadBlock(p, 0, got); err != nil {
					t.Errorf("ReadBlock(%d): %v", p, err)
					return
				}
				if !bytes.Equal(got, tt.piece(p)) {
					t.Errorf("piece %d differs", p)
					return
				}
			}
		}()
	}
	wg.Wait()
	if open, peak := s.cache.numOpen(); open > 2 || peak > 2 {
		t.Fatalf("open handles %d, peak %d; bound is 2", open, peak)
	}
	if _, peak := s.cache.numOpen(); peak < 2 {
		t.Fatalf("peak %d: the cache never held two handles", peak)
	}
}

// TestCacheWaitsForFreeHandle checks that with every handle in use, an
// acquire of another file waits until one is released, and that an evicted
// handle stays usable by its holder.
func TestCacheWaitsForFreeHandle(t *testing.T) {
	dir := t.TempDir()
	opens := make(map[int]int)
	var mu sync.Mutex
	c := newFileCache(1, func(i int, write bool) (*os.File, error) {
		mu.Lock()
		opens[i]++
		mu.Unlock()
		return os.OpenFile(filepath.Join(dir, fmt.Sprint(i)), os.O_RDWR|os.O_CREATE, 0o644)
	})
	h0, err := c.acquire(0, true)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *handle)
	go func() {
		h1, err := c.acquire(1, true)
		if err != nil {
			t.Error(err)
		}
		got <- h1
	}()
	select {
	case <-got:
		t.Fatal("acquire went past the bound while the only handle was in use")
	case <-time.After(50 * time.Millisecond):
	}
	// Still usable while the other goroutine waits.
	if _, err := h0.f.WriteAt([]byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	c.release(h0)
	var h1 *handle
	select {
	case h1 = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("acquire did not proceed after release")
	}
	if open, _ := c.numOpen(); open != 1 {
		t.Fatalf("open = %d, want 1", open)
	}
	c.release(h1)
	// Same file again: a cache hit, no new open.
	h1, err = c.acquire(1, false)
	if err != nil {
		t.Fatal(err)
	}
	c.release(h1)
	if opens[1] != 1 || opens[0] != 1 {
		t.Fatalf("opens = %v, want one each", opens)
	}
	c.closeAll()
	if open, _ := c.numOpen(); open != 0 {
		t.Fatalf("open = %d after closeAll", open)
	}
	if _, err := c.acquire(0, false); !errors.Is(err, ErrClosed) {
		t.Fatalf("acquire after closeAll: %v", err)
	}
}

// TestCacheUpgradesReadHandle checks that a read-only handle is replaced by
// a writable one when a write comes, and that the old one closes only when
// its holder releases it.
func TestCacheUpgradesReadHandle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newFileCache(4, func(i int, write bool) (*os.File, error) {
		if write {
			return os.OpenFile(path, os.O_RDWR, 0)
		}
		return os.Open(path)
	})
	r, err := c.acquire(0, false)
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.acquire(0, true)
	if err != nil {
		t.Fatal(err)
	}
	if r == w || !w.writable {
		t.Fatal("write acquire reused the read-only handle")
	}
	if open, _ := c.numOpen(); open != 2 {
		t.Fatalf("open = %d, want 2 (old handle still referenced)", open)
	}
	b := make([]byte, 5)
	if _, err := r.f.ReadAt(b, 0); err != nil {
		t.Fatalf("retired handle unusable before release: %v", err)
	}
	c.release(r)
	if open, _ := c.numOpen(); open != 1 {
		t.Fatalf("open = %d after releasing the old handle, want 1", open)
	}
	c.release(w)
	again, err := c.acquire(0, false)
	if err != nil {
		t.Fatal(err)
	}
	if again != w {
		t.Fatal("read acquire did not reuse the writable handle")
	}
	c.release(again)
	c.closeAll()
}
