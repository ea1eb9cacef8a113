package interop

import (
	"hash/fnv"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
)

// peerClient is a real BitTorrent program the tests exchange a torrent with.
type peerClient struct {
	name string
	// need skips the test, or fails it under CI, when the program is
	// missing.
	need func(t *testing.T)
	// seed starts the program seeding the swarm's payload from sw.dir and
	// returns once it has verified the data.
	seed func(t *testing.T, sw *swarm)
	// leech starts the program downloading the swarm's torrent (from its
	// magnet link or its .torrent) into the existing directory out, and
	// returns a function that waits until the download is complete.
	leech func(t *testing.T, sw *swarm, magnet bool, out string) (wait func())
	// neverDials is set for a program that does not connect to loopback
	// peers: as a leecher it must be known to the tracker before gobit
	// seeds, so that gobit dials it.
	neverDials bool
}

// clients are the programs every test runs against.
var clients = []peerClient{libtorrent, transmission, aria2}

// sources are the two ways a torrent is added.
var sources = []struct {
	name   string
	magnet bool
}{{"torrent", false}, {"magnet", true}}

// TestGobitDownloads has gobit download a torrent made by mktorrent from one
// real client, the only seeder, found through opentracker. By magnet, the
// info dictionary also comes from that client (BEP 9).
func TestGobitDownloads(t *testing.T) {
	skipShort(t)
	for _, c := range clients {
		for _, src := range sources {
			t.Run(c.name+"/"+src.name, func(t *testing.T) {
				c.need(t)
				start := time.Now()
				sw := newSwarm(t, seedFor(t.Name()), true)
				c.seed(t, sw)
				sw.waitTracker(t, 1)

				out := t.TempDir()
				s := gobitSession(t, out)
				added := time.Now()
				gobitAdd(t, s, sw, src.magnet)
				st := gobitWait(t, s, sw, transferTimeout)
				swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
				if total := sw.mi.Info.TotalLength(); st.Downloaded < total {
					t.Errorf("gobit downloaded %d bytes, the payload has %d", st.Downloaded, total)
				}
				t.Logf("gobit downloaded %d bytes from %s in %v (whole test %v)",
					st.Downloaded, c.name, time.Since(added).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			})
		}
	}
}

// TestGobitSeeds has one real client download a torrent made by gobit from
// a gobit seeder, the only one, found through opentracker. By magnet, gobit
// also serves the info dictionary (BEP 9).
func TestGobitSeeds(t *testing.T) {
	skipShort(t)
	for _, c := range clients {
		for _, src := range sources {
			t.Run(c.name+"/"+src.name, func(t *testing.T) {
				c.need(t)
				start := time.Now()
				sw := newSwarm(t, seedFor(t.Name()), false)
				out := t.TempDir()
				var s *session.Session
				if c.neverDials {
					// The leecher announces first, so gobit's first
					// announce returns its address and gobit dials it.
					wait := c.leech(t, sw, src.magnet, out)
					sw.waitTracker(t, 1)
					s = gobitSeed(t, sw)
					wait()
				} else {
					s = gobitSeed(t, sw)
					sw.waitTracker(t, 1)
					c.leech(t, sw, src.magnet, out)()
				}
				swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
				d, err := s.Get(sw.hash())
				if err != nil {
					t.Fatal(err)
				}
				if total := sw.mi.Info.TotalLength(); d.Uploaded < total {
					t.Errorf("gobit uploaded %d bytes, the payload has %d", d.Uploaded, total)
				}
				t.Logf("%s downloaded from gobit (gobit uploaded %d bytes) in %v",
					c.name, d.Uploaded, time.Since(start).Round(time.Millisecond))
			})
		}
	}
}

// gobitWait waits until gobit has the complete, verified torrent and fails
// the test, with the torrent's trackers, if it errs or times out.
func gobitWait(t *testing.T, s *session.Session, sw *swarm, timeout time.Duration) session.Status {
	t.Helper()
	defer func() {
		if t.Failed() {
			if d, err := s.Get(sw.hash()); err == nil {
				t.Logf("gobit: %+v trackers %+v", d.Status, d.Trackers)
			}
		}
	}()
	st := swarmtest.WaitState(t, s, sw.hash(), timeout, session.StateSeeding, session.StateError)
	if st.State == session.StateError {
		t.Fatalf("gobit: torrent failed: %s", st.Error)
	}
	return st
}

// skipShort skips the test in -short mode: it starts real programs and
// takes minutes.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("interop tests start real BitTorrent programs; skipped in -short mode")
	}
}

// seedFor derives a payload seed from a test name, so every test has its
// own payload and info hash.
func seedFor(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}
