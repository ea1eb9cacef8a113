package torrent

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/testutil"
	"github.com/gobit/gobit/internal/wire"
	"github.com/gobit/gobit/internal/wire/wiretest"
)

// fakeInfo returns a valid bencoded info dictionary of a single file with
// n pieces of 16 KiB (20 bytes of "pieces" each, so n sets its size).
func fakeInfo(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	pieces := make([]byte, 20*n)
	for i := range pieces {
		pieces[i] = byte(rng.Uint32())
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "d6:lengthi%de4:name8:data.bin12:piece lengthi16384e6:pieces%d:", n*16384, len(pieces))
	b.Write(pieces)
	b.WriteString("e")
	return b.Bytes()
}

// mdHarness is a magnet torrent (no info yet) whose peers are fakes
// driven by the test over loopback TCP.
type mdHarness struct {
	t    *testing.T
	tor  *Torrent
	info []byte
	ln   net.Listener
	n    int
	log  *lockedBuffer
}

func newMDHarness(t *testing.T, info []byte) *mdHarness {
	t.Helper()
	if _, err := metainfo.ParseInfo(info); err != nil {
		t.Fatalf("test info dictionary: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	logs := &lockedBuffer{}
	tor := New(Config{
		InfoHash: metainfo.Hash(sha1.Sum(info)),
		SaveDir:  t.TempDir(),
		PeerID:   [20]byte([]byte("-GB0001-metadatatest")),
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	t.Cleanup(func() {
		tor.Close(false)
		if t.Failed() {
			t.Logf("torrent log:\n%s", logs.String())
		}
	})
	return &mdHarness{t: t, tor: tor, info: info, ln: ln, log: logs}
}

// mdFake is a peer that claims a metadata size and answers ut_metadata
// requests with whatever its answer function returns.
type mdFake struct {
	name     string
	nc       net.Conn
	requests atomic.Int32
	closed   chan struct{}
}

// answerFunc returns the reply to a request for piece, or nil for none.
type answerFunc func(piece int) *wire.MetadataMessage

// honest answers from data, the true info dictionary.
func honest(data []byte) answerFunc {
	return func(piece int) *wire.MetadataMessage {
		lo := piece * wire.MetadataPieceSize
		if lo >= len(data) {
			return &wire.MetadataMessage{Type: wire.MetadataReject, Piece: piece}
		}
		hi := min(lo+wire.MetadataPieceSize, len(data))
		return &wire.MetadataMessage{Type: wire.MetadataData, Piece: piece, TotalSize: len(data), Data: data[lo:hi]}
	}
}

// garbage answers with pieces of a metadata of size bytes filled with b.
func garbage(size int, b byte) answerFunc {
	return honest(bytes.Repeat([]byte{b}, size))
}

// connect hands the torrent a new incoming connection from a fake peer
// that claims claim bytes of metadata.
func (h *mdHarness) connect(name string, claim int, answer answerFunc) *mdFake {
	h.t.Helper()
	h.n++
	c, err := net.Dial("tcp", h.ln.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := h.ln.Accept()
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	f := &mdFake{name: name, nc: c, closed: make(chan struct{})}
	var id [20]byte
	copy(id[:], fmt.Sprintf("-XX0001-fake%08d", h.n))
	hs := wire.Handshake{InfoHash: h.tor.hash, PeerID: id}
	hs.SetExtended()
	hs.SetFast()
	const ourMetadataID = 3
	eh := wire.ExtendedHandshake{M: map[string]int{wire.ExtMetadata: ourMetadataID}, V: name, MetadataSize: claim}
	payload, err := eh.Marshal()
	if err != nil {
		h.t.Fatal(err)
	}
	var mu sync.Mutex // serializes writes
	write := func(m wire.Message) {
		mu.Lock()
		defer mu.Unlock()
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		c.Write(m.AppendTo(nil))
	}
	write(wire.Message{ID: wire.Extended, ExtendedID: wire.ExtendedHandshakeID, Payload: payload})
	// Requests are counted as they arrive and answered in order by
	// another goroutine, so a slow answer does not hide later requests.
	pending := make(chan int, 1024)
	go func() {
		for piece := range pending {
			if resp := answer(piece); resp != nil {
				write(wire.Message{ID: wire.Extended, ExtendedID: extMetadataID, Payload: resp.Marshal()})
			}
		}
	}()
	go func() {
		defer close(f.closed)
		defer close(pending)
		var buf []byte
		for {
			m, nb, err := wiretest.ReadMessage(c, buf)
			if err != nil {
				return
			}
			buf = nb
			if m.KeepAlive || m.ID != wire.Extended || m.ExtendedID != ourMetadataID {
				continue
			}
			req, err := wire.ParseMetadataMessage(m.Payload)
			if err != nil || req.Type != wire.MetadataRequest {
				continue
			}
			f.requests.Add(1)
			select {
			case pending <- req.Piece:
			default: // more than a peer is ever asked at once: ignore
			}
		}
	}()
	h.tor.AddConn(s, hs)
	return f
}

// isClosed reports whether gobit closed the fake's connection, waiting
// up to wait for it.
func (f *mdFake) isClosed(wait time.Duration) bool {
	select {
	case <-f.closed:
		return true
	case <-time.After(wait):
		return false
	}
}

// waitRequested waits until the fake got at least n metadata requests.
func (f *mdFake) waitRequested(t *testing.T, n int32) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, fmt.Sprintf("%d metadata requests to %s", n, f.name), func() bool { return f.requests.Load() >= n })
}

// waitInfo waits for the torrent to have its info dictionary.
func (h *mdHarness) waitInfo(timeout time.Duration) {
	h.t.Helper()
	testutil.WaitForErr(h.t, timeout, "the metadata", func() (bool, error) {
		st := h.tor.Stats()
		if st.State == StateError {
			return false, fmt.Errorf("torrent failed: %s", st.Error)
		}
		return st.HaveInfo, nil
	})
	var got []byte
	h.do(func() { got = h.tor.infoBytes })
	if !bytes.Equal(got, h.info) {
		h.t.Fatal("installed metadata differs from the real info dictionary")
	}
}

// do runs fn on the torrent's loop.
func (h *mdHarness) do(fn func()) {
	h.t.Helper()
	if err := h.tor.do(fn); err != nil {
		h.t.Fatal(err)
	}
}

// tickAt runs the metadata tick as if the clock read now+d.
func (h *mdHarness) tickAt(d time.Duration) {
	h.t.Helper()
	h.do(func() { h.tor.metadataTick(time.Now().Add(d)) })
}

// candidates returns the number of metadata assemblies kept.
func (h *mdHarness) candidates() int {
	n := 0
	h.do(func() {
		if h.tor.md != nil {
			n = len(h.tor.md.cands)
		}
	})
	return n
}

func (h *mdHarness) peers() int {
	n := 0
	h.do(func() { n = len(h.tor.peers) })
	return n
}

// TestMetadataLiarWithOtherSize: a peer that claims a bigger size first
// and serves garbage of that size is banned; the honest peer, which
// claims the true size later, is never dropped and supplies the metadata.
func TestMetadataLiarWithOtherSize(t *testing.T) {
	info := fakeInfo(60, 1) // ~1.3 KB, one metadata piece
	for _, tc := range []struct {
		name   string
		answer answerFunc
	}{
		// Garbage of the claimed size: its own assembly fails the hash.
		{"garbage of its claim", garbage(len(info)+5000, 'x')},
		// The true data: total_size contradicts its own claim.
		{"true data against its claim", honest(info)},
		// Never answers: must not hold up the honest peer at all.
		{"silent", func(int) *wire.MetadataMessage { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newMDHarness(t, info)
			liar := h.connect("liar", len(info)+5000, tc.answer)
			liar.waitRequested(t, 1)
			good := h.connect("honest", len(info), honest(info))
			start := time.Now()
			h.waitInfo(10 * time.Second)
			t.Logf("metadata %v after the honest peer connected", time.Since(start).Round(time.Millisecond))
			if good.isClosed(100 * time.Millisecond) {
				t.Fatal("the honest peer was dropped")
			}
			if tc.name != "silent" && !liar.isClosed(5*time.Second) {
				t.Fatal("the lying peer was kept")
			}
		})
	}
}

// TestMetadataLiarBanned: a peer whose metadata fails the info hash cannot
// connect again.
func TestMetadataLiarBanned(t *testing.T) {
	info := fakeInfo(60, 2)
	h := newMDHarness(t, info)
	liar := h.connect("liar", len(info), garbage(len(info), 'y'))
	if !liar.isClosed(10 * time.Second) {
		t.Fatal("the peer that sent wrong metadata was kept")
	}
	var banned bool
	h.do(func() {
		la := liar.nc.LocalAddr().(*net.TCPAddr).AddrPort()
		banned = h.tor.banned[banKey(la)]
	})
	if !banned {
		t.Fatal("the lying peer's address was not banned")
	}
	good := h.connect("honest", len(info), honest(info))
	h.waitInfo(10 * time.Second)
	if good.isClosed(100 * time.Millisecond) {
		t.Fatal("the honest peer was dropped")
	}
}

// TestMetadataLiarSameSizeMixed: with a metadata of several pieces, a
// liar claiming the true size sends garbage for the pieces it is asked
// while the honest peer sends the rest; the mixed assembly fails, and the
// refetch from one peer at a time finds the liar. The honest peer is
// never dropped.
func TestMetadataLiarSameSizeMixed(t *testing.T) {
	info := fakeInfo(2000, 3) // ~40 KB: three metadata pieces
	if len(info) <= 2*wire.MetadataPieceSize {
		t.Fatalf("info is %d bytes, want three metadata pieces", len(info))
	}
	for round := range 4 { // the single source is picked in map order: try a few
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			h := newMDHarness(t, info)
			// The liar holds its answers until the honest peer has been
			// asked for the piece the liar was not, so both contribute.
			release := make(chan struct{})
			lie := garbage(len(info), 'z')
			liar := h.connect("liar", len(info), func(piece int) *wire.MetadataMessage {
				<-release
				return lie(piece)
			})
			liar.waitRequested(t, mdPerPeerRequests)
			good := h.connect("honest", len(info), honest(info))
			good.waitRequested(t, 1)
			close(release)
			h.waitInfo(10 * time.Second)
			if !strings.Contains(h.log.String(), "one peer at a time") {
				t.Fatal("the assembly was not mixed: the test tests nothing")
			}
			if good.isClosed(100 * time.Millisecond) {
				t.Fatal("the honest peer was dropped")
			}
			if n := liar.requests.Load(); n > 0 && !liar.isClosed(5*time.Second) {
				// The liar is kept only if the honest peer was picked first
				// and the metadata came before the liar answered again.
				t.Logf("the liar, asked %d times, is still connected", n)
			}
		})
	}
}

// TestMetadataLiarTimesOut: a peer that claims the true size and never
// answers holds its piece only until mdRequestTimeout; it is then not
// asked again, and the honest peer supplies the metadata.
func TestMetadataLiarTimesOut(t *testing.T) {
	info := fakeInfo(60, 4)
	h := newMDHarness(t, info)
	silent := h.connect("silent", len(info), func(int) *wire.MetadataMessage { return nil })
	silent.waitRequested(t, 1)
	good := h.connect("honest", len(info), honest(info))
	// The honest peer waits while the silent one holds the only piece... (a
	// sleep: nothing signals a request not sent)
	time.Sleep(200 * time.Millisecond)
	if h.tor.Stats().HaveInfo {
		t.Fatal("metadata arrived although its only piece was requested from the silent peer")
	}
	// ...until the request times out.
	h.tickAt(mdRequestTimeout + time.Second)
	h.waitInfo(10 * time.Second)
	if got := silent.requests.Load(); got != 1 {
		t.Errorf("the silent peer was asked %d times, want 1", got)
	}
	if good.isClosed(100*time.Millisecond) || silent.isClosed(0) {
		t.Fatal("a peer was dropped for being slow")
	}
}

// TestMetadataRejectHandsOver: a peer that rejects the request gives its
// piece to the next peer at once, without waiting for a timeout.
func TestMetadataRejectHandsOver(t *testing.T) {
	info := fakeInfo(60, 5)
	h := newMDHarness(t, info)
	rejecter := h.connect("rejecter", len(info), func(piece int) *wire.MetadataMessage {
		return &wire.MetadataMessage{Type: wire.MetadataReject, Piece: piece}
	})
	rejecter.waitRequested(t, 1)
	time.Sleep(100 * time.Millisecond) // let the reject arrive first
	h.connect("honest", len(info), honest(info))
	h.waitInfo(5 * time.Second)
}

// TestMetadataCandidatesBounded: peers claiming many different sizes and
// never answering keep at most mdMaxCandidates assemblies; an honest peer
// claiming a smaller size than theirs takes the place of the largest, and
// one claiming a larger size gets a place when their requests time out.
func TestMetadataCandidatesBounded(t *testing.T) {
	info := fakeInfo(60, 6)
	silent := func(int) *wire.MetadataMessage { return nil }
	t.Run("larger claims", func(t *testing.T) {
		h := newMDHarness(t, info)
		// Each claims less than the one before, so it takes the place
		// of the largest once the slots are full.
		for i := range mdMaxCandidates + 3 {
			f := h.connect(fmt.Sprint("big", i), 200_000-i*wire.MetadataPieceSize, silent)
			f.waitRequested(t, 1)
		}
		if n := h.candidates(); n != mdMaxCandidates {
			t.Fatalf("%d candidate sizes kept, want %d", n, mdMaxCandidates)
		}
		h.connect("honest", len(info), honest(info))
		h.waitInfo(10 * time.Second)
	})
	t.Run("smaller claims", func(t *testing.T) {
		h := newMDHarness(t, info)
		var fakes []*mdFake
		for i := range mdMaxCandidates {
			f := h.connect(fmt.Sprint("small", i), 100+i, silent)
			f.waitRequested(t, 1)
			fakes = append(fakes, f)
		}
		good := h.connect("honest", len(info), honest(info))
		testutil.WaitFor(t, 10*time.Second, "the honest peer to be adopted", func() bool { return h.peers() >= len(fakes)+1 })
		// A sleep: nothing signals a candidate not added or a request not
		// sent to the honest peer.
		time.Sleep(200 * time.Millisecond)
		if n := h.candidates(); n > mdMaxCandidates {
			t.Fatalf("%d candidate sizes kept, more than %d", n, mdMaxCandidates)
		}
		if h.tor.Stats().HaveInfo {
			t.Fatal("metadata arrived although every candidate slot was taken")
		}
		h.tickAt(mdRequestTimeout + time.Second)
		h.waitInfo(10 * time.Second)
		if good.isClosed(100 * time.Millisecond) {
			t.Fatal("the honest peer was dropped")
		}
	})
}
