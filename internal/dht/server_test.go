package dht

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// rawClient is a plain UDP socket that speaks KRPC by hand.
type rawClient struct {
	t    *testing.T
	conn *net.UDPConn
	id   string
}

func newRawClient(t *testing.T) *rawClient {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, conn: c, id: strings.Repeat("c", 20)}
}

func (c *rawClient) addr() netip.AddrPort { return c.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send writes raw bytes to the server.
func (c *rawClient) send(to netip.AddrPort, b []byte) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDPAddrPort(b, to); err != nil {
		c.t.Fatal(err)
	}
}

// sendMsg encodes and sends m.
func (c *rawClient) sendMsg(to netip.AddrPort, m *Msg) {
	c.t.Helper()
	b, err := EncodeMsg(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(to, b)
}

// recv waits up to d for a message; nil on timeout.
func (c *rawClient) recv(d time.Duration) (*Msg, netip.AddrPort) {
	c.t.Helper()
	buf := make([]byte, 4096)
	c.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, netip.AddrPort{}
	}
	m, err := DecodeMsg(buf[:n])
	if err != nil {
		c.t.Fatalf("server sent an undecodable packet %q: %v", buf[:n], err)
	}
	return m, from
}

// recvReply waits up to d for a response or error, skipping the server's
// own queries; nil on timeout.
func (c *rawClient) recvReply(d time.Duration) *Msg {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		m, _ := c.recv(time.Until(deadline))
		if m == nil || m.Y != "q" {
			return m
		}
	}
}

// roundTrip sends a query and returns the reply with the same transaction
// ID, skipping the server's own queries (pings of unknown nodes).
func (c *rawClient) roundTrip(to netip.AddrPort, q *Msg) *Msg {
	c.t.Helper()
	c.sendMsg(to, q)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		m, _ := c.recv(time.Until(deadline))
		if m == nil {
			break
		}
		if m.Y == "q" {
			continue
		}
		if m.T != q.T {
			c.t.Fatalf("reply with transaction %q, want %q", m.T, q.T)
		}
		return m
	}
	c.t.Fatalf("no reply to %s", q.Q)
	return nil
}

func (c *rawClient) query(method string, a *Args) *Msg {
	if a.ID == "" {
		a.ID = c.id
	}
	return &Msg{T: "t" + method[:2], Y: "q", Q: method, A: a}
}

