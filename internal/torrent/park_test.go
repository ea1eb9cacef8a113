package torrent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
)

// parkedSeed starts a complete torrent on synctest's clock, dialling
// through a function that records each address and fails, and waits until
// it parks. It returns the torrent and the dials it makes.
func parkedSeed(t *testing.T, with ...func(*Config)) (*Torrent, <-chan string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "f.bin")
	if err := os.WriteFile(p, []byte(strings.Repeat("seed", 50000)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, mi, err := metainfo.Create(metainfo.CreateOptions{Path: p, PieceLength: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	dials := make(chan string, 64)
	cfg := Config{MetaInfo: mi, InfoHash: mi.InfoHash, SaveDir: dir, Disk: NewDiskPool(1), NoSync: true, Port: 6881,
		Dial: func(_ context.Context, _, addr string) (net.Conn, error) {
			dials <- addr
			return nil, errors.New("refused (test)")
		}}
	for _, f := range with {
		f(&cfg)
	}
	tr := New(cfg)
	t.Cleanup(func() {
		tr.Close(false)
		time.Sleep(workerLinger + time.Second) // the disk pool's workers leave
	})
	waitParked(t, tr)
	if st := tr.Stats().State; st != StateSeeding {
		t.Fatalf("state %q, want seeding", st)
	}
	return tr, dials
}

// waitParked lets synctest's clock run until tr parks, at most a minute.
func waitParked(t *testing.T, tr *Torrent) {
	t.Helper()
	for range 60 {
		synctest.Wait()
		if tr.Parked() {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("the torrent did not park within a minute (state %q)", tr.Stats().State)
}

// noDial fails the test if the torrent dialled.
func noDial(t *testing.T, dials <-chan string, when string) {
	t.Helper()
	select {
	case a := <-dials:
		t.Fatalf("%s: dialled %s", when, a)
	default:
	}
}

// TestParkedDialsNewPeerAtOnce: a parked seed given a peer it does not
// know dials it at once, not at its next periodic wake; when that dial
// fails, it parks again at once and dials the peer once its retry comes
// due (15 s later), again without waiting for the periodic wake.
func TestParkedDialsNewPeerAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, dials := parkedSeed(t)
		peer := netip.MustParseAddrPort("10.1.2.3:51413")
		start := time.Now()
		tr.AddPeers(SourceTracker, []netip.AddrPort{peer})
		synctest.Wait()
		select {
		case a := <-dials:
			if a != peer.String() {
				t.Fatalf("dialled %s, want %s", a, peer)
			}
		default:
			t.Fatal("the parked torrent did not dial the new peer")
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("the dial came after %v", d)
		}

		// The dial failed: retry in 15 s. The torrent parks again at
		// once (a failed dial is no activity that keeps it awake).
		synctest.Wait()
		if !tr.Parked() {
			t.Fatal("the torrent stayed awake after its dial failed")
		}
		noDial(t, dials, "before the retry is due")
		time.Sleep(time.Until(start.Add(15*time.Second)) + time.Second)
		synctest.Wait()
		select {
		case <-dials:
		default:
			t.Fatalf("no redial %v after the failed dial (parkWake is %v)", time.Since(start), parkWake)
		}
	})
}

// TestParkedIgnoresKnownPeers: a tracker's answer that brings no peer to
// dial (ourselves, a peer whose retry is not due, a seed while we seed)
// is recorded without starting the parked torrent's loop.
func TestParkedIgnoresKnownPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, dials := parkedSeed(t)
		self := netip.MustParseAddrPort("127.0.0.1:6881")
		tr.AddPeers(SourceTracker, []netip.AddrPort{self})
		synctest.Wait()
		if !tr.Parked() {
			t.Fatal("an answer listing only ourselves woke the torrent")
		}

		// A peer that failed to dial, then announced again before its
		// retry is due.
		peer := netip.MustParseAddrPort("10.1.2.3:51413")
		tr.AddPeers(SourceTracker, []netip.AddrPort{peer})
		synctest.Wait()
		<-dials
		waitParked(t, tr)
		tr.AddPeers(SourceTracker, []netip.AddrPort{self, peer})
		synctest.Wait()
		if !tr.Parked() {
			t.Fatal("an answer with only known peers, none due, woke the torrent")
		}
		noDial(t, dials, "after an answer with only known peers")

		// A seed known as a seed is of no use to a seed.
		seed := netip.MustParseAddrPort("10.9.9.9:6881")
		if err := tr.read(func() {
			tr.addAddr(seed, SourceTracker)
			tr.addrs[seed].seed = true
		}); err != nil {
			t.Fatal(err)
		}
		tr.AddPeers(SourceDHT, []netip.AddrPort{seed})
		synctest.Wait()
		if !tr.Parked() {
			t.Fatal("an answer with a known seed woke the seeding torrent")
		}
		var n int
		if err := tr.read(func() { n = len(tr.addrs) }); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("%d addresses known, want 3 (ourselves, the peer, the seed)", n)
		}
	})
}

