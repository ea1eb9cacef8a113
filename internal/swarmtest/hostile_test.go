package swarmtest

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/session"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/tracker/trackertest"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// seedOne starts a tracker and a seeding gobit session with a single-file
// payload and returns the pieces a test needs.
func seedOne(t *testing.T, size int, pieceLength int64) (tr *trackertest.Tracker, seed *session.Session, data []byte, mi *metainfo.MetaInfo, root, dir string) {
	t.Helper()
	tr = trackertest.New(t)
	dir = t.TempDir()
	root = Payload(t, filepath.Join(dir, "seed"), "payload.bin", 7, map[string]int{"": size})
	data, mi = MakeTorrent(t, root, pieceLength, tr.HTTPURL())
	seed = NewSession(t, filepath.Join(dir, "seed"))
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	WaitState(t, seed, mi.InfoHash.String(), 30*time.Second, session.StateSeeding)
	return tr, seed, data, mi, root, dir
}

// leechAndCheck downloads the torrent into dir/name with a new session and
// checks the file against the seeder's.
func leechAndCheck(t *testing.T, data []byte, mi *metainfo.MetaInfo, root, dir, name string) *session.Session {
	t.Helper()
	leech := NewSession(t, filepath.Join(dir, name))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, mi.InfoHash.String(), 30*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	SameTree(t, filepath.Dir(root), filepath.Join(dir, name))
	return leech
}

func prefix(n uint32, rest ...byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	return append(b, rest...)
}

func TestHostilePeersAreDroppedAndSeederKeepsServing(t *testing.T) {
	const size, pieceLen = 1 << 20, 32 << 10
	_, seed, data, mi, root, dir := seedOne(t, size, pieceLen)
	hash := mi.InfoHash.String()
	numPieces := size / pieceLen

	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	// Make the first length prefix plausible so the garbage gets parsed as
	// a frame body rather than rejected on its length alone.
	copy(garbage, prefix(200, 0xEE))

	var haves []byte
	for i := 0; i < 10000; i++ {
		haves = (&wire.Message{ID: wire.Have, Index: uint32(numPieces) + uint32(i)*1000003}).AppendTo(haves)
	}
	// Control: a well-behaved peer stays connected and gets unchoked, so
	// the closes below are caused by the hostile input alone.
	good := DialRaw(t, seed.Port(), mi.InfoHash, [20]byte([]byte("-XX0001-well-behaved")))
	good.Send(wire.Message{ID: wire.Interested})
	good.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		m, _, err := wiretest.ReadMessage(good.Conn, nil)
		if err != nil {
			t.Fatalf("control peer: %v", err)
		}
		if m.ID == wire.Unchoke && !m.KeepAlive {
			break
		}
	}
	if good.WaitClosed(500 * time.Millisecond) {
		t.Fatal("control peer was disconnected")
	}
	good.Conn.Close()

	tests := []struct {
		name  string
		input []byte
	}{
		{"100 MB length prefix", prefix(100<<20, byte(wire.Piece))},
		{"random garbage", garbage},
		{"request for out-of-range piece", (&wire.Message{ID: wire.Request, Index: uint32(numPieces), Begin: 0, Length: wire.BlockSize}).AppendTo(nil)},
		{"request for huge piece index", (&wire.Message{ID: wire.Request, Index: 1 << 31, Begin: 0, Length: wire.BlockSize}).AppendTo(nil)},
		{"request of 1 MiB", (&wire.Message{ID: wire.Request, Index: 0, Begin: 0, Length: 1 << 20}).AppendTo(nil)},
		{"request beyond piece end", (&wire.Message{ID: wire.Request, Index: 0, Begin: pieceLen - 100, Length: wire.BlockSize}).AppendTo(nil)},
		{"bitfield too long", (&wire.Message{ID: wire.Bitfield, Bitfield: make([]byte, numPieces/8+5)}).AppendTo(nil)},
		{"bitfield too short", (&wire.Message{ID: wire.Bitfield, Bitfield: make([]byte, 1)}).AppendTo(nil)},
		{"bitfield with spare bits set", (&wire.Message{ID: wire.Bitfield, Bitfield: append(make([]byte, numPieces/8), 0xFF)}).AppendTo(nil)},
		{"10000 haves with huge indexes", haves},
		{"have_all without fast bit", nil}, // filled below
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p *RawPeer
			if tc.input == nil {
				// Handshake without the Fast bit, then a Fast message.
				p = dialNoFast(t, seed.Port(), mi.InfoHash)
				tc.input = (&wire.Message{ID: wire.HaveAll}).AppendTo(nil)
			} else {
				p = DialRaw(t, seed.Port(), mi.InfoHash, [20]byte([]byte("-XX0001-hostile-peer")))
			}
			p.Send(wire.Message{ID: wire.Interested})
			p.Write(tc.input)
			if !p.WaitClosed(10 * time.Second) {
				t.Fatal("gobit kept the connection open")
			}
		})
	}
	// The seeder survived and forgot every hostile connection.
	testutil.WaitFor(t, 10*time.Second, "the seeder to drop all hostile peers", func() bool {
		return Status(t, seed, hash).Peers == 0
	})
	if st := Status(t, seed, hash); st.State != session.StateSeeding {
		t.Fatalf("seeder is %s (%s) after the hostile peers", st.State, st.Error)
	}
	leechAndCheck(t, data, mi, root, dir, "leech")
}

