package transmission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobit/gobit/internal/testutil"
)

// TestCtrlTransmission runs ctrl.mjs (every method of the npm library
// @ctrl/transmission that maps onto the RPC) against gobit and
// transmission-daemon.
func TestCtrlTransmission(t *testing.T) {
	node := testutil.NeedProgram(t, "node", "nodejs")
	if _, err := os.Stat(filepath.Join("node_modules", "@ctrl", "transmission")); err != nil {
		msg := "@ctrl/transmission is not installed; run: cd test/clients/transmission && npm ci"
		if testutil.InCI() {
			t.Fatal(msg + " (required when CI=true)")
		}
		t.Skip(msg)
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := start(t, kind, "ctrl", "pw")
			f := newFixture(t, "ctrl-"+kind)
			f.copyData(t, s.dir)
			env := []string{
				"RPC_URL=http://" + s.host + "/", "RPC_USER=" + s.user, "RPC_PASS=" + s.pass, "SERVER_KIND=" + kind,
				"TORRENT_FILE=" + f.torrentFile, "TORRENT_HASH=" + f.hash, "TORRENT_NAME=" + f.name,
				"DOWNLOAD_DIR=" + s.dir, "MOVE_DIR=" + t.TempDir(),
			}
			out, err := run(t, env, node, "ctrl.mjs")
			if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
				t.Fatalf("%s: @ctrl/transmission: %v\n%s", kind, err, out)
			}
		})
	}
}
