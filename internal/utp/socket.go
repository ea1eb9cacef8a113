package utp

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultBacklog    = 64
	DefaultMaxConns   = 2048
	DefaultRecvBuffer = 4 << 20
	DefaultSendBuffer = 1 << 20
	DefaultOtherQueue = 512
)

const (
	// maxDatagram is the largest datagram read (and the largest gobit
	// announces it accepts, minus room for IP options).
	maxDatagram = 65536
	// announcedMaxPacket is what gobit sends in extMaxPacket.
	announcedMaxPacket = 65000
	// resetRate and resetBurst bound the RESETs sent for packets of
	// unknown connections (a token bucket per socket).
	resetRate  = 20
	resetBurst = 20
	// socketBuffer is the UDP socket's buffer size asked for.
	socketBuffer = 4 << 20
)

// Config tunes a Socket. Zero fields take the defaults.
type Config struct {
	// Backlog bounds connections received but not yet accepted; SYNs
	// beyond it are dropped (the peer retries).
	Backlog int
	// MaxConns bounds the socket's connections.
	MaxConns int
	// RecvBuffer and SendBuffer bound each connection's buffers (bytes);
	// the receive buffer's free space is the advertised window.
	RecvBuffer, SendBuffer int
	// OtherQueue bounds the non-uTP datagrams waiting for Other's reader;
	// beyond it they are dropped.
	OtherQueue int
}

// Socket multiplexes uTP connections over one net.PacketConn, and hands
// every datagram that is not uTP (a DHT message) to the PacketConn
// returned by Other. It implements net.Listener for incoming connections.
//
// Two goroutines serve a Socket: the reader, which handles each packet as
// it arrives, and the event loop, which runs the connections' timers (one
// heap). Both, and the connections' Read and Write, take one mutex.
type Socket struct {
	pc  net.PacketConn
	udp *net.UDPConn // pc when it is one (no allocation per datagram)
	ap  addrPortConn // pc when it reads and writes netip.AddrPorts
	// stamps is set when the kernel timestamps received datagrams
	// (SO_TIMESTAMPNS); oob receives them.
	stamps bool
	oob    [64]byte
	// df switches the don't-fragment bit for path-MTU probes (nil: no
	// path-MTU discovery, packets of safePacket bytes).
	df    dfControl
	cfg   Config
	epoch time.Time

	mu      sync.Mutex
	conns   map[connKey]*Conn
	timers  timerHeap
	acks    []*Conn // connections owing an ACK after the current batch
	scratch []byte
	resetTk float64
	resetAt time.Time
	closed  bool

	acceptC chan *Conn
	wakeC   chan struct{}
	closeC  chan struct{}
	other   *otherConn
	bufs    sync.Pool
	wg      sync.WaitGroup
	closeMu sync.Once
}

// addrPortConn is a PacketConn that reads and writes netip.AddrPort
// addresses, without allocating one per datagram: a *net.UDPConn, or a
// proxy's UDP association.
type addrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// bufferedConn is a PacketConn whose socket buffers can be sized: a
// *net.UDPConn, or a proxy's UDP association.
type bufferedConn interface {
	SetReadBuffer(bytes int) error
	SetWriteBuffer(bytes int) error
}

type connKey struct {
	addr netip.AddrPort
	id   uint16 // our receive connection id
}

type packet struct {
	buf  *[]byte
	n    int
	addr netip.AddrPort
	at   uint32 // arrival time on the socket's microsecond clock
}

// NewSocket serves uTP on pc, which the Socket owns from now on (Close
// closes it).
func NewSocket(pc net.PacketConn, cfg Config) *Socket {
	if cfg.Backlog <= 0 {
		cfg.Backlog = DefaultBacklog
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.RecvBuffer <= 0 {
		cfg.RecvBuffer = DefaultRecvBuffer
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = DefaultSendBuffer
	}
	if cfg.OtherQueue <= 0 {
		cfg.OtherQueue = DefaultOtherQueue
	}
	s := &Socket{
		pc:      pc,
		cfg:     cfg,
		epoch:   time.Now(),
		conns:   make(map[connKey]*Conn),
		acceptC: make(chan *Conn, cfg.Backlog),
		wakeC:   make(chan struct{}, 1),
		closeC:  make(chan struct{}),
		resetTk: resetBurst,
	}
	s.udp, _ = pc.(*net.UDPConn)
	s.ap, _ = pc.(addrPortConn)
	if b, ok := pc.(bufferedConn); ok {
		// Room for bursts of large loopback packets; the kernel caps
		// this at net.core.rmem_max / wmem_max.
		b.SetReadBuffer(socketBuffer)
		b.SetWriteBuffer(socketBuffer)
	}
	if s.udp != nil {
		s.stamps = enableTimestamps(s.udp)
		s.df = newDFControl(s.udp)
	}
	s.bufs.New = func() any { b := make([]byte, maxDatagram); return &b }
	s.other = &otherConn{s: s, q: make(chan datagram, cfg.OtherQueue), rdl: newDeadline(), closeC: make(chan struct{})}
	s.wg.Add(2)
	go s.readLoop()
	go s.loop()
	return s
}

// Listen opens a UDP socket on addr ("host:port") and serves uTP on it.
func Listen(network, addr string, cfg Config) (*Socket, error) {
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		return nil, err
	}
	return NewSocket(pc, cfg), nil
}