func TestServerAnswersQueries(t *testing.T) {
	s := newTestServer(t, Config{})
	c := newRawClient(t)
	srv := addrOf(s)
	ih := strings.Repeat("h", 20)
	self := s.ID()

	// ping
	r := c.roundTrip(srv, c.query("ping", &Args{}))
	if r.Y != "r" || r.R.ID != string(self[:]) {
		t.Fatalf("ping reply %+v", r)
	}
	if r.IP != string(appendCompactAddr(nil, c.addr())) {
		t.Fatalf("ping reply ip = %x, want the requester's compact address", r.IP)
	}

	// get_peers without peers: token, no values.
	r = c.roundTrip(srv, c.query("get_peers", &Args{InfoHash: ih}))
	if r.Y != "r" || r.R.Token == "" || len(r.R.Values) != 0 {
		t.Fatalf("get_peers reply %+v", r.R)
	}
	token := r.R.Token

	errTests := []struct {
		name string
		q    *Msg
		code int64
	}{
		{"find_node short target", c.query("find_node", &Args{Target: "short"}), ErrCodeProtocol},
		{"get_peers missing info_hash", c.query("get_peers", &Args{}), ErrCodeProtocol},
		{"announce bad token", c.query("announce_peer", &Args{InfoHash: ih, Port: 6881, Token: "xxxxxxxx"}), ErrCodeProtocol},
		{"announce no token", c.query("announce_peer", &Args{InfoHash: ih, Port: 6881}), ErrCodeProtocol},
		{"announce port 0", c.query("announce_peer", &Args{InfoHash: ih, Token: token}), ErrCodeProtocol},
		{"announce port too big", c.query("announce_peer", &Args{InfoHash: ih, Port: 70000, Token: token}), ErrCodeProtocol},
		{"unknown method", c.query("vote", &Args{}), ErrCodeMethod},
	}
	for _, tc := range errTests {
		r := c.roundTrip(srv, tc.q)
		if r.Y != "e" || r.E.Code != tc.code {
			t.Errorf("%s: reply %+v, want error %d", tc.name, r, tc.code)
		}
	}
	if s.Stats().PeersStored != 0 {
		t.Fatal("a rejected announce stored a peer")
	}

	// Malformed query (bencode fine, no node ID): 203 with its transaction.
	c.send(srv, []byte("d1:ad1:xi1ee1:q4:ping1:t2:zz1:y1:qe"))
	if m := c.recvReply(time.Second); m == nil || m.Y != "e" || m.E.Code != ErrCodeProtocol || m.T != "zz" {
		t.Fatalf("malformed query reply %+v", m)
	}
	// Garbage and oversized packets get no reply.
	c.send(srv, []byte("garbage"))
	c.send(srv, append([]byte("d1:t2:aa1:y1:q1:q4:ping1:ad2:id20:"+c.id+"1:x"), make([]byte, MaxPacketSize)...))
	if m := c.recvReply(300 * time.Millisecond); m != nil {
		t.Fatalf("reply to garbage: %+v", m)
	}

	// A good announce is stored and returned by get_peers.
	r = c.roundTrip(srv, c.query("announce_peer", &Args{InfoHash: ih, Port: 6881, Token: token}))
	if r.Y != "r" {
		t.Fatalf("announce reply %+v", r)
	}
	r = c.roundTrip(srv, c.query("announce_peer", &Args{InfoHash: ih, Port: 9, ImpliedPort: 1, Token: token}))
	if r.Y != "r" {
		t.Fatalf("implied_port announce reply %+v", r)
	}
	r = c.roundTrip(srv, c.query("get_peers", &Args{InfoHash: ih}))
	got := decodePeers(r.R.Values)
	want := map[netip.AddrPort]bool{netip.MustParseAddrPort("127.0.0.1:6881"): true, c.addr(): true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] {
		t.Fatalf("get_peers values = %v, want %v", got, want)
	}
	st := s.Stats()
	if st.AnnouncesStored != 2 || st.PeersStored != 2 || st.QueriesIn < 10 || st.ErrorsOut < 8 {
		t.Fatalf("stats %+v", st)
	}
}

func TestServerFindNodeReturnsClosest(t *testing.T) {
	s := newTestServer(t, Config{})
	others := make([]*Server, 5)
	for i := range others {
		others[i] = newTestServer(t, Config{})
		s.AddNode(addrOf(others[i]))
	}
	testutil.WaitFor(t, 5*time.Second, "every other node in the table", func() bool { return s.Stats().Nodes == len(others) })
	c := newRawClient(t)
	target := others[2].ID()
	r := c.roundTrip(addrOf(s), c.query("find_node", &Args{Target: string(target[:])}))
	nodes := decodeNodes(r.R.Nodes, compactNode4Len)
	if len(nodes) != len(others) || nodes[0].ID != target || nodes[0].Addr != addrOf(others[2]) {
		t.Fatalf("find_node nodes = %v, want %d with the target first", nodes, len(others))
	}
	if r.R.Nodes6 != "" {
		t.Fatal("nodes6 sent to an IPv4 requester that did not ask")
	}
}

