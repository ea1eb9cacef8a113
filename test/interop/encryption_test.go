package interop

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/peer"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// encryptedClients are the real clients with message stream encryption
// forced to RC4 in both directions; gobit runs with --encryption require
// against them, so a transfer proves an RC4 stream on both sides.
var encryptedClients = []peerClient{
	ltClient("libtorrent-rc4", "--encryption", "forced"),
	aria2Client("aria2-rc4", "--bt-require-crypto=true", "--bt-min-crypto-level=arc4"),
	transmissionClient("transmission-rc4", trEncryptionRequired),
}

// encryptedSession starts a gobit session saving into dir under policy
// enc.
func encryptedSession(t *testing.T, dir string, enc peer.Encryption) *session.Session {
	t.Helper()
	return swarmtest.NewSessionWith(t, session.Config{DownloadDir: dir, Encryption: enc})
}

// TestEncryptedGobitDownloads has gobit (--encryption require) download
// from each client seeding with encryption forced.
func TestEncryptedGobitDownloads(t *testing.T) {
	skipShort(t)
	for _, c := range encryptedClients {
		t.Run(c.name, func(t *testing.T) {
			c.need(t)
			sw := newSwarm(t, seedFor(t.Name()), true)
			c.seed(t, sw)
			sw.waitTracker(t, 1)
			out := t.TempDir()
			s := encryptedSession(t, out, peer.EncryptionRequire)
			gobitAdd(t, s, sw, false)
			st := gobitWait(t, s, sw, transferTimeout)
			swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
			t.Logf("gobit downloaded %d bytes over RC4 from %s", st.Downloaded, c.name)
		})
	}
}

// TestEncryptedGobitSeeds has each client, encryption forced, download from
// gobit seeding with --encryption require.
func TestEncryptedGobitSeeds(t *testing.T) {
	skipShort(t)
	for _, c := range encryptedClients {
		t.Run(c.name, func(t *testing.T) {
			c.need(t)
			sw := newSwarm(t, seedFor(t.Name()), false)
			out := t.TempDir()
			seed := func() *session.Session {
				s := encryptedSession(t, sw.dir, peer.EncryptionRequire)
				gobitAdd(t, s, sw, false)
				swarmtest.WaitState(t, s, sw.hash(), startTimeout, session.StateSeeding)
				return s
			}
			var s *session.Session
			if c.neverDials {
				wait := c.leech(t, sw, false, out)
				sw.waitTracker(t, 1)
				s = seed()
				wait()
			} else {
				s = seed()
				sw.waitTracker(t, 1)
				c.leech(t, sw, false, out)()
			}
			swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
			d, err := s.Get(sw.hash())
			if err != nil {
				t.Fatal(err)
			}
			if total := sw.mi.Info.TotalLength(); d.Uploaded < total {
				t.Errorf("gobit uploaded %d bytes, the payload has %d", d.Uploaded, total)
			}
		})
	}
}

// TestEncryptionAgainstPlainLibtorrent runs gobit against a libtorrent
// that refuses encryption (both policies pe_disabled): under the default
// policy gobit falls back to a plain handshake and downloads; under
// --encryption require no connection is made in either direction.
func TestEncryptionAgainstPlainLibtorrent(t *testing.T) {
	skipShort(t)
	testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	t.Run("prefer", func(t *testing.T) {
		sw := newSwarm(t, seedFor(t.Name()), true)
		p := startLT(t, "plain libtorrent seeder", "seed", "--torrent", sw.torrentPath, "--save", sw.dir, "--encryption", "disabled")
		p.waitOutput(t, "READY", startTimeout)
		sw.waitTracker(t, 1)
		out := t.TempDir()
		s := encryptedSession(t, out, peer.EncryptionPrefer)
		gobitAdd(t, s, sw, false)
		gobitWait(t, s, sw, transferTimeout)
		swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
		if line := p.waitOutput(t, "PEER ", 0); !strings.Contains(line, "enc=none") {
			t.Errorf("libtorrent saw an encrypted peer: %s", line)
		}
	})
	t.Run("require", func(t *testing.T) {
		sw := newSwarm(t, seedFor(t.Name()), true)
		p := startLT(t, "plain libtorrent seeder", "seed", "--torrent", sw.torrentPath, "--save", sw.dir, "--encryption", "disabled")
		p.waitOutput(t, "READY", startTimeout)
		sw.waitTracker(t, 1)
		out := t.TempDir()
		s := encryptedSession(t, out, peer.EncryptionRequire)
		gobitAdd(t, s, sw, false)
		// gobit learns libtorrent's address from the tracker and dials it
		// with MSE, which libtorrent drops: wait for that attempt to show
		// in libtorrent's log.
		line := p.waitOutput(t, "DISCONNECT ", transferTimeout)
		t.Logf("libtorrent: %s", line)
		// A plain fallback would follow within milliseconds; allow a wide
		// margin before checking that nothing connected.
		time.Sleep(2 * time.Second)
		if line, ok := p.out.Line("PEER "); ok {
			t.Errorf("libtorrent completed a handshake with gobit under --encryption require: %s", line)
		}
		st := swarmtest.Status(t, s, sw.hash())
		if st.Downloaded != 0 || st.Peers != 0 {
			t.Errorf("gobit: %d peers, %d bytes downloaded", st.Peers, st.Downloaded)
		}
	})
}
