package interop

import (
	"bufio"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// TestGobitDHTJoinsLibtorrentDHT: gobit's DHT node joins a DHT formed by
// three libtorrent nodes on loopback, finds the libtorrent seeder of a
// trackerless magnet through it and completes the download. The libtorrent
// side is internal/dht/testdata/lt_dht.py.
func TestGobitDHTJoinsLibtorrentDHT(t *testing.T) {
	skipShort(t)
	py := testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	script, err := filepath.Abs("../../internal/dht/testdata/lt_dht.py")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cmd := exec.Command(py, script, "--dir", work, "--nodes", "3", "--timeout", "120")
	stdin, _ := cmd.StdinPipe() // the script runs until its stdin closes
	stdout, _ := cmd.StdoutPipe()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var boot string
	var hash metainfo.Hash
	deadline := time.After(30 * time.Second)
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("lt_dht.py exited before READY")
			}
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "NODE" && f[1] == "0":
				boot = "127.0.0.1:" + f[2]
			case len(f) == 3 && f[0] == "SEED":
				b, err := hex.DecodeString(f[1])
				if err != nil || len(b) != 20 {
					t.Fatalf("bad SEED line %q", line)
				}
				hash = metainfo.Hash(b)
			case len(f) > 0 && f[0] == "ERROR":
				t.Fatalf("lt_dht.py: %s", line)
			case line == "READY":
				break wait
			}
		case <-deadline:
			t.Fatal("lt_dht.py: no READY within 30 s")
		}
	}
	if boot == "" || hash.IsZero() {
		t.Fatalf("lt_dht.py gave no bootstrap node or info hash")
	}

	out := t.TempDir()
	s := swarmtest.NewSessionWith(t, session.Config{DownloadDir: out, DHT: true, DHTBootstrap: []string{boot}})
	m := metainfo.Magnet{InfoHash: hash} // no tracker, no peer: DHT only
	if _, err := s.Add(context.Background(), session.AddRequest{URI: m.String()}); err != nil {
		t.Fatal(err)
	}
	st := swarmtest.WaitState(t, s, hash.String(), 90*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("ended in %s: %s", st.State, st.Error)
	}
	want, err := os.ReadFile(filepath.Join(work, "payload.bin"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, st.Name))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("downloaded data differs from the libtorrent seeder's")
	}
	d, _ := s.Get(hash.String())
	t.Logf("downloaded %d bytes via the DHT; peers: %+v", st.Downloaded, d.PeerList)
}
