package dht

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// ltSwarm is a running testdata/lt_dht.py: libtorrent DHT nodes on
// loopback, the last one seeding a generated torrent.
type ltSwarm struct {
	stdin io.WriteCloser
	lines chan string
	nodes []netip.AddrPort
	seed  netip.AddrPort
	hash  [20]byte
}

// startLTSwarm runs testdata/lt_dht.py and waits for READY.
func startLTSwarm(t *testing.T, py string) *ltSwarm {
	t.Helper()
	cmd := exec.Command(py, "testdata/lt_dht.py", "--dir", t.TempDir(), "--nodes", "3", "--timeout", "60")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &testLogWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start lt_dht.py: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	sw := &ltSwarm{stdin: stdin, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			sw.lines <- sc.Text()
		}
		close(sw.lines)
	}()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-sw.lines:
			if !ok {
				t.Fatal("lt_dht.py exited before READY")
			}
			t.Logf("lt: %s", line)
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "NODE":
				sw.nodes = append(sw.nodes, netip.MustParseAddrPort("127.0.0.1:"+f[2]))
			case len(f) == 3 && f[0] == "SEED":
				b, err := hex.DecodeString(f[1])
				if err != nil || len(b) != 20 {
					t.Fatalf("bad SEED line %q", line)
				}
				sw.hash = [20]byte(b)
				sw.seed = netip.MustParseAddrPort("127.0.0.1:" + f[2])
			case len(f) > 0 && f[0] == "ERROR":
				t.Fatalf("lt_dht.py: %s", line)
			case line == "READY":
				return sw
			}
		case <-deadline:
			t.Fatal("lt_dht.py: no READY within 20 s")
		}
	}
}

// testLogWriter sends a subprocess's stderr to the test log.
type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(b []byte) (int, error) {
	w.t.Logf("lt stderr: %s", strings.TrimSpace(string(b)))
	return len(b), nil
}

// TestInteropLibtorrent bootstraps gobit's node from a libtorrent DHT node,
// finds a libtorrent seeder's announce with GetPeers, and has libtorrent
// find gobit's own announce.
func TestInteropLibtorrent(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test skipped in -short mode")
	}
	py := testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	sw := startLTSwarm(t, py)

	s := newTestServer(t, Config{Bootstrap: []string{sw.nodes[0].String()}})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if err := s.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap from libtorrent: %v", err)
	}
	t.Logf("after bootstrap: %+v", s.Stats())

	// libtorrent's seeder announces every 3 s; poll until its announce
	// has been stored somewhere.
	var peers []netip.AddrPort
	for !slices.Contains(peers, sw.seed) {
		if ctx.Err() != nil {
			t.Fatalf("GetPeers never returned the libtorrent seeder %v (last: %v)", sw.seed, peers)
		}
		var err error
		peers, err = s.GetPeers(ctx, sw.hash)
		if err != nil {
			t.Logf("get_peers: %v", err)
		}
		if !slices.Contains(peers, sw.seed) {
			// Paced lookups: libtorrent rate-limits DHT traffic per node.
			time.Sleep(500 * time.Millisecond)
		}
	}
	t.Logf("found libtorrent seeder %v via gobit GetPeers", sw.seed)

	// The other way round: gobit announces, libtorrent looks it up.
	var ih [20]byte
	copy(ih[:], "gobit-dht-interop-01")
	const port = 51413
	want := fmt.Sprintf("127.0.0.1:%d", port)
	for {
		if ctx.Err() != nil {
			t.Fatal("libtorrent never found gobit's announce")
		}
		if _, err := s.Announce(ctx, ih, port, false); err != nil {
			t.Logf("announce: %v", err)
		}
		fmt.Fprintf(sw.stdin, "get_peers %x\n", ih)
		if waitPeersLine(ctx, t, sw, ih, want, 3*time.Second) {
			break
		}
	}
	if st := s.Stats(); st.QueriesIn == 0 {
		t.Errorf("libtorrent sent gobit no queries: %+v", st)
	}
}

// waitPeersLine waits up to d for a PEERS line of ih that contains want.
func waitPeersLine(ctx context.Context, t *testing.T, sw *ltSwarm, ih [20]byte, want string, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	prefix := fmt.Sprintf("PEERS %x", ih)
	for {
		select {
		case line, ok := <-sw.lines:
			if !ok {
				t.Fatal("lt_dht.py exited")
			}
			if strings.HasPrefix(line, prefix) {
				t.Logf("lt: %s", line)
				if slices.Contains(strings.Fields(line)[2:], want) {
					return true
				}
			}
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
