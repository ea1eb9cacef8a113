package interop

import (
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// needIPv6Loopback skips the test when ::1 cannot be bound.
func needIPv6Loopback(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback (::1): %v", err)
	}
	ln.Close()
}

// gobitSession6 starts a gobit session limited to IPv6, listening on ::1.
func gobitSession6(t *testing.T, dir string) *session.Session {
	t.Helper()
	return swarmtest.NewSessionWith(t, session.Config{DownloadDir: dir, ListenAddr: "::1", IPVersion: session.IPVersion6})
}

// checkIPv6Peers checks that every peer of the torrent is an IPv6 one,
// bracketed in the API's address, and that the peer's "yourip" was
// recorded as ::1.
func checkIPv6Peers(t *testing.T, s *session.Session, hash string, wantPeer bool) {
	t.Helper()
	d, err := s.Get(hash)
	if err != nil {
		t.Fatal(err)
	}
	if wantPeer && len(d.PeerList) == 0 {
		t.Fatal("no peer connected")
	}
	for _, p := range d.PeerList {
		if p.IPVersion != 6 || !strings.HasPrefix(p.Addr, "[::1]:") {
			t.Errorf("peer %+v: want an IPv6 peer at [::1]", p)
		}
	}
	testutil.WaitFor(t, transferTimeout, "libtorrent's yourip to be recorded", func() bool {
		for _, a := range s.Network().ExternalAddrs {
			if a.Addr == "::1" && a.Votes >= 1 {
				return true
			}
		}
		return false
	})
	if n := s.Network(); n.IPVersion != "6" || len(n.ListenAddrs) != 1 || !strings.HasPrefix(n.ListenAddrs[0], "[::1]:") {
		t.Errorf("network %+v: want IP version 6 and a listener on [::1]", n)
	}
}

// TestIPv6LibtorrentSeeds: gobit, limited to IPv6, downloads from a
// libtorrent seeder listening on [::1] only. The torrent's tracker is an
// IPv4 opentracker, which gobit must leave alone: the only way in is the
// IPv6 peer address.
func TestIPv6LibtorrentSeeds(t *testing.T) {
	skipShort(t)
	needIPv6Loopback(t)
	libtorrent.need(t)
	sw := newSwarm(t, seedFor(t.Name()), true)
	lt := startLT(t, "libtorrent seeder", "seed", "--torrent", sw.torrentPath, "--save", sw.dir, "--listen", "::1")
	line := lt.waitOutput(t, "READY", startTimeout)
	port := readyPort(t, line)

	out := t.TempDir()
	s := gobitSession6(t, out)
	gobitAdd(t, s, sw, false)
	if err := s.AddPeers(sw.hash(), net.JoinHostPort("::1", strconv.Itoa(port))); err != nil {
		t.Fatal(err)
	}
	// An IPv4 peer is refused under --ip-version 6.
	if err := s.AddPeers(sw.hash(), "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	// The peer list is checked while the peer is connected, if the test
	// sees it (two seeds part once the download is done).
	checkIPv6Peers(t, s, sw.hash(), false)
	gobitWait(t, s, sw, transferTimeout)
	swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
	d, _ := s.Get(sw.hash())
	for _, tr := range d.Trackers {
		if tr.Status == "working" {
			t.Errorf("tracker %s (IPv4) was used under --ip-version 6: %+v", tr.URL, tr)
		}
	}
}

// TestIPv6LibtorrentLeeches: libtorrent, listening on [::1] only,
// downloads from gobit limited to IPv6 and listening on ::1.
func TestIPv6LibtorrentLeeches(t *testing.T) {
	skipShort(t)
	needIPv6Loopback(t)
	libtorrent.need(t)
	sw := newSwarm(t, seedFor(t.Name()), true)
	s := gobitSession6(t, sw.dir)
	gobitAdd(t, s, sw, false)
	swarmtest.WaitState(t, s, sw.hash(), startTimeout, session.StateSeeding)

	out := t.TempDir()
	lt := startLT(t, "libtorrent leecher", "leech", "--torrent", sw.torrentPath, "--save", out, "--listen", "::1",
		"--connect", net.JoinHostPort("::1", strconv.Itoa(s.Port())))
	lt.waitOutput(t, "COMPLETE", transferTimeout)
	swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
	if peer, ok := lt.out.Line("PEER"); ok && !strings.Contains(peer, "PEER ::1:") {
		t.Errorf("libtorrent's peer line %q: want gobit at ::1", peer)
	}
	if st := swarmtest.Status(t, s, sw.hash()); st.Uploaded < sw.mi.Info.TotalLength() {
		t.Errorf("gobit uploaded %d bytes of %d", st.Uploaded, sw.mi.Info.TotalLength())
	}
	checkIPv6Peers(t, s, sw.hash(), false)
}

var readyRe = regexp.MustCompile(`READY port=(\d+)`)

// readyPort reads the port of lt_peer.py's READY line.
func readyPort(t *testing.T, line string) int {
	t.Helper()
	m := readyRe.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no port in %q", line)
	}
	p, _ := strconv.Atoi(m[1])
	return p
}
