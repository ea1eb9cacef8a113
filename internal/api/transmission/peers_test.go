package transmission

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/api/creds"
	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// TestPeersEncryptionAndTransport downloads from a gobit seeder under each
// encryption policy and checks that torrent-get's peers report the
// connection as the session does: isEncrypted and the E letter only for
// an RC4 stream, isUTP false and no T over TCP, and no I for a peer we
// dialled.
func TestPeersEncryptionAndTransport(t *testing.T) {
	for _, tc := range []struct {
		seed      peer.Encryption
		encrypted bool
	}{
		{peer.EncryptionRequire, true},
		{peer.EncryptionPrefer, false}, // obfuscated handshake, plain stream
	} {
		t.Run("seeder "+tc.seed.String(), func(t *testing.T) {
			hash, magnet := swarmtest.SlowSeeder(t, tc.seed)
			g := newRig(t, creds.Credentials{})
			if res, _ := g.call("torrent-add", map[string]any{"filename": magnet}); res != "success" {
				t.Fatalf("torrent-add: %q", res)
			}
			var p map[string]any
			testutil.WaitFor(t, 30*time.Second, "a peer in torrent-get", func() bool {
				_, args := g.call("torrent-get", map[string]any{"ids": []any{hash}, "fields": []string{"peers"}})
				var ts []struct {
					Peers []map[string]any `json:"peers"`
				}
				b, _ := json.Marshal(args["torrents"])
				json.Unmarshal(b, &ts)
				if len(ts) != 1 || len(ts[0].Peers) == 0 {
					return false
				}
				p = ts[0].Peers[0]
				return true
			})
			d, err := g.sess.Get(hash)
			if err != nil || len(d.PeerList) == 0 {
				t.Fatalf("session: %v, %d peers", err, len(d.PeerList))
			}
			if want := map[bool]string{true: "rc4", false: "plaintext"}[tc.encrypted]; d.PeerList[0].Encryption != want {
				t.Fatalf("session reports encryption %q, want %q", d.PeerList[0].Encryption, want)
			}
			flags, _ := p["flagStr"].(string)
			if p["isEncrypted"] != tc.encrypted || strings.Contains(flags, "E") != tc.encrypted {
				t.Errorf("isEncrypted %v, flagStr %q; want encrypted %v", p["isEncrypted"], flags, tc.encrypted)
			}
			if p["isUTP"] != false || strings.Contains(flags, "T") {
				t.Errorf("isUTP %v, flagStr %q over TCP", p["isUTP"], flags)
			}
			if p["isIncoming"] != false || strings.Contains(flags, "I") {
				t.Errorf("isIncoming %v, flagStr %q for a peer we dialled", p["isIncoming"], flags)
			}
		})
	}
}