func TestServerIgnoresResponseFromOtherAddress(t *testing.T) {
	s := newTestServer(t, Config{QueryTimeout: 300 * time.Millisecond})
	target, impostor := newRawClient(t), newRawClient(t)
	done := make(chan error, 1)
	go func() {
		_, err := s.Ping(context.Background(), target.addr())
		done <- err
	}()
	q, _ := target.recv(2 * time.Second)
	if q == nil || q.Q != "ping" {
		t.Fatalf("target got %+v", q)
	}
	impostor.sendMsg(addrOf(s), &Msg{T: q.T, Y: "r", R: &Return{ID: strings.Repeat("i", 20)}})
	if err := <-done; !errors.Is(err, ErrTimeout) {
		t.Fatalf("Ping with impostor reply = %v, want ErrTimeout", err)
	}
	if s.Stats().Nodes != 0 {
		t.Fatal("impostor added to the table")
	}

	// The real node answering works, and the node is added.
	go func() {
		_, err := s.Ping(context.Background(), target.addr())
		done <- err
	}()
	q, _ = target.recv(2 * time.Second)
	target.sendMsg(addrOf(s), &Msg{T: q.T, Y: "r", R: &Return{ID: target.id}})
	if err := <-done; err != nil {
		t.Fatalf("Ping = %v", err)
	}
	if n := s.Nodes(); len(n) != 1 || n[0].Addr != target.addr() {
		t.Fatalf("Nodes() = %v", n)
	}
	// A remote error is returned as *Error.
	go func() {
		_, err := s.Ping(context.Background(), target.addr())
		done <- err
	}()
	q, _ = target.recv(2 * time.Second)
	target.sendMsg(addrOf(s), errorMsg(q.T, ErrCodeServer, "busy"))
	var re *Error
	if err := <-done; !errors.As(err, &re) || re.Code != ErrCodeServer {
		t.Fatalf("Ping answered with error = %v", err)
	}
}

func TestServerRateLimit(t *testing.T) {
	s := newTestServer(t, Config{RateLimit: 2}) // burst 4
	c := newRawClient(t)
	for range 20 {
		c.sendMsg(addrOf(s), c.query("ping", &Args{}))
	}
	replies := 0
	for {
		m := c.recvReply(300 * time.Millisecond)
		if m == nil {
			break
		}
		if m.Y == "r" {
			replies++
		}
	}
	if replies < 4 || replies > 6 {
		t.Fatalf("%d replies to 20 pings with rate 2/s burst 4", replies)
	}
	if st := s.Stats(); st.DroppedRate < 14 {
		t.Fatalf("DroppedRate = %d", st.DroppedRate)
	}
}

func TestServerCloseKeepsConn(t *testing.T) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s, err := New(Config{Conn: conn})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close() // idempotent
	if _, err := conn.WriteTo([]byte("x"), conn.LocalAddr()); err != nil {
		t.Fatalf("socket unusable after Close: %v", err)
	}
	if _, err := s.GetPeers(context.Background(), [20]byte{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetPeers after Close = %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without Conn succeeded")
	}
}

func TestBootstrapNoNodes(t *testing.T) {
	s := newTestServer(t, Config{})
	ctx := context.Background()
	if err := s.Bootstrap(ctx); !errors.Is(err, ErrNoNodes) {
		t.Fatalf("Bootstrap without nodes = %v", err)
	}
	if _, err := s.GetPeers(ctx, [20]byte{1}); !errors.Is(err, ErrNoNodes) {
		t.Fatalf("GetPeers without nodes = %v", err)
	}
	// A bootstrap node that never answers.
	dead := newRawClient(t)
	s2 := newTestServer(t, Config{Bootstrap: []string{dead.addr().String(), "bad address"}, QueryTimeout: 100 * time.Millisecond})
	if err := s2.Bootstrap(ctx); !errors.Is(err, ErrNoNodes) {
		t.Fatalf("Bootstrap against a dead node = %v", err)
	}
}

func TestMaintenanceRefreshesAndRotates(t *testing.T) {
	s := newTestServer(t, Config{})
	peer := newTestServer(t, Config{})
	s.AddNode(addrOf(peer))
	testutil.WaitFor(t, 5*time.Second, "one node in the table", func() bool { return s.Stats().Nodes == 1 })
	// Far in the future: the node is questionable and gets pinged, the
	// bucket is stale and refreshed, the token secret rotates.
	tokBefore := s.tokens.make(netip.MustParseAddr("10.0.0.1"))
	before := peer.Stats().QueriesIn
	s.maintainOnce(context.Background(), time.Now().Add(RefreshInterval+time.Minute))
	testutil.WaitFor(t, 5*time.Second, "two more queries at the peer", func() bool { return peer.Stats().QueriesIn >= before+2 })
	if s.tokens.make(netip.MustParseAddr("10.0.0.1")) == tokBefore {
		t.Fatal("token secret not rotated")
	}
}