// TestParkedSeedTimeLimitFromSession: a change of the session's seeding
// time limit reaches a parked torrent: it wakes when the new limit is
// reached (not at its periodic wake) and pauses.
func TestParkedSeedTimeLimitFromSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var global SeedLimits
		tr, _ := parkedSeed(t, func(c *Config) { c.GlobalSeedLimits = func() SeedLimits { return global } })
		global.SeedTimeLimit = 2 * time.Minute
		tr.SessionSeedLimitsChanged()
		synctest.Wait()
		if !tr.Parked() {
			t.Fatal("a limit not reached yet woke the torrent")
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		st := tr.Stats()
		if st.State != StatePaused || !st.Finished {
			t.Fatalf("2 min after the limit was set: state %q finished %v, want paused by the limit", st.State, st.Finished)
		}
	})
}

// TestRedialDelay: a peer that leaves is redialled soon, then less and
// less often while it keeps leaving.
func TestRedialDelay(t *testing.T) {
	for _, c := range []struct {
		drops int
		want  time.Duration
	}{
		{0, redialFirst}, {1, 5 * time.Second}, {2, 10 * time.Second}, {3, 20 * time.Second},
		{9, 21*time.Minute + 20*time.Second}, {10, redialMax}, {1000, redialMax},
	} {
		if got := redialDelay(c.drops); got != c.want {
			t.Errorf("redialDelay(%d) = %v, want %v", c.drops, got, c.want)
		}
	}
}

// TestParkedNoticesMissingFiles: a parked seed whose file is deleted
// behind its back stops with an error at its next periodic wake, without
// a peer or an API call asking for the data.
func TestParkedNoticesMissingFiles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, _ := parkedSeed(t)
		var path string
		if err := tr.read(func() { path = filepath.Join(tr.cfg.SaveDir, tr.info.Name) }); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		time.Sleep(parkWake + time.Second)
		synctest.Wait()
		if st := tr.Stats(); st.State != StateError || !strings.Contains(st.Error, "f.bin") {
			t.Fatalf("%v after the file was deleted: state %q error %q, want an error naming f.bin", parkWake, st.State, st.Error)
		}
	})
}

// TestParkedWakeStaysParked: the periodic wake of a parked seed with
// nothing due checks its files without starting its loop, which would
// run a tick and publish a new snapshot.
func TestParkedWakeStaysParked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, dials := parkedSeed(t)
		snap := tr.stats.Load()
		for range 4 { // at least four wakes
			time.Sleep(parkWake)
			synctest.Wait()
			if !tr.Parked() || tr.stats.Load() != snap {
				t.Fatal("a periodic wake with nothing due ran the loop")
			}
		}
		noDial(t, dials, "after an hour parked")
		if st := tr.Stats(); st.State != StateSeeding {
			t.Fatalf("state %q after an hour parked, want seeding", st.State)
		}
	})
}
