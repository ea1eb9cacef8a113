package transmission

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/testutil"
)

// TestPythonTransmissionrpc runs transmissionrpc_check.py (the Python
// transmissionrpc library: add, list, start, stop, session get and set,
// stats, rename a file and a folder, remove) against gobit and
// transmission-daemon.
func TestPythonTransmissionrpc(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			py := testutil.NeedPythonModule(t, "transmissionrpc", "python3-transmissionrpc")
			s := start(t, kind, "py", "thon")
			f := newFixture(t, "py-"+kind)
			f.copyData(t, s.dir)
			host, port, _ := net.SplitHostPort(s.host)
			env := []string{
				"RPC_HOST=" + host, "RPC_PORT=" + port, "RPC_USER=" + s.user, "RPC_PASS=" + s.pass,
				"TORRENT_FILE=" + f.torrentFile, "TORRENT_HASH=" + f.hash, "TORRENT_NAME=" + f.name,
				"TORRENT_SIZE=" + fmt.Sprint(f.size()), "DOWNLOAD_DIR=" + s.dir,
			}
			out, err := run(t, env, py, "transmissionrpc_check.py")
			if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
				t.Fatalf("%s: transmissionrpc: %v\n%s", kind, err, out)
			}
		})
	}
}