// Other returns the PacketConn that reads the datagrams that are not uTP
// and writes through the socket: the DHT's. Closing it leaves the Socket
// open.
func (s *Socket) Other() net.PacketConn { return s.other }

// Addr returns the local address.
func (s *Socket) Addr() net.Addr { return s.pc.LocalAddr() }

// Accept waits for an incoming connection.
func (s *Socket) Accept() (net.Conn, error) {
	return s.AcceptContext(context.Background())
}

// AcceptContext waits for an incoming connection until ctx is done.
func (s *Socket) AcceptContext(ctx context.Context) (*Conn, error) {
	select {
	case c := <-s.acceptC:
		return c, nil
	case <-s.closeC:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close closes every connection and the PacketConn.
func (s *Socket) Close() error {
	var err error
	s.closeMu.Do(func() {
		s.mu.Lock()
		s.closed = true
		for _, c := range s.conns {
			c.fail(net.ErrClosed)
		}
		s.mu.Unlock()
		close(s.closeC)
		err = s.pc.Close()
		s.wg.Wait()
		s.other.Close()
	})
	return err
}

// Abort fails every connection with err (their reads and writes return
// it) and leaves the socket open for new ones: the path under them is
// gone (a proxy's UDP association ended, so peers would see a new
// address).
func (s *Socket) Abort(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.fail(err)
	}
}

func (s *Socket) nowMicro() uint32 { return uint32(time.Since(s.epoch).Microseconds()) }

// microAt converts the kernel's receive time of a packet (wall clock) to
// the socket's microsecond clock: the delay a packet waited for the
// reader goroutine (a busy machine) is then not taken for queuing on the
// path, in the timestamp differences sent to the peer. Without a kernel
// time it is now.
func (s *Socket) microAt(arrived time.Time) uint32 {
	now := s.nowMicro()
	if arrived.IsZero() {
		return now
	}
	lag := time.Since(arrived)
	if lag < 0 || lag > time.Second {
		return now // a clock step: do not trust it
	}
	return now - uint32(lag.Microseconds())
}

func (s *Socket) readLoop() {
	defer s.wg.Done()
	br := newBatchReader(s)
	if br != nil {
		defer br.close()
	}
	pkts := make([]packet, max(batchSize, 1))
	for {
		var n int
		var err error
		if br != nil {
			n, err = br.read(pkts)
		} else {
			n, err = s.readOne(pkts)
		}
		if err != nil {
			select {
			case <-s.closeC:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			select { // a persistent error must not spin
			case <-s.closeC:
				return
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		s.dispatch(pkts[:n])
	}
}

// readOne reads one datagram into pkts[0] (n is 0 for one to skip).
func (s *Socket) readOne(pkts []packet) (int, error) {
	bp := s.bufs.Get().(*[]byte)
	b := *bp
	var n int
	var addr netip.AddrPort
	var err error
	var arrived time.Time // the kernel's receive time, when known
	if s.udp != nil {
		if s.stamps {
			var oobn int
			n, oobn, _, addr, err = s.udp.ReadMsgUDPAddrPort(b, s.oob[:])
			arrived = parseTimestamp(s.oob[:oobn])
		} else {
			n, addr, err = s.udp.ReadFromUDPAddrPort(b)
		}
	} else if s.ap != nil {
		n, addr, err = s.ap.ReadFromUDPAddrPort(b)
	} else {
		var a net.Addr
		n, a, err = s.pc.ReadFrom(b)
		if ua, ok := a.(*net.UDPAddr); ok {
			addr = ua.AddrPort()
		}
	}
	if err != nil || !addr.IsValid() {
		s.bufs.Put(bp)
		return 0, err
	}
	pkts[0] = packet{buf: bp, n: n, addr: addr, at: s.microAt(arrived)}
	return 1, nil
}

// dispatch hands the datagrams that are not uTP to Other's queue and
// handles the uTP packets, all under one lock: the connections owing an
// ACK send one for the whole batch.
func (s *Socket) dispatch(pkts []packet) {
	locked := false
	for i := range pkts {
		p := pkts[i]
		pkts[i] = packet{}
		p.addr = netip.AddrPortFrom(p.addr.Addr().Unmap(), p.addr.Port())
		if b := (*p.buf)[:p.n]; !isUTP(b) {
			s.other.push(b, p.addr)
			s.bufs.Put(p.buf)
			continue
		}
		// Handled here, without a hand-over to the loop: one goroutine
		// switch less per packet.
		if !locked {
			s.mu.Lock()
			locked = true
		}
		s.handle(p)
	}
	if locked {
		s.flushAcks()
		s.mu.Unlock()
	}
}

// loop is the socket's event loop for the connections' timers (one
// heap); packets are handled by readLoop as they arrive.
func (s *Socket) loop() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			s.mu.Lock()
			s.runTimers(time.Now())
			s.mu.Unlock()
		case <-s.wakeC:
		case <-s.closeC:
			return
		}
		s.mu.Lock()
		d := time.Hour
		if len(s.timers) > 0 {
			d = max(time.Until(s.timers[0].due), 0)
		}
		s.mu.Unlock()
		timer.Reset(d)
	}
}

func (s *Socket) handle(p packet) {
	b := (*p.buf)[:p.n]
	defer s.bufs.Put(p.buf)
	if s.closed {
		return
	}
	h, err := parseHeader(b)
	if err != nil {
		return
	}
	now := time.Now()
	if h.typ == stSyn {
		s.handleSyn(&h, p.addr, now, p.at)
		return
	}
	c := s.conns[connKey{p.addr, h.connID}]
	if c == nil && h.typ == stReset {
		// The id may be the sender's send id (ours plus or minus one).
		for _, id := range []uint16{h.connID + 1, h.connID - 1} {
			if cc := s.conns[connKey{p.addr, id}]; cc != nil && cc.sendID == h.connID {
				c = cc
			}
		}
	}
	if c == nil {
		if h.typ != stReset {
			s.sendReset(p.addr, h.connID, h.seq, now)
		}
		return
	}
	c.receive(&h, b[h.hdrSize:], now, p.at)
}

func (s *Socket) handleSyn(h *header, addr netip.AddrPort, now time.Time, at uint32) {
	key := connKey{addr, h.connID + 1}
	if c := s.conns[key]; c != nil {
		if !c.outgoing && c.sendID == h.connID {
			c.replyDiff = at - h.ts
			c.sendState() // our STATE was lost: the peer retries its SYN
		}
		return
	}
	if len(s.conns) >= s.cfg.MaxConns || len(s.acceptC) >= cap(s.acceptC) {
		return // full: the peer retries or gives up
	}
	c := s.newConn(addr, h.connID+1, h.connID, false)
	c.ack = h.seq
	c.synSeq = h.seq // while ack_nr is still this, STATEs carry extMaxPacket
	c.seq = uint16(rand.Uint32())
	c.state = stateConnected
	c.peerWnd = int(h.wnd)
	c.setPeerMaxPacket(h.maxPkt)
	c.replyDiff = at - h.ts
	c.lastRecv = now
	close(c.established)
	s.conns[key] = c
	c.sendState()
	c.reschedule(now)
	s.acceptC <- c // room checked above, under s.mu
}

// sendReset answers a packet of an unknown connection, within the rate.
func (s *Socket) sendReset(addr netip.AddrPort, id, seq uint16, now time.Time) {
	s.resetTk = min(s.resetTk+now.Sub(s.resetAt).Seconds()*resetRate, resetBurst)
	s.resetAt = now
	if s.resetTk < 1 {
		return
	}
	s.resetTk--
	h := header{typ: stReset, connID: id, ts: s.nowMicro(), ack: seq, seq: uint16(rand.Uint32())}
	s.write(&h, nil, addr)
}

// write sends one packet; errors are those of UDP (the packet is lost).
func (s *Socket) write(h *header, payload []byte, addr netip.AddrPort) {
	s.writeDF(h, payload, addr, dfDefault)
}

// writeDF sends one packet with the don't-fragment mode m (s.df is set
// when m is not dfDefault) and returns the error of the send.
func (s *Socket) writeDF(h *header, payload []byte, addr netip.AddrPort, m dfMode) error {
	b := appendHeader(s.scratch[:0], h)
	b = append(b, payload...)
	s.scratch = b[:0]
	if m != dfDefault {
		if err := s.df.set(m); err != nil {
			return err
		}
		defer s.df.set(dfDefault)
	}
	if s.ap != nil {
		_, err := s.ap.WriteToUDPAddrPort(b, addr)
		return err
	}
	_, err := s.pc.WriteTo(b, net.UDPAddrFromAddrPort(addr))
	return err
}

func (s *Socket) flushAcks() {
	for _, c := range s.acks {
		if c.needAck {
			c.sendState()
		}
	}
	clear(s.acks)
	s.acks = s.acks[:0]
}

// Dial opens a uTP connection to addr; ctx bounds the wait for the
// peer's answer.
func (s *Socket) Dial(ctx context.Context, addr netip.AddrPort) (*Conn, error) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, net.ErrClosed
	}
	if len(s.conns) >= s.cfg.MaxConns {
		s.mu.Unlock()
		return nil, errors.New("utp: too many connections")
	}
	var id uint16
	for {
		id = uint16(rand.Uint32())
		if s.conns[connKey{addr, id}] == nil && s.conns[connKey{addr, id + 1}] == nil {
			break
		}
	}
	c := s.newConn(addr, id, id+1, true)
	c.seq = uint16(rand.Uint32())
	c.synSeq = c.seq
	c.seq++
	s.conns[connKey{addr, id}] = c
	now := time.Now()
	c.synSentAt = now
	c.synAt = now.Add(synTimeout)
	c.sendSyn()
	c.reschedule(now)
	s.mu.Unlock()
	select {
	case <-c.established:
		s.mu.Lock()
		err := c.err
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		s.mu.Lock()
		c.fail(ctx.Err())
		s.mu.Unlock()
		return nil, ctx.Err()
	case <-s.closeC:
		return nil, net.ErrClosed
	}
}

