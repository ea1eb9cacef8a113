package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
)

// The Dante tests run gobit behind a real SOCKS5 proxy: danted (Debian's
// dante-server), started for each test on a free loopback port with a
// generated configuration. Danted's external address — the address its
// CONNECTs and UDP relay leave from — is 127.0.0.2, while everything else
// (gobit, the seeders, trackers and DHT nodes) is on 127.0.0.1: a peer,
// tracker or DHT node that sees the gobit leecher from 127.0.0.2 sees it
// through the proxy, and one that sees it from 127.0.0.1 would have been
// reached directly. Every test asserts that each address under which its
// counterpart saw the leecher is danted's.
//
// Authentication: danted's "username" method checks the system's users,
// so when the tests run as root (as in CI) each danted gets a throwaway
// system user (useradd, removed with userdel at cleanup) and gobit
// authenticates with it (RFC 1929); otherwise danted runs with
// "socksmethod: none" and the test logs that it did.

// danteExternal is the address danted's outgoing traffic leaves from.
var danteExternal = netip.MustParseAddr("127.0.0.2")

// dante is a danted, its configuration and its process.
type dante struct {
	addr       string // host:port of its SOCKS service
	user, pass string // "" with socksmethod none
	bin, dir   string // the program, and the directory of its configuration
	proc       *process
}

// url is the --proxy URL of d, with its credentials.
func (d *dante) url() string {
	if d.user == "" {
		return "socks5://" + d.addr
	}
	return "socks5://" + d.user + ":" + d.pass + "@" + d.addr
}

// throwawayUser creates a system user with a random name and password for
// danted's username method, removed at cleanup; ok is false when the test
// cannot (not root, or no useradd).
func throwawayUser(t *testing.T) (user, pass string, ok bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		return "", "", false
	}
	useradd, err1 := exec.LookPath("useradd")
	chpasswd, err2 := exec.LookPath("chpasswd")
	userdel, err3 := exec.LookPath("userdel")
	if err1 != nil || err2 != nil || err3 != nil {
		return "", "", false
	}
	var b [8]byte
	rand.Read(b[:])
	user = "gbsocks" + hex.EncodeToString(b[:3])
	pass = hex.EncodeToString(b[3:]) + "-Pw"
	if out, err := exec.Command(useradd, "-M", "-N", "-s", "/usr/sbin/nologin", user).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v\n%s", user, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(userdel, user).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", user, err, out)
		}
	})
	cmd := exec.Command(chpasswd)
	cmd.Stdin = strings.NewReader(user + ":" + pass + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v\n%s", err, out)
	}
	return user, pass, true
}

// startDante runs danted on 127.0.0.1 with a free port, relaying from
// danteExternal, with username authentication when a throwaway user can
// be made (see above), else none.
func startDante(t *testing.T) *dante {
	t.Helper()
	return startDanteWith(t, "")
}

