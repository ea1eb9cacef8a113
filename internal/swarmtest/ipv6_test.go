package swarmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

func need6(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback (::1): %v", err)
	}
	ln.Close()
}

// session6 starts a session limited to IPv6 on ::1.
func session6(t *testing.T, dir string, dhtBoot []string) *session.Session {
	t.Helper()
	return NewSessionWith(t, session.Config{DownloadDir: dir, ListenAddr: "::1", IPVersion: session.IPVersion6,
		DHT: dhtBoot != nil, DHTBootstrap: dhtBoot})
}

// TestIPv6OnlyDHTMagnet: a trackerless magnet completes through a DHT of
// gobit nodes that speak IPv6 only (BEP 32: nodes6, 18-byte peers),
// bootstrapping from each other on ::1.
func TestIPv6OnlyDHTMagnet(t *testing.T) {
	need6(t)
	dir := t.TempDir()
	boot := session6(t, filepath.Join(dir, "boot"), []string{})
	bootAddr := []string{net.JoinHostPort("::1", fmt.Sprint(boot.Port()))}
	// Two more nodes, each bootstrapping from the previous one.
	prev := bootAddr
	for i := range 2 {
		n := session6(t, filepath.Join(dir, fmt.Sprint("node", i)), prev)
		prev = []string{net.JoinHostPort("::1", fmt.Sprint(n.Port()))}
	}

	root := Payload(t, filepath.Join(dir, "seed"), "dht6.bin", 63, map[string]int{"": 1 << 20})
	data, mi := MakeTorrent(t, root, 64<<10)
	hash := mi.InfoHash.String()
	seed := session6(t, filepath.Join(dir, "seed"), bootAddr)
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)
	testutil.WaitFor(t, 30*time.Second, "the seeder's DHT announce", func() bool {
		st, ok := boot.DHTStats()
		return ok && st.PeersStored > 0
	})

	leech := session6(t, filepath.Join(dir, "leech"), prev)
	magnet := metainfo.Magnet{InfoHash: mi.InfoHash}
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: magnet.String()}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 45*time.Second, "the leecher to connect to the seeder", func() bool {
		d, err := leech.Get(hash)
		return err == nil && len(d.PeerList) > 0
	})

	// The API shows the IPv6 peer, bracketed, with its IP version.
	srv := httptest.NewServer(api.NewHandler(leech, api.Options{}))
	defer srv.Close()
	var detail struct {
		PeerList []struct {
			Addr      string `json:"addr"`
			Source    string `json:"source"`
			IPVersion int    `json:"ip_version"`
		} `json:"peer_list"`
	}
	getJSON(t, srv.URL+"/api/v1/torrents/"+hash, &detail)
	if len(detail.PeerList) == 0 {
		t.Fatal("no peer in the API's peer list")
	}
	for _, p := range detail.PeerList {
		if p.IPVersion != 6 || !strings.HasPrefix(p.Addr, "[::1]:") {
			t.Errorf("API peer %+v: want [::1]:port and ip_version 6", p)
		}
	}
	var info struct {
		Network struct {
			IPVersion   string   `json:"ip_version"`
			ListenAddrs []string `json:"listen_addrs"`
			PortMapping any      `json:"port_mapping"`
		} `json:"network"`
	}
	getJSON(t, srv.URL+"/api/v1/session", &info)
	if info.Network.IPVersion != "6" || len(info.Network.ListenAddrs) != 1 || !strings.HasPrefix(info.Network.ListenAddrs[0], "[::1]:") || info.Network.PortMapping != nil {
		t.Errorf("GET /api/v1/session network: %+v", info.Network)
	}

	WaitState(t, leech, hash, 45*time.Second, session.StateSeeding)
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))
	if st, ok := leech.DHTStats(); !ok || st.Nodes == 0 {
		t.Fatalf("leecher's DHT: %+v", st)
	}
}

// TestIPv6UDPTrackerSwarm: two IPv6-only sessions find each other through
// a UDP tracker on ::1, which answers in BEP 15's IPv6 form.
func TestIPv6UDPTrackerSwarm(t *testing.T) {
	need6(t)
	tr := trackertest.NewOn(t, "::1")
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "udp6.bin", 64, map[string]int{"": 512 << 10})
	data, mi := MakeTorrent(t, root, 32<<10, tr.UDPURL())
	hash := mi.InfoHash.String()
	seed := session6(t, filepath.Join(dir, "seed"), nil)
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, hash, 10*time.Second, session.StateSeeding)
	testutil.WaitFor(t, 10*time.Second, "the seeder's announce", func() bool { return len(tr.Peers(mi.InfoHash)) > 0 })

	leech := session6(t, filepath.Join(dir, "leech"), nil)
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, leech, hash, 30*time.Second, session.StateSeeding)
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))
	for _, p := range tr.Peers(mi.InfoHash) {
		if !p.Addr().Is6() || p.Addr().Is4In6() {
			t.Errorf("tracker stored %s, want IPv6 peers only", p)
		}
	}
	if ev := tr.Events(); len(ev) == 0 || ev[0].Proto != "udp" {
		t.Fatalf("tracker events %+v", ev)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