// remove forgets c (under s.mu).
func (s *Socket) remove(c *Conn) {
	if s.conns[c.key] == c {
		delete(s.conns, c.key)
	}
	if c.heapIdx >= 0 {
		heap.Remove(&s.timers, c.heapIdx)
	}
}

// schedule sets c's next timer (zero: none), waking the loop when it is
// earlier than what the loop waits for.
func (s *Socket) schedule(c *Conn, due time.Time) {
	switch {
	case due.IsZero():
		if c.heapIdx >= 0 {
			heap.Remove(&s.timers, c.heapIdx)
		}
		return
	case c.heapIdx >= 0:
		c.due = due
		heap.Fix(&s.timers, c.heapIdx)
	default:
		c.due = due
		heap.Push(&s.timers, c)
	}
	if s.timers[0] == c {
		select {
		case s.wakeC <- struct{}{}:
		default:
		}
	}
}

func (s *Socket) runTimers(now time.Time) {
	for len(s.timers) > 0 && !s.timers[0].due.After(now) {
		c := s.timers[0]
		heap.Pop(&s.timers)
		c.tick(now)
		if s.conns[c.key] == c && c.heapIdx < 0 {
			c.reschedule(now)
		}
	}
}

// timerHeap orders connections by their next timer.
type timerHeap []*Conn

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *timerHeap) Push(x any) {
	c := x.(*Conn)
	c.heapIdx = len(*h)
	*h = append(*h, c)
}
func (h *timerHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.heapIdx = -1
	return c
}