// startDanteWith is startDante with extra lines of global configuration.
func startDanteWith(t *testing.T, extra string) *dante {
	t.Helper()
	skipShort(t)
	d := &dante{bin: testutil.NeedProgram(t, "/usr/sbin/danted", "dante-server"), dir: t.TempDir()}
	method := "none"
	if user, pass, ok := throwawayUser(t); ok {
		d.user, d.pass, method = user, pass, "username"
	} else {
		t.Log("not root: danted runs with socksmethod none (username authentication checks system users)")
	}
	// As root danted drops to nobody but for reading the password
	// database; as another user it stays that user.
	users := ""
	if os.Geteuid() == 0 {
		users = "user.privileged: root\nuser.unprivileged: nobody\n"
	}
	port := freePort(t)
	d.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := fmt.Sprintf(`logoutput: stderr
internal: 127.0.0.1 port = %d
external: %s
socksmethod: %s
clientmethod: none
%s%sclient pass {
	from: 127.0.0.0/8 to: 0.0.0.0/0
}
socks pass {
	from: 127.0.0.0/8 to: 0.0.0.0/0
	command: connect udpassociate
	log: error
}
socks pass {
	from: 0.0.0.0/0 to: 127.0.0.0/8
	command: udpreply
	log: error
}
`, port, danteExternal, method, users, extra)
	if err := os.WriteFile(filepath.Join(d.dir, "danted.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d.start(t)
	return d
}

// start runs danted and waits until it accepts connections.
func (d *dante) start(t *testing.T) {
	t.Helper()
	d.proc = startProcess(t, "danted", d.dir, d.bin, "-f", filepath.Join(d.dir, "danted.conf"), "-p", filepath.Join(d.dir, "danted.pid"), "-N", "1")
	d.proc.waitOutput(t, "running", startTimeout)
	testutil.WaitFor(t, startTimeout, "danted accepting connections", func() bool {
		c, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// proxiedSession starts a gobit session behind d, with cfg's other
// fields.
func proxiedSession(t *testing.T, d *dante, cfg session.Config) *session.Session {
	t.Helper()
	cfg.Proxy = d.url()
	return swarmtest.NewSessionWith(t, cfg)
}

// outputLines returns every complete line of b containing substr.
func outputLines(b *logBuffer, substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for line := range bytes.SplitSeq(b.buf.Bytes(), []byte("\n")) {
		if bytes.Contains(line, []byte(substr)) {
			out = append(out, string(line))
		}
	}
	return out
}

// ltPeersFromDante checks libtorrent's PEER lines: at least one, each
// from danted's external address.
func ltPeersFromDante(t *testing.T, p *process) {
	t.Helper()
	p.waitOutput(t, "PEER ", 10*time.Second)
	peers := outputLines(p.out, "PEER ")
	if len(peers) == 0 {
		t.Fatal("libtorrent printed no peer")
	}
	for _, l := range peers {
		f := strings.Fields(l)
		ap, err := netip.ParseAddrPort(f[1])
		if err != nil || ap.Addr() != danteExternal {
			t.Errorf("libtorrent saw a peer not from danted (%s): %q", danteExternal, l)
		}
	}
}

// watchPeers records the address and transport ("addr/tcp") of every peer
// of hash that s has, until the returned function is called (it returns
// what was seen).
func watchPeers(t *testing.T, s *session.Session, hash string) func() map[string]bool {
	t.Helper()
	return swarmtest.WatchPeers(t, s, hash, func(p session.PeerStatus) string { return p.Addr + "/" + p.Transport })
}

// peersFromDante checks the peers a gobit seeder saw (from watchPeers): at
// least one, each from danted's external address (and over transport,
// when set).
func peersFromDante(t *testing.T, seen map[string]bool, transport string) {
	t.Helper()
	if len(seen) == 0 {
		t.Fatal("the seeder saw no peer")
	}
	for p := range seen {
		addr, tr, _ := strings.Cut(p, "/")
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || ap.Addr() != danteExternal || transport != "" && tr != transport {
			t.Errorf("the seeder's peer %s over %s: want one from danted (%s) over %s", addr, tr, danteExternal, transport)
		}
	}
}

// throughput returns MB/s for size bytes moved in d.
func throughput(size int64, d time.Duration) float64 {
	return float64(size) / 1e6 / d.Seconds()
}

// TestDanteTCPFromLibtorrent: gobit downloads from a libtorrent seeder
// (TCP only) through danted, the announce going to opentracker through
// CONNECT too; libtorrent sees the leecher only from danted's address.
func TestDanteTCPFromLibtorrent(t *testing.T) {
	d := startDante(t)
	libtorrent.need(t)
	sw := newSwarm(t, seedFor(t.Name()), true)
	// Capped so that the transfer outlasts libtorrent's peer polls.
	lt := startLT(t, "libtorrent seeder", "seed", "--no-utp", "--upload-limit", "500000", "--torrent", sw.torrentPath, "--save", sw.dir)
	lt.waitOutput(t, "READY", startTimeout)
	sw.waitTracker(t, 1)
	out := t.TempDir()
	s := proxiedSession(t, d, session.Config{DownloadDir: out})
	gobitAdd(t, s, sw, true) // a magnet: the metadata comes through danted too
	gobitWait(t, s, sw, transferTimeout)
	swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
	ltPeersFromDante(t, lt)
}

// TestDanteUDPTracker: gobit announces to a UDP tracker through danted's
// UDP relay (UDP ASSOCIATE), learns a gobit seeder from it and downloads
// through danted; the tracker records each of the leecher's announces from
// danted's address.
func TestDanteUDPTracker(t *testing.T) {
	d := startDante(t)
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := swarmtest.Payload(t, filepath.Join(dir, "seed"), "udp.bin", seedFor(t.Name()), map[string]int{"": 2 << 20})
	data, mi := swarmtest.MakeTorrent(t, root, 64<<10, tr.UDPURL())
	hash := mi.InfoHash.String()
	seed := swarmtest.NewSession(t, filepath.Join(dir, "seed"))
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	swarmtest.WaitState(t, seed, hash, startTimeout, session.StateSeeding)
	seen := watchPeers(t, seed, hash)
	leech := proxiedSession(t, d, session.Config{DownloadDir: filepath.Join(dir, "leech")})
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st := swarmtest.WaitState(t, leech, hash, transferTimeout, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	swarmtest.SameTree(t, root, filepath.Join(dir, "leech", "udp.bin"))
	id := leech.PeerID()
	n := 0
	for _, a := range tr.Events() {
		if a.PeerID != id {
			continue
		}
		n++
		if a.Proto != "udp" || a.Peer.Addr() != danteExternal {
			t.Errorf("the leecher's %s announce came from %v, not danted (%s)", a.Proto, a.Peer, danteExternal)
		}
	}
	if n == 0 {
		t.Fatal("the tracker received no announce of the leecher")
	}
	peersFromDante(t, seen(), "tcp")
}

// TestDanteUTPFromLibtorrent: gobit with TCP off downloads from libtorrent
// with TCP off, over uTP through danted's UDP relay; libtorrent sees the
// leecher only from danted's address, and gobit's network status names the
// association.
func TestDanteUTPFromLibtorrent(t *testing.T) {
	d := startDante(t)
	libtorrent.need(t)
	sw := newSwarm(t, seedFor(t.Name()), true)
	lt := startLT(t, "libtorrent seeder", "seed", "--no-tcp", "--upload-limit", "500000", "--torrent", sw.torrentPath, "--save", sw.dir)
	lt.waitOutput(t, "READY", startTimeout)
	sw.waitTracker(t, 1)
	out := t.TempDir()
	s := proxiedSession(t, d, session.Config{DownloadDir: out, UTP: true, NoTCP: true, Port: freePort(t)})
	testutil.WaitFor(t, startTimeout, "the UDP association with danted", func() bool { return s.Settings().ProxyUDP == "associated" })
	seen := swarmtest.WatchTransports(t, s, sw.hash())
	gobitAdd(t, s, sw, false)
	gobitWait(t, s, sw, transferTimeout)
	swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
	checkUTP(t, seen())
	ltPeersFromDante(t, lt)
	if set := s.Settings(); set.ProxyUDP != "associated" || set.ProxyUDPRelay == "" || set.ProxyUDPError != "" {
		t.Errorf("network status %q relay %q error %q", set.ProxyUDP, set.ProxyUDPRelay, set.ProxyUDPError)
	}
}

// recordingConn is a PacketConn that records the source of every
// datagram read.
type recordingConn struct {
	net.PacketConn
	mu   sync.Mutex
	from map[netip.AddrPort]int
}

func (c *recordingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(b)
	if ua, ok := a.(*net.UDPAddr); ok && err == nil {
		ap := ua.AddrPort()
		c.mu.Lock()
		c.from[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())]++
		c.mu.Unlock()
	}
	return n, a, err
}

func (c *recordingConn) sources() map[netip.AddrPort]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[netip.AddrPort]int, len(c.from))
	for k, v := range c.from {
		m[k] = v
	}
	return m
}

// TestDanteDHT: a trackerless magnet completes behind danted with the DHT
// as the only source of peers: gobit's DHT (sharing the UDP association
// with uTP) asks a bootstrap node through danted's relay, finds a gobit
// seeder and downloads from it through danted. The bootstrap node hears
// only the seeder and danted; the seeder's peer is danted.
func TestDanteDHT(t *testing.T) {
	d := startDante(t)
	uc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingConn{PacketConn: uc, from: map[netip.AddrPort]int{}}
	boot, err := dht.New(dht.Config{Conn: rec, QueryTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	boot.Start()
	t.Cleanup(func() { boot.Close(); uc.Close() })
	bootAddr := []string{uc.LocalAddr().String()}

	dir := t.TempDir()
	root := swarmtest.Payload(t, filepath.Join(dir, "seed"), "dht.bin", seedFor(t.Name()), map[string]int{"": 2 << 20})
	data, mi := swarmtest.MakeTorrent(t, root, 64<<10)
	hash := mi.InfoHash.String()
	seed := swarmtest.NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), DHT: true, DHTBootstrap: bootAddr, UTP: true})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	swarmtest.WaitState(t, seed, hash, startTimeout, session.StateSeeding)
	testutil.WaitFor(t, 60*time.Second, "the seeder's DHT announce", func() bool { return boot.Stats().PeersStored > 0 })
	seen := watchPeers(t, seed, hash)

	leech := proxiedSession(t, d, session.Config{DownloadDir: filepath.Join(dir, "leech"), DHT: true, DHTBootstrap: bootAddr, UTP: true})
	if _, err := leech.Add(context.Background(), session.AddRequest{URI: metainfo.Magnet{InfoHash: mi.InfoHash}.String()}); err != nil {
		t.Fatal(err)
	}
	st := swarmtest.WaitState(t, leech, hash, transferTimeout, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	swarmtest.SameTree(t, root, filepath.Join(dir, "leech", "dht.bin"))
	if ds, ok := leech.DHTStats(); !ok || ds.ResponsesIn == 0 {
		t.Fatalf("the leecher's DHT: on %v, %+v", ok, ds)
	}
	seedAddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(seed.Port()))
	fromDante := 0
	for src, n := range rec.sources() {
		switch {
		case src == seedAddr:
		case src.Addr() == danteExternal:
			fromDante += n
		default:
			t.Errorf("the bootstrap node heard %d datagram(s) from %v: neither the seeder nor danted", n, src)
		}
	}
	if fromDante == 0 {
		t.Fatal("the bootstrap node heard nothing from danted")
	}
	peersFromDante(t, seen(), "")
}

// danteBigBuffers gives danted's sockets 4 MiB receive buffers (the
// kernel's default, about 208 KiB, overflows under bursts of uTP packets).
const danteBigBuffers = "internal.socket.so_rcvbuf: 4194304\nexternal.socket.so_rcvbuf: 4194304\n"

// TestDanteThroughput measures a gobit-to-gobit download of 32 MiB
// directly and through danted, over TCP and over uTP (and over uTP
// through a danted with large socket buffers), and logs the rates. It
// asserts the data and where it came from, not the speed.
func TestDanteThroughput(t *testing.T) {
	stock := startDante(t)
	big := startDanteWith(t, danteBigBuffers)
	const size = 32 << 20
	run := func(transport string, d *dante) float64 {
		dir := t.TempDir()
		root := swarmtest.Payload(t, filepath.Join(dir, "seed"), "big.bin", seedFor(t.Name()+transport), map[string]int{"": size})
		tr := trackertest.New(t)
		data, mi := swarmtest.MakeTorrent(t, root, 256<<10, tr.HTTPURL())
		hash := mi.InfoHash.String()
		cfg := session.Config{DownloadDir: filepath.Join(dir, "seed")}
		if transport == "utp" {
			cfg.UTP, cfg.NoTCP = true, true
		}
		seed := swarmtest.NewSessionWith(t, cfg)
		defer seed.Close()
		if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
			t.Fatal(err)
		}
		swarmtest.WaitState(t, seed, hash, startTimeout, session.StateSeeding)
		seen := watchPeers(t, seed, hash)
		cfg.DownloadDir = filepath.Join(dir, "leech")
		if transport == "utp" {
			cfg.Port = freePort(t)
		}
		var leech *session.Session
		if d != nil {
			leech = proxiedSession(t, d, cfg)
			if transport == "utp" {
				testutil.WaitFor(t, startTimeout, "the UDP association", func() bool { return leech.Settings().ProxyUDP == "associated" })
			}
		} else {
			leech = swarmtest.NewSessionWith(t, cfg)
		}
		defer leech.Close()
		start := time.Now()
		if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
			t.Fatal(err)
		}
		st := swarmtest.WaitState(t, leech, hash, 3*transferTimeout, session.StateSeeding, session.StateError)
		took := time.Since(start)
		if st.State != session.StateSeeding {
			t.Fatalf("%s proxied=%v: leecher ended in %s: %s", transport, d != nil, st.State, st.Error)
		}
		swarmtest.SameTree(t, root, filepath.Join(dir, "leech", "big.bin"))
		if d != nil {
			peersFromDante(t, seen(), transport)
		}
		return throughput(size, took)
	}
	for _, transport := range []string{"tcp", "utp"} {
		direct, proxied := run(transport, nil), run(transport, stock)
		t.Logf("%s: %.1f MB/s direct, %.1f MB/s through danted (%.0f %%)", transport, direct, proxied, 100*proxied/direct)
	}
	t.Logf("utp through danted with 4 MiB socket buffers: %.1f MB/s", run("utp", big))
}

