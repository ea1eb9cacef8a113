package swarmtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/socks5/socks5test"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// TestDownloadThroughProxy downloads from a seeder with every outgoing
// connection of the leecher going through an in-process SOCKS5 proxy with
// authentication: the HTTP tracker (reached through a recording front)
// sees only the proxy's connections, the seeder sees the leecher's peer
// connections come only from the proxy; over a UDP tracker the announces
// travel through a UDP association.
func TestDownloadThroughProxy(t *testing.T) {
	for _, proto := range []string{"http", "udp"} {
		t.Run(proto, func(t *testing.T) {
			proxy := &socks5test.Server{User: "alice", Password: "s3cret"}
			if err := proxy.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(proxy.Close)
			tr := trackertest.New(t)

			// The HTTP tracker behind a front recording where each request
			// comes from.
			var mu sync.Mutex
			var sources []string
			target, _ := url.Parse(strings.TrimSuffix(tr.HTTPURL(), "/announce"))
			rp := httputil.NewSingleHostReverseProxy(target)
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				sources = append(sources, r.RemoteAddr)
				mu.Unlock()
				rp.ServeHTTP(w, r)
			}))
			t.Cleanup(front.Close)
			announce := front.URL + "/announce"
			if proto == "udp" {
				announce = tr.UDPURL()
			}

			dir := t.TempDir()
			root := Payload(t, filepath.Join(dir, "seed"), "proxied.bin", 7, map[string]int{"": 2 << 20})
			data, mi := MakeTorrent(t, root, 64<<10, announce)
			hash := mi.InfoHash.String()
			// The seeder announces once, before the leecher: it must not
			// learn the leecher's address and dial it (an incoming
			// connection would spare the leecher its own dial through the
			// proxy, which the test checks).
			seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), AnnounceMinInterval: time.Hour})
			if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
				t.Fatal(err)
			}
			WaitState(t, seed, hash, 30*time.Second, session.StateSeeding)
			testutil.WaitFor(t, 30*time.Second, "the seeder's announce", func() bool { return tr.Announces() > 0 })

			leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), DHT: true, LSD: true,
				Proxy: "socks5://alice:s3cret@" + proxy.Addr()})
			if st := leech.Settings(); st.Proxy != "socks5://alice@"+proxy.Addr() {
				t.Fatalf("settings proxy %q (the password must not show)", st.Proxy)
			}
			if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
				t.Fatal(err)
			}
			st := WaitState(t, leech, hash, 60*time.Second, session.StateSeeding, session.StateError)
			if st.State != session.StateSeeding {
				t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
			}
			SameTree(t, root, filepath.Join(dir, "leech", "proxied.bin"))

			if proxy.Connects.Load() == 0 {
				t.Fatal("no connection went through the proxy")
			}
			// Every connection the seeder accepted came from the proxy.
			d, err := seed.Get(hash)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range d.PeerList {
				if !p.Outgoing && !proxy.Origin(p.Addr) {
					t.Errorf("the seeder has a connection from %s, not from the proxy", p.Addr)
				}
			}
			if proto == "http" {
				mu.Lock()
				defer mu.Unlock()
				leechReqs := 0
				for _, src := range sources {
					if proxy.Origin(src) {
						leechReqs++
					}
				}
				// The seeder announces directly; every other request is the
				// leecher's and must have come through the proxy.
				if leechReqs == 0 {
					t.Fatalf("no tracker request came through the proxy (sources %v)", sources)
				}
			} else {
				if proxy.Associates.Load() == 0 || proxy.Datagrams.Load() == 0 {
					t.Fatalf("UDP announces did not go through the proxy: %d associations, %d datagrams", proxy.Associates.Load(), proxy.Datagrams.Load())
				}
			}
			// The DHT runs through the proxy's UDP association; LSD's
			// multicast cannot, so it is off.
			if _, dhtOn := leech.DHTStats(); !dhtOn || leech.LSDAddr().IsValid() {
				t.Fatalf("behind a proxy: DHT on %v (want on), LSD at %v (want off)", dhtOn, leech.LSDAddr())
			}
			testutil.WaitFor(t, 30*time.Second, "the DHT's UDP association", func() bool {
				return leech.Settings().ProxyUDP == "associated"
			})
		})
	}
}

