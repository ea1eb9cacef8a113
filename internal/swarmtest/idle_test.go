package swarmtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// idleTorrents writes n small payloads under dir and adds each to s (its
// data present, so it seeds once checked). It returns the info hashes and
// the payload paths, in order.
func idleTorrents(t *testing.T, s *session.Session, dir string, n int, trackers ...string) (hashes, paths []string) {
	t.Helper()
	for i := range n {
		name := fmt.Sprintf("idle-%03d.bin", i)
		p := Payload(t, dir, name, uint64(1000+i), map[string]int{"": 48 << 10})
		data, mi := MakeTorrent(t, p, 16<<10, trackers...)
		if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, mi.InfoHash.String())
		paths = append(paths, p)
	}
	for _, h := range hashes {
		WaitState(t, s, h, 60*time.Second, session.StateSeeding)
	}
	return hashes, paths
}

// TestRestartTrustsResumeData: after a clean stop, a restart takes the
// complete torrents back from their resume data without reading their
// files, and checks only a torrent whose file changed. One file is
// overwritten behind gobit's back with its size and time kept: a re-hash
// would find its pieces bad, so staying complete proves it was not read.
// Another is overwritten with its time changed: that one must be checked
// and lose the pieces.
func TestRestartTrustsResumeData(t *testing.T) {
	dir := t.TempDir()
	cfg := session.Config{DownloadDir: filepath.Join(dir, "data"), DataDir: filepath.Join(dir, "state")}
	s := NewSessionWith(t, cfg)
	hashes, paths := idleTorrents(t, s, cfg.DownloadDir, 20)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	garble := func(p string, keepTime bool) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, fi.Size()), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := fi.ModTime()
		if !keepTime {
			mt = mt.Add(-time.Hour)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	garble(paths[3], true)
	garble(paths[7], false)

	s2 := NewSessionWith(t, cfg)
	// Confirming resume data is not a check: the unchanged torrents are
	// never shown checking (nor without their metadata).
	deadline := time.Now().Add(60 * time.Second)
	for settled := false; !settled && time.Now().Before(deadline); {
		settled = true
		for _, st := range s2.List() {
			switch {
			case st.InfoHash == hashes[7]:
			case st.State == session.StateChecking || st.State == session.StateMetadata:
				t.Fatalf("torrent %s shown %q after the restart", st.InfoHash, st.State)
			case st.State != session.StateSeeding || st.Progress != 1:
				settled = false
			}
		}
	}
	for i, h := range hashes {
		if i == 7 {
			continue
		}
		st := WaitState(t, s2, h, 60*time.Second, session.StateSeeding)
		if st.Progress != 1 {
			t.Errorf("torrent %d: progress %.2f after restart", i, st.Progress)
		}
	}
	st := WaitState(t, s2, hashes[7], 60*time.Second, session.StateDownloading)
	if st.Progress != 0 {
		t.Errorf("changed torrent: progress %.2f after its check, want 0 (its data was zeroed)", st.Progress)
	}
}

// openFDs returns how many descriptors the process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// TestIdleTorrentsHoldNoDescriptors: torrents that seed with no peers
// close their files and save directory once idle, so 150 of them hold
// no more descriptors than a constant.
func TestIdleTorrentsHoldNoDescriptors(t *testing.T) {
	dir := t.TempDir()
	s := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "data"), HandleIdle: 200 * time.Millisecond})
	before := openFDs(t)
	const n = 150
	hashes, _ := idleTorrents(t, s, filepath.Join(dir, "data"), n)
	var now int
	ok := testutil.Eventually(30*time.Second, func() bool {
		now = openFDs(t)
		return now < before+n/10
	})
	if !ok {
		t.Fatalf("%d descriptors open with %d idle torrents, %d before them", now, n, before)
	}
	// A file closed while idle opens again on demand: a recheck reads it.
	if err := s.Recheck(hashes[0]); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, s, hashes[0], 30*time.Second, session.StateSeeding)
	if st.Progress != 1 {
		t.Errorf("after recheck: progress %.2f", st.Progress)
	}
}

// TestIdleFlushWritesNothing: the periodic flush of torrents whose pieces
// and totals have not changed writes nothing to the state database, and a
// torrent that changes is saved again.
func TestIdleFlushWritesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := session.Config{DownloadDir: filepath.Join(dir, "data"), DataDir: filepath.Join(dir, "state"), FlushInterval: 50 * time.Millisecond}
	s := NewSessionWith(t, cfg)
	hashes, _ := idleTorrents(t, s, cfg.DownloadDir, 30)
	db := filepath.Join(cfg.DataDir, "gobit.db")
	stamp := func() time.Time {
		fi, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	// Let the first flushes after the checks happen, then watch.
	var last time.Time
	settled := testutil.Eventually(30*time.Second, func() bool {
		before := stamp()
		time.Sleep(500 * time.Millisecond)
		last = stamp()
		return last.Equal(before)
	})
	if !settled {
		t.Fatal("the state database is still written every flush with every torrent idle")
	}
	time.Sleep(time.Second) // 20 flush intervals
	if now := stamp(); !now.Equal(last) {
		t.Errorf("state database written at %v by idle flushes", now)
	}
	// A change (a recheck) is saved by the next flush.
	if err := s.Recheck(hashes[0]); err != nil {
		t.Fatal(err)
	}
	WaitState(t, s, hashes[0], 30*time.Second, session.StateSeeding)
	if !testutil.Eventually(10*time.Second, func() bool { return stamp().After(last) }) {
		t.Error("the flush after a recheck wrote nothing")
	}
}

