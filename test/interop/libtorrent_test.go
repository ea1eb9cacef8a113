package interop

import (
	"path/filepath"
	"testing"

	"github.com/gobit/gobit/internal/testutil"
)

// ltScript is the libtorrent peer program, run with the system Python that
// has python3-libtorrent.
const ltScript = "testdata/lt_peer.py"

// libtorrent drives testdata/lt_peer.py. It listens on a port the OS picks
// (--port 0, printed on its READY line) and prefers uTP, falling back to
// TCP for gobit.
var libtorrent = ltClient("libtorrent")

// ltClient is libtorrent run with extra lt_peer.py options (such as
// --encryption forced).
func ltClient(name string, extra ...string) peerClient {
	return peerClient{
		name: name,
		need: func(t *testing.T) { testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent") },
		seed: func(t *testing.T, sw *swarm) {
			p := startLT(t, name+" seeder", "seed", append([]string{"--torrent", sw.torrentPath, "--save", sw.dir}, extra...)...)
			p.waitOutput(t, "READY", startTimeout)
		},
		leech: func(t *testing.T, sw *swarm, magnet bool, out string) func() {
			src := []string{"--torrent", sw.torrentPath}
			if magnet {
				src = []string{"--magnet", sw.magnet}
			}
			p := startLT(t, name+" leecher", "leech", append(append(src, "--save", out), extra...)...)
			return func() {
				t.Helper()
				p.waitOutput(t, "COMPLETE", transferTimeout)
				if magnet {
					p.waitOutput(t, "METADATA received", 0)
				}
			}
		},
	}
}

// startLT runs lt_peer.py in mode with args; it exits by itself after
// twice the transfer timeout at the latest.
func startLT(t *testing.T, name, mode string, args ...string) *process {
	t.Helper()
	py := testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	script, err := filepath.Abs(ltScript)
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{script, mode, "--port", "0", "--timeout", "180"}, args...)
	return startProcess(t, name, t.TempDir(), py, args...)
}