// dialNoFast handshakes without the Fast extension bit.
func dialNoFast(t *testing.T, port int, infoHash [20]byte) *RawPeer {
	t.Helper()
	nc, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	hs := wire.Handshake{InfoHash: infoHash, PeerID: [20]byte([]byte("-XX0001-no-fast-peer"))}
	nc.Write(hs.AppendTo(nil))
	remote, err := wire.ReadHandshake(nc)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Time{})
	return &RawPeer{Conn: nc, Remote: remote}
}

// TestChokedRequestIsRejected checks that a peer
// requesting while choked gets a reject (Fast extension) and no data, and
// that the connection survives such a polite mistake.
func TestChokedRequestIsRejected(t *testing.T) {
	_, seed, _, mi, _, _ := seedOne(t, 256<<10, 32<<10)
	p := DialRaw(t, seed.Port(), mi.InfoHash, [20]byte([]byte("-XX0001-choked-peer1")))
	// No Interested: the seeder keeps us choked.
	p.Send(wire.Message{ID: wire.Request, Index: 1, Begin: 0, Length: wire.BlockSize})
	p.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf []byte
	for {
		m, b, err := wiretest.ReadMessage(p.Conn, buf)
		buf = b
		if err != nil {
			t.Fatalf("reading from the seeder: %v", err)
		}
		if m.ID == wire.Piece && !m.KeepAlive {
			t.Fatal("seeder sent data to a choked peer")
		}
		if m.ID == wire.Reject && !m.KeepAlive {
			if m.Index != 1 || m.Begin != 0 || m.Length != wire.BlockSize {
				t.Fatalf("reject for %d/%d/%d, want 1/0/%d", m.Index, m.Begin, m.Length, wire.BlockSize)
			}
			break
		}
	}
	if Status(t, seed, mi.InfoHash.String()).Peers != 1 {
		t.Error("seeder dropped a peer for a request while choked")
	}
}

func TestSilentPeerDoesNotStallDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("slow swarm test")
	}
	const size, pieceLen = 2 << 20, 32 << 10
	tr := trackertest.New(t)
	tr.SetInterval(time.Second, time.Second)
	dir := t.TempDir()
	root := Payload(t, filepath.Join(dir, "seed"), "payload.bin", 9, map[string]int{"": size})
	data, mi := MakeTorrent(t, root, pieceLen, tr.HTTPURL())
	hash := mi.InfoHash.String()

	// A fake seeder that claims every piece, unchokes, and then never
	// sends a byte more; it counts the block requests it swallows.
	var requests atomic.Int64
	fakeID := [20]byte([]byte("-XX0001-silent-peer1"))
	fake := StartFakePeer(t, mi.InfoHash, fakeID, func(nc net.Conn, _ wire.Handshake) {
		var b []byte
		b = (&wire.Message{ID: wire.HaveAll}).AppendTo(b)
		b = (&wire.Message{ID: wire.Unchoke}).AppendTo(b)
		nc.Write(b)
		nc.SetReadDeadline(time.Now().Add(2 * time.Minute))
		var buf []byte
		for {
			m, nb, err := wiretest.ReadMessage(nc, buf)
			if err != nil {
				return
			}
			buf = nb
			if m.ID == wire.Request && !m.KeepAlive {
				requests.Add(1)
			}
		}
	})
	AnnounceFake(t, tr.HTTPURL(), mi.InfoHash, fakeID, fake.Port)

	// The leecher first knows only the silent peer and sends it requests.
	leech := NewSession(t, filepath.Join(dir, "leech"))
	if _, err := leech.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "requests to the silent peer", func() bool { return requests.Load() > 0 })

	// Now a real seeder appears; the leecher must finish from it.
	start := time.Now()
	seed := NewSession(t, filepath.Join(dir, "seed"))
	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); err != nil {
		t.Fatal(err)
	}
	st := WaitState(t, leech, hash, 60*time.Second, session.StateSeeding, session.StateError)
	if st.State != session.StateSeeding {
		t.Fatalf("leecher ended in %s: %s", st.State, st.Error)
	}
	SameTree(t, filepath.Dir(root), filepath.Join(dir, "leech"))
	t.Logf("completed %v after the real seeder appeared; the silent peer swallowed %d requests", time.Since(start), requests.Load())
}

// TestSelfAndDuplicateConnectionsRefused checks that a connection carrying
// the session's own peer ID, or the peer ID of a peer already connected, is
// closed, and that adding the same torrent twice fails with ErrExists.
func TestSelfAndDuplicateConnectionsRefused(t *testing.T) {
	_, seed, data, mi, _, _ := seedOne(t, 256<<10, 32<<10)
	hash := mi.InfoHash.String()

	if _, err := seed.Add(context.Background(), session.AddRequest{Torrent: data}); !errors.Is(err, session.ErrExists) {
		t.Errorf("adding the .torrent twice: %v, want ErrExists", err)
	}
	if _, err := seed.Add(context.Background(), session.AddRequest{URI: mi.Magnet().String()}); !errors.Is(err, session.ErrExists) {
		t.Errorf("adding its magnet too: %v, want ErrExists", err)
	}
	if n := len(seed.List()); n != 1 {
		t.Errorf("session lists %d torrents, want 1", n)
	}

	self := DialRaw(t, seed.Port(), mi.InfoHash, seed.PeerID())
	if !self.WaitClosed(10 * time.Second) {
		t.Error("connection with our own peer ID stayed open")
	}

	id := [20]byte([]byte("-XX0001-duplicate-id"))
	first := DialRaw(t, seed.Port(), mi.InfoHash, id)
	first.Send(wire.Message{ID: wire.Interested})
	testutil.WaitFor(t, 10*time.Second, "the first peer to be connected", func() bool { return Status(t, seed, hash).Peers == 1 })
	second := DialRaw(t, seed.Port(), mi.InfoHash, id)
	if !second.WaitClosed(10 * time.Second) {
		t.Error("second connection with the same peer ID stayed open")
	}
	// The first one is unaffected.
	first.Conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := first.Conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
		t.Errorf("first connection broken by the duplicate: %v", err)
	}
	if n := Status(t, seed, hash).Peers; n != 1 {
		t.Errorf("seeder has %d peers, want 1", n)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
