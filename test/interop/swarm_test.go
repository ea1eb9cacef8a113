package interop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/bencode"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/swarmtest"
	"github.com/gobit/gobit/internal/testutil"
)

// Sizes and timeouts shared by the tests.
const (
	// pieceLog2 is the piece length as a power of two (32 KiB), so the
	// payload has a few dozen pieces and several cross file boundaries.
	pieceLog2 = 15
	// startTimeout bounds a program's start-up (listening, hash check).
	startTimeout = 60 * time.Second
	// transferTimeout bounds one download. Transmission unchokes in 10 s
	// rounds, so its transfers take 10-30 s even for small payloads.
	transferTimeout = 90 * time.Second
	// trackerTimeout bounds the wait for a peer's announce to show in the
	// tracker's scrape.
	trackerTimeout = 30 * time.Second
	// payloadName is the torrent's name: the top-level folder.
	payloadName = "multi"
)

// payloadFiles is the multi-file payload: a file that spans many pieces, a
// smaller one and a tiny one in a subdirectory, so pieces cross file
// boundaries.
var payloadFiles = map[string]int{
	"a.bin":     1_200_000,
	"b.bin":     300_000,
	"sub/c.txt": 6,
}

// swarm is one test's torrent: a payload on disk, its .torrent, its magnet
// and the opentracker every peer announces to.
type swarm struct {
	// dir holds the payload folder: the seeder's save directory.
	dir string
	// root is dir/payloadName, the payload itself.
	root string
	// torrentPath is the .torrent file and torrent its content.
	torrentPath string
	torrent     []byte
	mi          *metainfo.MetaInfo
	// magnet is a magnet link with the tracker (tr=) but no name or size.
	magnet string
	// announce is the tracker's HTTP announce URL.
	announce string
}

// newSwarm starts an opentracker, writes a payload whose content depends
// on seed, and makes a .torrent for it announcing to that tracker: with
// mktorrent when foreign is set (a torrent gobit did not create), with
// gobit's own creator otherwise. The info hash is whitelisted.
func newSwarm(t *testing.T, seed uint64, foreign bool) *swarm {
	t.Helper()
	announce, _, whitelist := testutil.StartOpentracker(t)
	sw := &swarm{dir: filepath.Join(t.TempDir(), "seed"), announce: announce}
	sw.root = swarmtest.Payload(t, sw.dir, payloadName, seed, payloadFiles)
	sw.torrentPath = filepath.Join(t.TempDir(), payloadName+".torrent")
	if foreign {
		mk := testutil.NeedProgram(t, "mktorrent", "mktorrent")
		p := startProcess(t, "mktorrent", sw.dir, mk, "-l", fmt.Sprint(pieceLog2), "-a", announce,
			"-o", sw.torrentPath, sw.root)
		if err := p.waitExit(t, startTimeout); err != nil {
			t.Fatalf("mktorrent: %v\n%s", err, p.out.Tail(logTail))
		}
		data, err := os.ReadFile(sw.torrentPath)
		if err != nil {
			t.Fatal(err)
		}
		sw.torrent = data
		if sw.mi, err = metainfo.Parse(data); err != nil {
			t.Fatalf("gobit cannot parse mktorrent's torrent: %v", err)
		}
	} else {
		sw.torrent, sw.mi = swarmtest.MakeTorrent(t, sw.root, 1<<pieceLog2, announce)
		if err := os.WriteFile(sw.torrentPath, sw.torrent, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := sw.mi.Info.NumPieces(); n < 40 {
		t.Fatalf("torrent has %d pieces; the test wants several dozen", n)
	}
	sw.magnet = metainfo.Magnet{InfoHash: sw.mi.InfoHash, Trackers: []string{announce}}.String()
	whitelist(sw.mi.InfoHash)
	return sw
}

// hash returns the info hash in hex.
func (sw *swarm) hash() string { return sw.mi.InfoHash.String() }

// scrape asks the tracker how many seeders and leechers it knows.
func (sw *swarm) scrape() (seeders, leechers int, err error) {
	u := strings.TrimSuffix(sw.announce, "/announce") + "/scrape?info_hash=" + percentEncode(sw.mi.InfoHash[:])
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return 0, 0, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, 0, fmt.Errorf("scrape: %w", err)
	}
	var r struct {
		Files map[string]struct {
			Complete   int `bencode:"complete"`
			Incomplete int `bencode:"incomplete"`
		} `bencode:"files"`
	}
	if err := bencode.Unmarshal(body, &r); err != nil {
		return 0, 0, fmt.Errorf("scrape: %w (answer %q)", err, body)
	}
	f := r.Files[string(sw.mi.InfoHash[:])]
	return f.Complete, f.Incomplete, nil
}

// percentEncode escapes every byte as %XX. (url.QueryEscape turns a space
// into "+", which opentracker does not decode in an info hash.)
func percentEncode(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, "%%%02X", c)
	}
	return s.String()
}

// waitTracker waits until the tracker knows at least n peers of the
// swarm, seeders or leechers, so a peer started next gets their addresses.
// (It does not insist on seeders: gobit's first announce of a torrent whose
// data is still being checked says it has everything left to download.)
func (sw *swarm) waitTracker(t *testing.T, n int) {
	t.Helper()
	var s, l int
	defer func() {
		if t.Failed() {
			t.Logf("tracker scrape: last answer %d seeder(s), %d leecher(s)", s, l)
		}
	}()
	testutil.WaitForErr(t, trackerTimeout, fmt.Sprintf("the tracker to list %d peer(s)", n), func() (bool, error) {
		var err error
		s, l, err = sw.scrape()
		if err != nil {
			t.Logf("%v", err)
		}
		return s+l >= n, nil
	})
}

// gobitSession starts a gobit session saving into dir.
func gobitSession(t *testing.T, dir string) *session.Session {
	t.Helper()
	return swarmtest.NewSession(t, dir)
}

// gobitAdd adds the swarm's torrent to s, as a magnet or as .torrent data.
func gobitAdd(t *testing.T, s *session.Session, sw *swarm, magnet bool) {
	t.Helper()
	req := session.AddRequest{Torrent: sw.torrent}
	if magnet {
		req = session.AddRequest{URI: sw.magnet}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Add(ctx, req); err != nil {
		t.Fatalf("gobit add: %v", err)
	}
}

// gobitSeed starts a gobit session that seeds the swarm's payload and waits
// until it has verified the data.
func gobitSeed(t *testing.T, sw *swarm) *session.Session {
	t.Helper()
	s := gobitSession(t, sw.dir)
	gobitAdd(t, s, sw, false)
	swarmtest.WaitState(t, s, sw.hash(), startTimeout, session.StateSeeding)
	return s
}
