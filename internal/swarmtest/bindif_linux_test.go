package swarmtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
)

const netnsChildEnv = "GOBIT_TEST_NETNS_CHILD"

// inNetns runs the calling test again in a new network namespace (unshare
// -n) and reports its result; it returns true in that child, where the
// test body runs. Outside root it skips (fails under CI).
func inNetns(t *testing.T) bool {
	if os.Getenv(netnsChildEnv) == "1" {
		return true
	}
	if os.Geteuid() != 0 {
		if testutil.InCI() {
			t.Fatal("needs root for a network namespace")
		}
		t.Skip("needs root: creates a network namespace and a veth pair")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) not found")
	}
	testutil.NeedProgram(t, "ip", "iproute2")
	cmd := exec.Command(unshare, "-n", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), netnsChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("the test in its namespace failed: %v", err)
	}
	return false
}

// sh runs a shell command in the test's namespace.
func sh(t *testing.T, script string) {
	t.Helper()
	if out, err := exec.Command("sh", "-ec", script).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

// vethUp creates gbvpn0 (10.99.0.1, the "VPN" the leecher binds to) and
// its peer gbvpn1 (10.99.0.2, where a seeder listens). Both ends are in
// this namespace, so the local addresses must be accepted on the wire.
func vethUp(t *testing.T) {
	sh(t, `ip link add gbvpn0 type veth peer name gbvpn1
ip addr add 10.99.0.1/24 dev gbvpn0
ip addr add 10.99.0.2/24 dev gbvpn1
ip link set gbvpn0 up
ip link set gbvpn1 up
for i in all gbvpn0 gbvpn1; do sysctl -qw net.ipv4.conf.$i.accept_local=1 net.ipv4.conf.$i.rp_filter=0; done`)
}

// TestBindInterfaceKillSwitch: a leecher bound to gbvpn0 downloads from
// the seeder behind it and never reaches a seeder on loopback; when the
// interface is deleted its network_error says so and nothing reaches the
// loopback seeder either; when it is back, downloads work again.
func TestBindInterfaceKillSwitch(t *testing.T) {
	if !inNetns(t) {
		return
	}
	sh(t, "ip link set lo up")
	vethUp(t)
	dir := t.TempDir()
	seedDir := filepath.Join(dir, "seed")
	var magnets, hashes, roots []string
	var torrents [][]byte
	for i := range 2 {
		root := Payload(t, seedDir, fmt.Sprintf("vpn%d.bin", i), uint64(20+i), map[string]int{"": 256 << 10})
		data, mi := MakeTorrent(t, root, 32<<10)
		torrents = append(torrents, data)
		hashes = append(hashes, mi.InfoHash.String())
		roots = append(roots, root)
	}
	seedVPN := NewSessionWith(t, session.Config{DownloadDir: seedDir, ListenAddr: "10.99.0.2"})
	seedLo := NewSessionWith(t, session.Config{DownloadDir: seedDir, ListenAddr: "127.0.0.1"})
	for _, s := range []*session.Session{seedVPN, seedLo} {
		for i, data := range torrents {
			if _, err := s.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
				t.Fatal(err)
			}
			WaitState(t, s, hashes[i], 30*time.Second, session.StateSeeding)
		}
	}
	for _, h := range hashes {
		magnets = append(magnets, fmt.Sprintf("magnet:?xt=urn:btih:%s&x.pe=127.0.0.1:%d&x.pe=10.99.0.2:%d", h, seedLo.Port(), seedVPN.Port()))
	}

	leech := NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "leech"), ListenAddr: "", BindInterface: "gbvpn0"})
	if st := leech.Settings(); st.BindInterface != "gbvpn0" || st.NetworkError != "" {
		t.Fatalf("status %+v", st.NetPathStatus)
	}
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: magnets[0]}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hashes[0], 60*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("bound leecher: %s %s", st.State, st.Error)
	}
	SameTree(t, roots[0], filepath.Join(dir, "leech", "vpn0.bin"))
	noLoopbackPeer := func() {
		t.Helper()
		if d, err := seedLo.Get(hashes[0]); err == nil && len(d.PeerList) > 0 {
			t.Fatalf("the loopback seeder has peers: %+v", d.PeerList)
		}
		if d, err := seedLo.Get(hashes[1]); err == nil && len(d.PeerList) > 0 {
			t.Fatalf("the loopback seeder has peers: %+v", d.PeerList)
		}
	}
	noLoopbackPeer()

	// The interface goes away: the kill switch.
	sh(t, "ip link del gbvpn0")
	testutil.WaitFor(t, 10*time.Second, "network_error", func() bool {
		return strings.Contains(leech.Settings().NetworkError, "gone")
	})
	t.Logf("network_error: %s", leech.Settings().NetworkError)
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: magnets[1]}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // dials are attempted (and fail) meanwhile
	if d, err := leech.Get(hashes[1]); err != nil || len(d.PeerList) > 0 || d.Status.State == session.StateSeeding {
		t.Fatalf("a peer was reached with the interface gone: %+v %v", d.PeerList, err)
	}
	noLoopbackPeer()

	// Back: traffic resumes.
	vethUp(t)
	testutil.WaitFor(t, 10*time.Second, "network_error cleared", func() bool {
		return leech.Settings().NetworkError == ""
	})
	if err := leech.Remove(hashes[1], false); err != nil {
		t.Fatal(err)
	}
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: magnets[1]}); err != nil {
		t.Fatal(err)
	}
	st = WaitState(t, leech, hashes[1], 60*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("after the interface came back: %s %s", st.State, st.Error)
	}
	noLoopbackPeer()
}