// TestProxyWrongCredentials: a proxy refusing the credentials fails every
// announce with a clear error, and nothing is downloaded.
func TestProxyWrongCredentials(t *testing.T) {
	proxy := &socks5test.Server{User: "alice", Password: "right"}
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "x.bin", 8, map[string]int{"": 256 << 10})
	data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), Proxy: "socks5://alice:wrong@" + proxy.Addr()})
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "a tracker error naming the credentials", func() bool {
		d, err := leech.Get(mi.InfoHash.String())
		if err != nil {
			return false
		}
		for _, tk := range d.Trackers {
			if strings.Contains(tk.Error, "rejected the username/password") {
				return true
			}
		}
		return false
	})
	if proxy.AuthFailures.Load() == 0 || tr.Announces() != 0 {
		t.Fatalf("auth failures %d, announces reaching the tracker %d", proxy.AuthFailures.Load(), tr.Announces())
	}
}

// TestUTPThroughProxy: a leecher behind a SOCKS5 proxy downloads from a
// uTP-only seeder over uTP through the proxy's UDP relay (its own TCP is
// off too, so nothing else can carry the data); the seeder's peer is the
// relay's address, never the leecher's. When the proxy then refuses UDP
// and drops the association, the session's network status says so, new
// uTP dials fail rather than go direct, and when the proxy accepts again
// a second torrent downloads through a new association.
func TestUTPThroughProxy(t *testing.T) {
	proxy := &socks5test.Server{User: "alice", Password: "s3cret"}
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	tr := trackertest.New(t)
	dir := t.TempDir()
	seed := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UTP: true, NoTCP: true})
	add := func(name string, seedN uint64) (string, string, []byte) {
		root := Payload(t, filepath.Join(dir, "seed"), name, seedN, map[string]int{"": 3 << 20})
		data, mi := MakeTorrent(t, root, 64<<10, tr.HTTPURL())
		if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
			t.Fatal(err)
		}
		WaitState(t, seed, mi.InfoHash.String(), 30*time.Second, session.StateSeeding)
		return mi.InfoHash.String(), root, data
	}
	hash, root, data := add("utp-proxied.bin", 31)

	port, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), UTP: true, NoTCP: true, Port: port,
		Proxy: "socks5://alice:s3cret@" + proxy.Addr()})
	testutil.WaitFor(t, 30*time.Second, "the UDP association", func() bool { return leech.Settings().ProxyUDP == "associated" })
	relay := leech.Settings().ProxyUDPRelay
	seen := WatchTransports(t, leech, hash)
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	var seedPeers []string
	st := WaitState(t, leech, hash, 90*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	if d, err := seed.Get(hash); err == nil {
		for _, p := range d.PeerList {
			seedPeers = append(seedPeers, p.Addr+"/"+p.Transport)
		}
	}
	SameTree(t, root, filepath.Join(dir, "leech", "utp-proxied.bin"))
	if s := seen(); !s["utp"] || s["tcp"] {
		t.Fatalf("transports %v, want utp only", s)
	}
	if proxy.Datagrams.Load() < 20 { // the leecher's SYN, ACKs and requests
		t.Fatalf("only %d datagrams through the proxy", proxy.Datagrams.Load())
	}
	for _, p := range seedPeers {
		if p != relay+"/utp" {
			t.Errorf("the seeder's peer %s is not the proxy's relay %s over uTP", p, relay)
		}
	}

	// The proxy refuses UDP and drops the association.
	proxy.RefuseUDP(true)
	proxy.DropAssociations()
	testutil.WaitFor(t, 30*time.Second, "the failure in the network status", func() bool {
		s := leech.Settings()
		return s.ProxyUDP == "failed" && strings.Contains(s.ProxyUDPError, "UDP ASSOCIATE") && s.ProxyUDPRetry != ""
	})
	before := proxy.Datagrams.Load()
	hash2, root2, data2 := add("utp-proxied-2.bin", 32)
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data2}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if got := Status(t, leech, hash2).Progress; got != 0 {
		t.Fatalf("downloaded %v without a UDP association", got)
	}
	if d, err := seed.Get(hash2); err != nil || len(d.PeerList) != 0 {
		t.Fatalf("the seeder has peers of the second torrent without a UDP association: %v %v", d.PeerList, err)
	}

	// The proxy accepts again: a new association (after the backoff),
	// and the second torrent completes through it.
	proxy.RefuseUDP(false)
	st = WaitState(t, leech, hash2, 120*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("second torrent ended in %s: %s", st.State, st.Error)
	}
	SameTree(t, root2, filepath.Join(dir, "leech", "utp-proxied-2.bin"))
	if s := leech.Settings(); s.ProxyUDP != "associated" || s.ProxyUDPError != "" || proxy.Associates.Load() < 2 || proxy.Datagrams.Load() <= before {
		t.Fatalf("after recovery: %s %q, %d associations, %d datagrams", s.ProxyUDP, s.ProxyUDPError, proxy.Associates.Load(), proxy.Datagrams.Load())
	}
}