// TestDanteRestart: danted goes away under a gobit whose uTP (TCP off)
// runs through its UDP association: the session's network status turns
// to failed with the reason and the time of the next attempt, nothing
// reaches the seeder meanwhile, and once danted is back on its port the
// association is made again (with backoff) and a download completes over
// uTP through it.
func TestDanteRestart(t *testing.T) {
	d := startDante(t)
	tr := trackertest.New(t)
	dir := t.TempDir()
	root := swarmtest.Payload(t, filepath.Join(dir, "seed"), "restart.bin", seedFor(t.Name()), map[string]int{"": 2 << 20})
	data, mi := swarmtest.MakeTorrent(t, root, 64<<10, tr.HTTPURL())
	hash := mi.InfoHash.String()
	seed := swarmtest.NewSessionWith(t, session.Config{DownloadDir: filepath.Join(dir, "seed"), UTP: true, NoTCP: true})
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	swarmtest.WaitState(t, seed, hash, startTimeout, session.StateSeeding)
	seen := watchPeers(t, seed, hash)

	leech := proxiedSession(t, d, session.Config{DownloadDir: filepath.Join(dir, "leech"), UTP: true, NoTCP: true, Port: freePort(t)})
	testutil.WaitFor(t, startTimeout, "the UDP association", func() bool { return leech.Settings().ProxyUDP == "associated" })

	d.proc.stop()
	testutil.WaitFor(t, 30*time.Second, "the failure in the network status", func() bool {
		s := leech.Settings()
		return s.ProxyUDP == "failed" && s.ProxyUDPError != "" && s.ProxyUDPRetry != "" && s.ProxyUDPRelay == ""
	})
	t.Logf("while danted is down: %q, next attempt at %s", leech.Settings().ProxyUDPError, leech.Settings().ProxyUDPRetry)
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if len(seen()) != 0 || swarmtest.Status(t, leech, hash).Progress != 0 {
		t.Fatalf("traffic without the proxy: the seeder saw %v", seen())
	}
	seen = watchPeers(t, seed, hash)

	d.start(t)
	testutil.WaitFor(t, 60*time.Second, "the UDP association again", func() bool { return leech.Settings().ProxyUDP == "associated" })
	st := swarmtest.WaitState(t, leech, hash, transferTimeout, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	swarmtest.SameTree(t, root, filepath.Join(dir, "leech", "restart.bin"))
	peersFromDante(t, seen(), "utp")
}
