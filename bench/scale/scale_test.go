package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
)

// TestCorpus checks that the generated torrents parse, carry the announce
// URL they were given, hash to what the benchmark believes, and describe
// the payload written for them; and that a second generation is the same.
func TestCorpus(t *testing.T) {
	dir := t.TempDir()
	c, err := makeCorpus(dir, 20, 2, 20<<10, 70<<10, "http://127.0.0.1:1/announce", "http://127.0.0.1:2/announce", 0.25)
	if err != nil {
		t.Fatal(err)
	}
	dead, active := 0, 0
	for i, it := range c.Items {
		mi, err := metainfo.Parse(it.Torrent)
		if err != nil {
			t.Fatalf("torrent %d: %v", i, err)
		}
		if [20]byte(mi.InfoHash) != it.Hash {
			t.Errorf("torrent %d: info hash %x, benchmark has %x", i, mi.InfoHash, it.Hash)
		}
		if mi.Info.NumPieces() != int((it.Size+pieceLength-1)/pieceLength) {
			t.Errorf("torrent %d: %d pieces for %d bytes", i, mi.Info.NumPieces(), it.Size)
		}
		st, err := os.Stat(filepath.Join(c.DataDir, it.Name))
		if err != nil || st.Size() != it.Size {
			t.Errorf("torrent %d: payload %v %v", i, st, err)
		}
		if mi.Announce == "http://127.0.0.1:2/announce" {
			dead++
			if !isDead(options{deadShare: 0.25}, it) {
				t.Errorf("torrent %d announces to the dead tracker but isDead says no", i)
			}
		}
		if it.Active {
			active++
		}
	}
	if active != 2 || dead != 5 {
		t.Errorf("%d active, %d on the dead tracker; want 2 and 5", active, dead)
	}
	again, err := makeCorpus(dir, 20, 2, 20<<10, 70<<10, "http://127.0.0.1:1/announce", "http://127.0.0.1:2/announce", 0.25)
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Items {
		if again.Items[i].Hash != c.Items[i].Hash {
			t.Fatalf("torrent %d differs between two generations", i)
		}
	}
}

// TestAnnounceStats checks the per-second counts, peaks and the time by
// which every torrent had announced.
func TestAnnounceStats(t *testing.T) {
	c := newAnnounceCounter()
	c.start = time.Now().Add(-3 * time.Second) // the adds below land in second 3
	for _, h := range []string{"a", "b", "a", "c"} {
		c.add(h)
	}
	st := c.stats(time.Minute, 3)
	if st.Total != 4 || st.Torrents != 3 || st.PeakPerSec != 4 || st.PeakPer10s != 4 {
		t.Errorf("stats %+v", st)
	}
	if st.AllBy < 3*time.Second || st.AllBy > time.Minute {
		t.Errorf("all announced by %v", st.AllBy)
	}
	if st := c.stats(time.Minute, 4); st.AllBy != 0 {
		t.Errorf("AllBy %v with a torrent missing", st.AllBy)
	}
	if st := c.stats(2*time.Second, 3); st.Total != 0 {
		t.Errorf("window of 2 s counted %d announces made in second 3", st.Total)
	}
}

func TestPercentileAndLines(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	if percentile(ds, 50) != 3 || percentile(ds, 99) != 4 || percentile(ds, 100) != 5 || percentile(nil, 50) != 0 {
		t.Errorf("percentiles of %v", ds)
	}
	p := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(p, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if linesSince(p, 1) != 2 || linesSince(p, 10) != 3 {
		t.Errorf("linesSince: %d %d", linesSince(p, 1), linesSince(p, 10))
	}
}

// fakeDaemon records adds; with batch > 0 it is a multiAdder.
type fakeDaemon struct {
	mu      sync.Mutex
	added   map[string]int
	batches []int
	batch   int
	delay   time.Duration
}

func (f *fakeDaemon) name() string                              { return "fake" }
func (f *fakeDaemon) start() error                              { return nil }
func (f *fakeDaemon) pid() int                                  { return os.Getpid() }
func (f *fakeDaemon) downloadDir() string                       { return "" }
func (f *fakeDaemon) status() (daemonStatus, error)             { return daemonStatus{}, nil }
func (f *fakeDaemon) listRoutes() []listRoute                   { return nil }
func (f *fakeDaemon) goroutines() int                           { return -1 }
func (f *fakeDaemon) stop(time.Duration) (time.Duration, error) { return 0, nil }
func (f *fakeDaemon) logPath() string                           { return "" }
func (f *fakeDaemon) add(it item) error                         { return f.addBatch([]item{it}) }
func (f *fakeDaemon) batchSize() int                            { return f.batch }
func (f *fakeDaemon) addBatch(items []item) error {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range items {
		f.added[it.Name]++
	}
	f.batches = append(f.batches, len(items))
	return nil
}

// oneByOne hides fakeDaemon's multiAdder methods.
type oneByOne struct{ daemon }

// TestAddParallel checks that every item is added exactly once, in
// batches of the daemon's size when it takes batches, and that the
// deadline stops the adds and the count says how many were made.
func TestAddParallel(t *testing.T) {
	items := make([]item, 103)
	for i := range items {
		items[i].Name = fmt.Sprintf("t%d", i)
	}
	for _, batch := range []int{0, 10} {
		f := &fakeDaemon{added: map[string]int{}, batch: batch}
		var d daemon = f
		if batch == 0 {
			d = oneByOne{f}
		}
		n, err := addParallel(d, items, 8, time.Now().Add(time.Minute))
		if err != nil || n != len(items) || len(f.added) != len(items) {
			t.Fatalf("batch %d: added %d (%d distinct), err %v", batch, n, len(f.added), err)
		}
		for name, k := range f.added {
			if k != 1 {
				t.Errorf("batch %d: %s added %d times", batch, name, k)
			}
		}
		want := 103
		if batch == 10 {
			want = 11 // ten of 10 and one of 3
		}
		if len(f.batches) != want {
			t.Errorf("batch %d: %d requests, want %d", batch, len(f.batches), want)
		}
	}
	f := &fakeDaemon{added: map[string]int{}, delay: 20 * time.Millisecond}
	n, err := addParallel(oneByOne{f}, items, 2, time.Now().Add(100*time.Millisecond))
	if err != nil || n >= len(items) || n != len(f.added) {
		t.Errorf("with a deadline: reported %d, daemon has %d of %d, err %v", n, len(f.added), len(items), err)
	}
}

// TestLoadWatch checks that the load average is read and summarised.
func TestLoadWatch(t *testing.T) {
	l, err := loadAvg()
	if err != nil || l < 0 {
		t.Fatalf("loadAvg: %v %v", l, err)
	}
	w := watchLoad("test", 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	st := w.end()
	if st.Phase != "test" || st.Samples < 2 || st.Max < st.Mean || st.Mean < 0 || st.Took <= 0 {
		t.Errorf("load stats %+v", st)
	}
}