// datagram is a non-uTP packet waiting for Other's reader.
type datagram struct {
	b    []byte
	addr netip.AddrPort
}

// otherConn is the PacketConn of the datagrams that are not uTP.
type otherConn struct {
	s      *Socket
	q      chan datagram
	rdl    *deadline
	once   sync.Once
	closeC chan struct{}
}

func (o *otherConn) push(b []byte, addr netip.AddrPort) {
	select {
	case o.q <- datagram{append([]byte(nil), b...), addr}:
	default: // full: dropped, as a full socket buffer would
	}
}

// ReadFrom returns the next datagram that is not uTP.
func (o *otherConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case <-o.closeC:
		return 0, nil, net.ErrClosed
	case <-o.rdl.wait():
		return 0, nil, os.ErrDeadlineExceeded
	default:
	}
	select {
	case d := <-o.q:
		return copy(b, d.b), net.UDPAddrFromAddrPort(d.addr), nil
	case <-o.closeC:
		return 0, nil, net.ErrClosed
	case <-o.rdl.wait():
		return 0, nil, os.ErrDeadlineExceeded
	}
}

// WriteTo sends b through the socket.
func (o *otherConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-o.closeC:
		return 0, net.ErrClosed
	default:
	}
	return o.s.pc.WriteTo(b, addr)
}

// Close stops ReadFrom; the Socket stays open.
func (o *otherConn) Close() error {
	o.once.Do(func() { close(o.closeC) })
	return nil
}

func (o *otherConn) LocalAddr() net.Addr                { return o.s.pc.LocalAddr() }
func (o *otherConn) SetDeadline(t time.Time) error      { return o.SetReadDeadline(t) }
func (o *otherConn) SetReadDeadline(t time.Time) error  { o.rdl.set(t); return nil }
func (o *otherConn) SetWriteDeadline(t time.Time) error { return nil }