// TestIdleTorrentsHoldNoGoroutines: 200 complete torrents seeding with no
// peers, announcing to a tracker, park: together they hold no more
// goroutines or descriptors than a constant, and each still answers at once (a detail
// call wakes it) and parks again.
func TestIdleTorrentsHoldNoGoroutines(t *testing.T) {
	tr := trackertest.New(t)
	tr.SetInterval(time.Hour, 0)
	dir := t.TempDir()
	// The first flush comes after the torrents parked: saving their
	// resume data must not leave their files open.
	cfg := session.Config{DownloadDir: filepath.Join(dir, "data"), DataDir: filepath.Join(dir, "state"), FlushInterval: 15 * time.Second}
	s := NewSessionWith(t, cfg)
	db := filepath.Join(cfg.DataDir, "gobit.db")
	before, fdsBefore := runtime.NumGoroutine(), openFDs(t)
	const n = 200
	hashes, _ := idleTorrents(t, s, filepath.Join(dir, "data"), n, tr.HTTPURL())
	testutil.WaitFor(t, 60*time.Second, "every torrent announced", func() bool { return tr.Announces() >= n })
	// A constant allows for the tracker client's kept-alive connections
	// (two goroutines and a descriptor each, tracker.MaxPerHost at most).
	var now int
	if !testutil.Eventually(60*time.Second, func() bool {
		now = runtime.NumGoroutine()
		return now < before+n/4
	}) {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines with %d idle torrents, %d before them\n%s", now, n, before, buf[:runtime.Stack(buf, true)])
	}
	// Parked torrents closed their files first (not HandleIdle later).
	if fds := openFDs(t); fds >= fdsBefore+n/4 {
		t.Errorf("%d descriptors open with %d parked torrents, %d before them", fds, n, fdsBefore)
	}
	parked := time.Now()
	testutil.WaitFor(t, 60*time.Second, "the first flush", func() bool {
		fi, err := os.Stat(db)
		return err == nil && fi.ModTime().After(parked) && time.Since(fi.ModTime()) > time.Second
	})
	if fds := openFDs(t); fds >= fdsBefore+n/4 {
		t.Errorf("%d descriptors open with %d parked torrents after a flush, %d before them", fds, n, fdsBefore)
	}
	d, err := s.Get(hashes[5])
	if err != nil {
		t.Fatal(err)
	}
	if d.State != session.StateSeeding || d.Progress != 1 {
		t.Errorf("woken torrent: %s %.2f", d.State, d.Progress)
	}
	if len(d.Trackers) != 1 || d.Trackers[0].Status != "working" {
		t.Errorf("woken torrent's trackers: %+v", d.Trackers)
	}
	// Pausing and resuming a parked torrent works and it parks again.
	if err := s.Pause(hashes[6]); err != nil {
		t.Fatal(err)
	}
	WaitState(t, s, hashes[6], 10*time.Second, session.StatePaused)
	if err := s.Resume(hashes[6]); err != nil {
		t.Fatal(err)
	}
	WaitState(t, s, hashes[6], 10*time.Second, session.StateSeeding)
	if !testutil.Eventually(60*time.Second, func() bool { return runtime.NumGoroutine() < before+n/4 }) {
		t.Errorf("%d goroutines after waking two torrents, %d before", runtime.NumGoroutine(), before)
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("closing %d parked torrents took %v", n, el)
	}
	stopped := 0
	for _, e := range tr.Events() {
		if e.Event == "stopped" {
			stopped++
		}
	}
	if stopped < n {
		t.Errorf("%d stopped announces at close, want %d", stopped, n)
	}
}

// TestCloseWithHungTracker: a tracker that took every "started" and then
// never answers "stopped" (down, or overloaded) holds up Close for no more
// than the stopped-announce bound, with many torrents on three such
// trackers.
func TestCloseWithHungTracker(t *testing.T) {
	var stopped atomic.Int64
	hang := make(chan struct{})
	defer close(hang)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("event") == "stopped" {
			stopped.Add(1)
			select {
			case <-r.Context().Done():
			case <-hang:
			}
			return
		}
		_, _ = w.Write([]byte("d8:intervali3600e5:peers0:e"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	s := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "data"), DataDir: filepath.Join(dir, "state")})
	const n = 40
	var trackers []string
	for i := range 3 {
		trackers = append(trackers, fmt.Sprintf("%s/announce?t=%d", srv.URL, i))
	}
	hashes, _ := idleTorrents(t, s, filepath.Join(dir, "data"), n, trackers...)
	testutil.WaitFor(t, 60*time.Second, "every tracker working", func() bool {
		for _, h := range hashes {
			d, err := s.Get(h)
			if err != nil {
				return false
			}
			for _, tr := range d.Trackers {
				if tr.Status != "working" {
					return false
				}
			}
		}
		return true
	})
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("Close took %v; %d stopped announces hung", el, stopped.Load())
	if el > 4500*time.Millisecond { // it took over 5 s before the bound was lowered
		t.Errorf("Close took %v with hung trackers, want about %v", el, tracker.DefaultStoppedTimeout)
	}
	if stopped.Load() == 0 {
		t.Error("no stopped announce was sent")
	}
}
