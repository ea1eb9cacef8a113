package qbittorrent

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// TestTorrentPeersEncryptionAndTransport downloads from a gobit seeder
// under each encryption policy and checks sync/torrentPeers against the
// session's own report: E for RC4 traffic, e for an encrypted handshake
// with plain traffic, connection "BT" and no P over TCP, no I for a peer
// we dialled, and a description line for each letter.
func TestTorrentPeersEncryptionAndTransport(t *testing.T) {
	for _, tc := range []struct {
		seed       peer.Encryption
		encryption string // the session's PeerStatus.Encryption
		flag       string
	}{
		{peer.EncryptionRequire, "rc4", "E"},
		{peer.EncryptionPrefer, "plaintext", "e"},
	} {
		t.Run("seeder "+tc.seed.String(), func(t *testing.T) {
			hash, magnet := swarmtest.SlowSeeder(t, tc.seed)
			e := newEnv(t, Options{})
			if code, body := e.multipartAdd(map[string]string{"urls": magnet}); body != "Ok." {
				t.Fatalf("add: %d %s", code, body)
			}
			var p map[string]any
			testutil.WaitFor(t, 30*time.Second, "a peer in sync/torrentPeers", func() bool {
				var out struct {
					Peers map[string]map[string]any `json:"peers"`
				}
				e.getJSON("sync/torrentPeers", url.Values{"hash": {hash}}, &out)
				for _, v := range out.Peers {
					p = v
					return true
				}
				return false
			})
			d, err := e.sess.Get(hash)
			if err != nil || len(d.PeerList) == 0 {
				t.Fatalf("session: %v, %d peers", err, len(d.PeerList))
			}
			if d.PeerList[0].Encryption != tc.encryption {
				t.Fatalf("session reports encryption %q, want %q", d.PeerList[0].Encryption, tc.encryption)
			}
			flags, _ := p["flags"].(string)
			letters := strings.Fields(flags)
			if !slices.Contains(letters, tc.flag) || slices.Contains(letters, map[string]string{"E": "e", "e": "E"}[tc.flag]) {
				t.Errorf("flags %q, want %s and not the other encryption letter", flags, tc.flag)
			}
			if p["connection"] != "BT" || slices.Contains(letters, "P") || slices.Contains(letters, "I") {
				t.Errorf("connection %v, flags %q: want BT, no P, no I", p["connection"], flags)
			}
			desc, _ := p["flags_desc"].(string)
			if lines := strings.Split(desc, "\n"); len(lines) != len(letters) || !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, tc.flag+" = Encrypted") }) {
				t.Errorf("flags_desc %q for flags %q", desc, flags)
			}
		})
	}
}
