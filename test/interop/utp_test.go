package interop

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// The uTP interop tests run gobit with TCP off (session.Config.NoTCP), so
// every byte crosses uTP; the other program has uTP on (and, for
// libtorrent, TCP off too).

// gobitUTPSession starts a gobit session that speaks uTP only.
func gobitUTPSession(t *testing.T, dir string) *session.Session {
	t.Helper()
	return swarmtest.NewSessionWith(t, session.Config{DownloadDir: dir, UTP: true, NoTCP: true})
}

// gobitUTPDownload: once the seeder is at the tracker, gobit (uTP only)
// downloads sw into a directory of its own; its data and that only uTP
// carried it are checked.
func gobitUTPDownload(t *testing.T, sw *swarm) {
	t.Helper()
	sw.waitTracker(t, 1)
	out := t.TempDir()
	s := gobitUTPSession(t, out)
	seen := swarmtest.WatchTransports(t, s, sw.hash())
	gobitAdd(t, s, sw, false)
	gobitWait(t, s, sw, transferTimeout)
	swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
	checkUTP(t, seen())
}

// gobitUTPSeed starts gobit (uTP only) seeding sw from sw.dir; check,
// called once the other program has the data, says whether only uTP
// carried gobit's peers.
func gobitUTPSeed(t *testing.T, sw *swarm) (s *session.Session, check func()) {
	t.Helper()
	s = gobitUTPSession(t, sw.dir)
	seen := swarmtest.WatchTransports(t, s, sw.hash())
	gobitAdd(t, s, sw, false)
	return s, func() { t.Helper(); checkUTP(t, seen()) }
}

func checkUTP(t *testing.T, seen map[string]bool) {
	t.Helper()
	if !seen["utp"] || seen["tcp"] {
		t.Errorf("gobit's peers used %v, want utp only", seen)
	}
}

// TestUTPLibtorrent: gobit downloads from libtorrent and libtorrent from
// gobit, over uTP only on both sides.
func TestUTPLibtorrent(t *testing.T) {
	skipShort(t)
	t.Run("gobit downloads", func(t *testing.T) {
		libtorrent.need(t)
		sw := newSwarm(t, seedFor(t.Name()), true)
		// Capped, so that the transfer lasts long enough for the watcher to
		// see the connection (uncapped it ended within one poll, in CI).
		p := startLT(t, "libtorrent seeder", "seed", "--no-tcp", "--upload-limit", "400000", "--torrent", sw.torrentPath, "--save", sw.dir)
		p.waitOutput(t, "READY", startTimeout)
		gobitUTPDownload(t, sw)
	})
	t.Run("libtorrent downloads", func(t *testing.T) {
		libtorrent.need(t)
		sw := newSwarm(t, seedFor(t.Name()), false)
		s, onlyUTP := gobitUTPSeed(t, sw)
		swarmtest.WaitState(t, s, sw.hash(), startTimeout, session.StateSeeding)
		sw.waitTracker(t, 1)
		out := t.TempDir()
		p := startLT(t, "libtorrent leecher", "leech", "--no-tcp", "--torrent", sw.torrentPath, "--save", out)
		p.waitOutput(t, "COMPLETE", transferTimeout)
		swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
		onlyUTP()
	})
}

// TestUTPTransmission: the same with Transmission 3.00 (uTP on). It never
// dials loopback peers, so gobit dials it in both directions.
func TestUTPTransmission(t *testing.T) {
	skipShort(t)
	utpOn := func(st map[string]any) { st["utp-enabled"] = true }
	t.Run("gobit downloads", func(t *testing.T) {
		transmission.need(t)
		sw := newSwarm(t, seedFor(t.Name()), true)
		tr := startTransmissionWith(t, "transmission seeder", sw.dir, utpOn)
		tr.add(t, sw, false)
		tr.waitComplete(t, sw.hash(), startTimeout)
		gobitUTPDownload(t, sw)
	})
	t.Run("transmission downloads", func(t *testing.T) {
		transmission.need(t)
		sw := newSwarm(t, seedFor(t.Name()), false)
		out := t.TempDir()
		tr := startTransmissionWith(t, "transmission leecher", out, utpOn)
		tr.add(t, sw, false)
		sw.waitTracker(t, 1)
		_, onlyUTP := gobitUTPSeed(t, sw)
		tr.waitComplete(t, sw.hash(), transferTimeout)
		swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
		onlyUTP()
	})
}

// bigUTPPayload is the payload of TestUTPLibtorrentBigSeed: large enough
// that a connection in slow start overflows libtorrent's UDP socket
// buffer (208 KiB) on loopback and has to recover from runs of losses.
const bigUTPPayload = 96 << 20

// TestUTPLibtorrentBigSeed: libtorrent downloads 96 MiB from gobit over uTP
// only on loopback, with no upload cap. Before gobit read libtorrent's
// selective ACKs (any length, not BEP 29's multiple of 4), every
// connection stalled for good at its first loss and this never finished.
// The deadline is generous: a correctness test, not a timing one.
func TestUTPLibtorrentBigSeed(t *testing.T) {
	skipShort(t)
	libtorrent.need(t)
	announce, _, whitelist := testutil.StartOpentracker(t)
	sw := &swarm{dir: filepath.Join(t.TempDir(), "seed"), announce: announce}
	sw.root = swarmtest.Payload(t, sw.dir, payloadName, seedFor(t.Name()), map[string]int{"big.bin": bigUTPPayload})
	sw.torrentPath = filepath.Join(t.TempDir(), payloadName+".torrent")
	sw.torrent, sw.mi = swarmtest.MakeTorrent(t, sw.root, 1<<20, announce)
	if err := os.WriteFile(sw.torrentPath, sw.torrent, 0o644); err != nil {
		t.Fatal(err)
	}
	whitelist(sw.mi.InfoHash)
	s, onlyUTP := gobitUTPSeed(t, sw)
	swarmtest.WaitState(t, s, sw.hash(), startTimeout, session.StateSeeding)
	sw.waitTracker(t, 1)
	out := t.TempDir()
	start := time.Now()
	p := startLT(t, "libtorrent leecher", "leech", "--no-tcp", "--torrent", sw.torrentPath, "--save", out)
	p.waitOutput(t, "COMPLETE", 3*time.Minute)
	t.Logf("%d MiB over uTP in %v", bigUTPPayload>>20, time.Since(start).Round(time.Millisecond))
	swarmtest.SameTree(t, sw.root, filepath.Join(out, payloadName))
	onlyUTP()
}
