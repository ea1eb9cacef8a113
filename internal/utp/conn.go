package utp

import (
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// Connection timing and limits.
const (
	// synTimeout is the first SYN retransmission timeout; it doubles.
	synTimeout  = time.Second
	maxSynTries = 4
	// minRTO is the lower bound of the retransmission timeout (BEP 29).
	minRTO = 500 * time.Millisecond
	// rtoMargin is the least the timeout lies above the smoothed round
	// trip (Linux TCP's 200 ms): a steady round trip has a variance near
	// zero, and then a queue growing by half a round trip (slow start, a
	// busy receiver) made a timeout of RTT + 4 × variance fire on packets
	// that were on their way.
	rtoMargin  = 200 * time.Millisecond
	maxRTO     = 60 * time.Second
	initialRTO = time.Second
	// maxTimeouts consecutive timeouts without progress fail the
	// connection.
	maxTimeouts = 8
	// keepalive is the idle time after which a STATE is sent (NAT
	// mappings expire after 30 s or more).
	keepalive = 29 * time.Second
	// zeroWindowProbe is how long a zero window is waited on before one
	// packet is sent anyway to learn the current window.
	zeroWindowProbe = time.Second
	// linger bounds how long a closed connection waits for its FIN to be
	// acknowledged.
	linger = 30 * time.Second
	// maxOutPackets bounds the unacknowledged packets (far below half
	// the 16-bit sequence space).
	maxOutPackets = 4096
	// maxAhead bounds how far ahead of ack_nr a packet is buffered (the
	// receive window bounds the bytes). The selective ACK covers only the
	// first 8*maxSACKBytes of them, but what lies beyond is acknowledged
	// with the rest when the hole is filled: dropping it would make the
	// sender send a whole window again after each loss on a long fat path.
	maxAhead = maxOutPackets
	// safePacket fits in any IPv4 or IPv6 path (IPv6's minimum MTU 1280
	// minus the IP and UDP headers).
	safePacket = 1232
	// maxPacket4 and maxPacket6 are the largest datagrams path-MTU
	// discovery probes for: what an Ethernet MTU of 1500 carries after
	// the IPv4 (20) or IPv6 (40) and UDP (8) headers.
	maxPacket4 = 1472
	maxPacket6 = 1452
	// mtuStep: the search for the path's largest datagram stops when
	// what is known to pass and what is known not to are this close.
	mtuStep = 16
	// probeFollow: a probe is sent only with data for this many packets
	// after it and a window that holds twice as many, so that its loss
	// is found by the selective ACKs of those, not by a timeout (which
	// would restart the window from one packet).
	probeFollow = 2 * dupAckLimit
	// loopbackPacket is the packet size on loopback to a peer that takes
	// large datagrams.
	loopbackPacket = 64000
	// dupAckLimit duplicate ACKs (or as many selectively acked packets
	// after a hole) declare the hole's packet lost.
	dupAckLimit = 3
)

const (
	stateSynSent = iota
	stateConnected
	stateDead
)

// Conn is a uTP connection. It implements net.Conn.
type Conn struct {
	s        *Socket
	key      connKey
	raddr    *net.UDPAddr
	recvID   uint16
	sendID   uint16
	outgoing bool
	state    int
	err      error // why the connection died (with stateDead)

	established chan struct{} // closed when connected or dead
	readable    chan struct{} // signalled when Read may progress
	writable    chan struct{} // signalled when Write may progress
	rdl, wdl    *deadline

	// timers
	due       time.Time
	heapIdx   int
	synAt     time.Time
	synSentAt time.Time
	synTries  int
	rtoAt     time.Time
	zwAt      time.Time
	lingerAt  time.Time
	lastSend  time.Time
	lastRecv  time.Time

	// send side
	synSeq     uint16
	seq        uint16 // next sequence number to send
	out        []*outPacket
	inflight   int       // bytes sent, not acked and not lost
	pend       byteQueue // written, not yet in a packet
	peerWnd    int
	peerMaxPkt int
	mss        int
	cc         *ledbat
	// Path-MTU discovery (datagram sizes): mtuFloor passes, mtuCeil
	// does not (or is one past the largest probed for); pmtu is false
	// where no probing is done (no control of the don't-fragment bit,
	// or large loopback packets). probing: a probe is in flight.
	pmtu              bool
	probing           bool
	mtuFloor, mtuCeil int
	rtt, rttVar       time.Duration
	haveRTT           bool
	rto               time.Duration
	timeouts          int
	dupAcks           int
	lastAckNr         uint16
	recovering        bool
	recoverSeq        uint16
	fastResend        bool // the loss that started recovery is sent again at once
	windowLoss        int  // packets lost since the recovery started
	windowPkts        int  // packets in flight when it started
	randomCut         bool // the recovery's cut took its loss for random loss
	// frto: after a first timeout only the oldest packet went again; the
	// next ACK tells whether the others arrived (a spurious timeout: the
	// window before it, frtoUndo, is put back) or not (all are sent
	// again), as TCP's F-RTO (RFC 5682).
	frto        bool
	frtoUndo    ledbatState
	forceOne    bool
	retransmits int
	sends       uint64 // packets sent (with retransmissions): their order
	closing     bool   // Close called: FIN after the pending data
	finSent     bool
	finAcked    bool
	finSeq      uint16

	// receive side
	ack       uint16 // last sequence number received in order
	rbuf      []byte
	roff      int
	ooo       map[uint16][]byte
	oooBytes  int
	gotFin    bool
	eofSeq    uint16
	eof       bool
	replyDiff uint32
	needAck   bool
}

type outPacket struct {
	seq     uint16
	typ     uint8
	payload []byte
	sentAt  time.Time
	sentN   uint64 // the connection's transmission count at its last sending
	tx      int    // transmissions
	acked   bool   // selectively acknowledged
	lost    bool   // to be sent again
	probe   bool   // a path-MTU probe: larger than the path is known to take
}

func (s *Socket) newConn(addr netip.AddrPort, recvID, sendID uint16, outgoing bool) *Conn {
	c := &Conn{
		s:           s,
		key:         connKey{addr, recvID},
		raddr:       net.UDPAddrFromAddrPort(addr),
		recvID:      recvID,
		sendID:      sendID,
		outgoing:    outgoing,
		established: make(chan struct{}),
		readable:    make(chan struct{}, 1),
		writable:    make(chan struct{}, 1),
		rdl:         newDeadline(),
		wdl:         newDeadline(),
		heapIdx:     -1,
		mss:         safePacket - headerSize,
		rto:         initialRTO,
		ooo:         make(map[uint16][]byte),
		mtuFloor:    safePacket,
		mtuCeil:     safePacket + 1,
	}
	if s.df != nil {
		c.pmtu = true
		c.mtuCeil = maxPacket4 + 1
		if !addr.Addr().Is4() {
			c.mtuCeil = maxPacket6 + 1
		}
	}
	c.cc = newLEDBAT(c.mss, 4*s.cfg.RecvBuffer)
	return c
}

// setPeerMaxPacket takes the peer's extMaxPacket: on loopback, packets
// grow up to it.
func (c *Conn) setPeerMaxPacket(n uint32) {
	c.peerMaxPkt = int(n)
	if n >= safePacket && c.key.addr.Addr().IsLoopback() {
		c.mss = min(int(n), loopbackPacket) - headerSize
		c.cc.setMSS(c.mss)
		c.pmtu = false
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// fail ends the connection with err (under s.mu).
func (c *Conn) fail(err error) {
	if c.state == stateDead {
		return
	}
	c.state = stateDead
	c.err = err
	c.s.remove(c)
	if !isClosed(c.established) {
		close(c.established)
	}
	for _, p := range c.out {
		putPayload(p.payload)
	}
	c.out, c.pend = nil, byteQueue{}
	signal(c.readable)
	signal(c.writable)
}

func (c *Conn) header(typ uint8) header {
	return header{
		typ:    typ,
		connID: c.sendID,
		ts:     c.s.nowMicro(),
		tsDiff: c.replyDiff,
		wnd:    uint32(c.window()),
		seq:    c.seq,
		ack:    c.ack,
	}
}

// window is the free receive buffer: the advertised wnd_size.
func (c *Conn) window() int {
	return max(c.s.cfg.RecvBuffer-(len(c.rbuf)-c.roff)-c.oooBytes, 0)
}

func (c *Conn) sendSyn() {
	h := c.header(stSyn)
	h.connID = c.recvID
	h.seq = c.synSeq
	h.ack = 0
	h.maxPkt = announcedMaxPacket
	c.s.write(&h, nil, c.key.addr)
	c.lastSend = time.Now()
}

// sendState sends an ACK with the selective ACK of what arrived out of
// order.
func (c *Conn) sendState() {
	c.needAck = false
	h := c.header(stState)
	if !c.outgoing && c.ack == c.synSeq {
		h.maxPkt = announcedMaxPacket // the answer to a SYN
	}
	var mask [longSACKBytes]byte
	if len(c.ooo) > 0 {
		span := 8 * maxSACKBytes
		if c.peerMaxPkt != 0 {
			span = 8 * longSACKBytes
		}
		last := -1
		mark := func(i int) {
			mask[i>>3] |= 1 << (i & 7)
			last = max(last, i)
		}
		if len(c.ooo) <= span {
			for s := range c.ooo {
				if i := int(s - c.ack - 2); i >= 0 && i < span {
					mark(i)
				}
			}
		} else { // more buffered than the mask covers: look up its range
			for i := range span {
				if _, ok := c.ooo[c.ack+2+uint16(i)]; ok {
					mark(i)
				}
			}
		}
		if last >= 0 {
			h.sack = mask[:(last/32+1)*4]
		}
	}
	c.s.write(&h, nil, c.key.addr)
	c.lastSend = time.Now()
}

func (c *Conn) sendPacket(p *outPacket, now time.Time) {
	h := c.header(p.typ)
	h.seq = p.seq
	mode := dfDefault
	if c.pmtu && headerSize+len(p.payload) > c.mtuFloor {
		// A probe goes with don't-fragment set; sent again (it was lost,
		// or the path narrowed), it may be fragmented: it cannot be
		// split, its sequence number holds those bytes.
		mode = dfFragment
		if p.probe && p.tx == 0 {
			mode = dfProbe
		}
	}
	if err := c.s.writeDF(&h, p.payload, c.key.addr, mode); err != nil && mode == dfProbe && isMsgSize(err) {
		c.probeLost(p) // wider than our own interface
		c.s.writeDF(&h, p.payload, c.key.addr, dfFragment)
	}
	p.sentAt = now
	c.sends++
	p.sentN = c.sends
	if p.tx > 0 {
		c.retransmits++
	}
	p.tx++
	p.lost = false
	c.inflight += len(p.payload)
	c.lastSend = now
	c.needAck = false // the packet carries our ack_nr
	if c.rtoAt.IsZero() {
		c.rtoAt = now.Add(c.rto)
	}
}

// receive handles one packet of this connection (under s.mu).
func (c *Conn) receive(h *header, payload []byte, now time.Time, at uint32) {
	if c.state == stateDead {
		return
	}
	c.lastRecv = now
	if h.ts != 0 {
		c.replyDiff = at - h.ts
	}
	if h.typ == stReset {
		c.fail(syscall.ECONNRESET)
		return
	}
	if c.state == stateSynSent {
		// The answer to the SYN is a STATE; if it was lost, the
		// acceptor's first DATA (acknowledging the SYN) serves.
		if h.typ != stState && h.typ != stData || h.ack != c.synSeq {
			return
		}
		c.state = stateConnected
		c.ack = h.seq - 1
		c.lastAckNr = h.ack
		c.setPeerMaxPacket(h.maxPkt)
		if c.synTries == 0 {
			c.rttSample(now.Sub(c.synSentAt))
		}
		c.synAt = time.Time{}
		close(c.established)
	}
	c.peerWnd = int(h.wnd)
	c.processAck(h, now)
	if h.typ == stData || h.typ == stFin {
		c.processData(h, payload)
	}
	if c.state == stateDead {
		return
	}
	c.flush(now)
	c.maybeDone(now)
	c.reschedule(now)
}

func (c *Conn) processAck(h *header, now time.Time) {
	if len(c.out) == 0 {
		c.lastAckNr = h.ack
		return
	}
	inflightBefore := c.inflight
	acked := 0
	first := c.out[0].seq
	n := 0
	if !seqLess(h.ack, first) && seqLess(h.ack, c.seq) {
		n = int(h.ack-first) + 1
	}
	var sample time.Duration
	origAcked := false // a packet sent once is acknowledged
	for _, p := range c.out[:n] {
		if p.probe {
			c.probeAcked(p)
		}
		if !p.acked {
			acked += len(p.payload)
			if !p.lost {
				c.inflight -= len(p.payload)
			}
			if p.tx == 1 {
				sample = now.Sub(p.sentAt)
				origAcked = true
			}
		}
		if p.typ == stFin {
			c.finAcked = true
		}
	}
	if n > 0 {
		for _, p := range c.out[:n] {
			putPayload(p.payload)
		}
		clear(c.out[:n])
		c.out = c.out[n:]
		if len(c.out) == 0 {
			c.out = nil
		}
	}
	if h.sack != nil && len(c.out) > 0 {
		base := h.ack + 2
		for i := 0; i < 8*len(h.sack); i++ {
			if h.sack[i>>3] == 0 {
				i |= 7 // a byte of nothing acknowledged
				continue
			}
			if !sackHas(h.sack, i) {
				continue
			}
			idx := int(base + uint16(i) - c.out[0].seq)
			if idx < 0 || idx >= len(c.out) {
				continue
			}
			if p := c.out[idx]; !p.acked {
				if p.probe {
					c.probeAcked(p)
				}
				p.acked = true
				acked += len(p.payload)
				if !p.lost {
					c.inflight -= len(p.payload)
				}
				if p.tx == 1 {
					sample = max(sample, now.Sub(p.sentAt))
					origAcked = true
				}
			}
		}
	}
	if c.frto && (n > 0 || acked > 0) {
		c.frto = false
		if origAcked {
			c.cc.restore(c.frtoUndo) // they were on their way
		} else {
			c.markAllLost()
		}
	}
	if n > 0 || acked > 0 {
		c.timeouts = 0
		c.dupAcks = 0
		if sample > 0 {
			c.rttSample(sample)
		}
		// The timer runs while anything is unacknowledged, a FIN (no
		// bytes in flight) included.
		c.rtoAt = time.Time{}
		if len(c.out) > 0 {
			c.rtoAt = now.Add(c.rto)
		}
		if h.tsDiff != 0 {
			c.cc.delaySample(h.tsDiff, now)
		}
		c.cc.onAck(acked, inflightBefore)
		signal(c.writable)
	} else if h.typ == stState && h.ack == c.lastAckNr && h.wnd > 0 && c.inflight > 0 {
		c.dupAcks++
	}
	c.lastAckNr = h.ack
	if c.recovering && !seqLess(h.ack, c.recoverSeq) {
		c.recovering = false
	}
	c.detectLoss(h.sack != nil)
}

// detectLoss marks packets lost: the first unacked one after dupAckLimit
// duplicate ACKs, and any with dupAckLimit selectively acked packets after
// it. The window shrinks once per window of data, and once more when what
// was taken for a random loss turns into a run of losses (burstLoss).
func (c *Conn) detectLoss(sacked bool) {
	if len(c.out) == 0 {
		return
	}
	n := 0
	lostOne := func(p *outPacket) {
		if p.acked || p.lost || p.tx == 0 {
			return
		}
		p.lost = true
		c.inflight -= len(p.payload)
		if p.probe && p.tx == 1 {
			c.probeLost(p) // the path's MTU, not congestion
			return
		}
		n++
	}
	if c.dupAcks == dupAckLimit {
		lostOne(c.out[0])
	}
	if sacked {
		// A packet is lost when dupAckLimit packets after it that were
		// sent after its last transmission have arrived: a retransmission
		// lost again, too, which would otherwise wait for a timeout (at
		// least minRTO: half a second where the round trip is 0.1 ms, as
		// toward libtorrent on loopback, whose socket buffer overflows
		// in runs). late holds the latest transmissions among the
		// acknowledged packets after i, latest first.
		var late [dupAckLimit]uint64
		for i := len(c.out) - 1; i >= 0; i-- {
			p := c.out[i]
			if p.acked {
				x := p.sentN
				for j := range late {
					if x > late[j] {
						late[j], x = x, late[j]
					}
				}
			} else if late[dupAckLimit-1] > p.sentN {
				lostOne(p)
			}
		}
	}
	if n == 0 {
		return
	}
	if !c.recovering {
		c.windowLoss, c.windowPkts = 0, len(c.out)
	}
	c.windowLoss += n
	run := c.windowLoss >= max(burstLoss, c.windowPkts/burstShare)
	switch {
	case !c.recovering:
		c.randomCut = c.cc.onLoss(run)
		c.recovering = true
		c.recoverSeq = c.seq
		c.fastResend = true
	case c.randomCut && run:
		c.cc.onLoss(true)
		c.randomCut = false
	}
}

func (c *Conn) rttSample(m time.Duration) {
	if !c.haveRTT {
		c.rtt, c.rttVar, c.haveRTT = m, m/2, true
	} else {
		d := c.rtt - m
		if d < 0 {
			d = -d
		}
		c.rttVar += (d - c.rttVar) / 4
		c.rtt += (m - c.rtt) / 8
	}
	c.rto = min(max(c.rtt+max(4*c.rttVar, rtoMargin), minRTO), maxRTO)
}

func (c *Conn) processData(h *header, payload []byte) {
	if h.typ == stFin && !c.gotFin {
		c.gotFin = true
		c.eofSeq = h.seq
	}
	c.needAck = true
	if len(c.s.acks) < 1<<16 {
		c.s.acks = append(c.s.acks, c)
	}
	if !seqLess(c.ack, h.seq) || c.eof {
		return // a duplicate
	}
	if c.gotFin && seqLess(c.eofSeq, h.seq) {
		return // beyond the end
	}
	if h.seq == c.ack+1 {
		if !c.store(payload) {
			return // no room: the peer sends it again
		}
		c.ack++
		for {
			p, ok := c.ooo[c.ack+1]
			if !ok {
				break
			}
			delete(c.ooo, c.ack+1)
			c.oooBytes -= len(p)
			c.store(p)
			c.ack++
		}
		if c.gotFin && c.ack == c.eofSeq {
			c.eof = true
		}
		signal(c.readable)
		return
	}
	if uint16(h.seq-c.ack) > maxAhead {
		return
	}
	if _, ok := c.ooo[h.seq]; ok || len(payload) > c.window() {
		return
	}
	c.ooo[h.seq] = append([]byte(nil), payload...)
	c.oooBytes += len(payload)
}

// store appends in-order payload to the receive buffer if it fits (data
// arriving after Close is dropped but acknowledged).
func (c *Conn) store(p []byte) bool {
	if c.closing {
		return true
	}
	if len(p) > c.window()+c.oooBytes {
		return false
	}
	if c.roff > 0 && len(c.rbuf)+len(p) > cap(c.rbuf) {
		n := copy(c.rbuf, c.rbuf[c.roff:])
		c.rbuf, c.roff = c.rbuf[:n], 0
	}
	c.rbuf = append(c.rbuf, p...)
	return true
}

// flush sends lost packets again and new data, as the windows allow.
func (c *Conn) flush(now time.Time) {
	if c.state != stateConnected {
		return
	}
	wnd := min(c.cc.window(), c.peerWnd)
	force := c.forceOne
	c.forceOne = false
	for _, p := range c.out {
		if !p.lost || p.acked {
			continue
		}
		// The first lost packet of a recovery goes at once (a fast
		// retransmit, as TCP's): the window was just cut below what is
		// in flight, and waiting for it to drain would hold the hole,
		// and the receiver's data behind it, for half a round trip more.
		if c.inflight > 0 && c.inflight+len(p.payload) > c.cc.window() && !c.fastResend {
			return
		}
		c.fastResend = false
		c.sendPacket(p, now)
	}
	for len(c.out) < maxOutPackets {
		if c.pend.len() == 0 {
			if c.closing && !c.finSent {
				p := &outPacket{seq: c.seq, typ: stFin}
				c.seq++
				c.finSent, c.finSeq = true, p.seq
				c.out = append(c.out, p)
				c.sendPacket(p, now)
			}
			break
		}
		size := min(c.pend.len(), c.mss)
		probe := false
		if ps := c.probeSize(); ps > 0 && c.pend.len() >= ps-headerSize+probeFollow*c.mss && c.cc.window() >= 2*probeFollow*c.mss {
			size, probe = ps-headerSize, true
		}
		if !force {
			if c.inflight+size > wnd && (c.inflight > 0 || c.peerWnd < size) {
				if c.inflight == 0 && c.zwAt.IsZero() {
					c.zwAt = now.Add(zeroWindowProbe)
				}
				break
			}
			if size < c.mss && c.inflight > 0 {
				break // Nagle: a small packet waits for the ACKs in flight
			}
		}
		force = false
		c.zwAt = time.Time{}
		p := &outPacket{seq: c.seq, typ: stData, payload: append(getPayload(size), c.pend.peek(size)...), probe: probe}
		c.probing = c.probing || probe
		c.seq++
		c.pend.pop(size)
		c.out = append(c.out, p)
		c.sendPacket(p, now)
		signal(c.writable)
	}
}

// markLost marks p, in flight, lost (to be sent again).
func (c *Conn) markLost(p *outPacket) {
	p.lost = true
	c.inflight -= len(p.payload)
	if p.probe && p.tx == 1 {
		c.probeLost(p)
	}
}

// markAllLost marks every packet in flight lost.
func (c *Conn) markAllLost() {
	for _, p := range c.out {
		if !p.acked && !p.lost {
			c.markLost(p)
		}
	}
}

// probeSize returns the size of the next path-MTU probe, or 0 when none
// is due: one probe at a time, on a connection that sends, first at the
// largest size (most paths take it), then halving the interval between
// what passed and what did not.
func (c *Conn) probeSize() int {
	if !c.pmtu || c.probing || c.state != stateConnected || c.mtuCeil-c.mtuFloor <= mtuStep {
		return 0
	}
	if c.mtuCeil == maxPacket4+1 || c.mtuCeil == maxPacket6+1 {
		return c.mtuCeil - 1
	}
	return (c.mtuFloor + c.mtuCeil) / 2
}

// probeAcked takes an acknowledged probe: its size passes the path.
func (c *Conn) probeAcked(p *outPacket) {
	p.probe = false
	c.probing = false
	if p.tx == 1 && headerSize+len(p.payload) > c.mtuFloor {
		c.mtuFloor = headerSize + len(p.payload)
		c.mtuCeil = max(c.mtuCeil, c.mtuFloor+1)
		c.setMTU()
	}
}

// probeLost takes a lost probe: its size does not pass. Its loss is not
// congestion.
func (c *Conn) probeLost(p *outPacket) {
	p.probe = false
	c.probing = false
	c.mtuCeil = max(min(c.mtuCeil, headerSize+len(p.payload)), c.mtuFloor+1)
}

// setMTU sizes new packets by mtuFloor.
func (c *Conn) setMTU() {
	c.mss = c.mtuFloor - headerSize
	c.cc.setMSS(c.mss)
}

// maybeDone forgets a closed connection whose FIN is acknowledged.
func (c *Conn) maybeDone(now time.Time) {
	if c.closing && c.finAcked && (c.eof || c.gotFin || now.After(c.lingerAt)) {
		c.fail(net.ErrClosed)
	}
}

// tick runs the connection's due timers.
func (c *Conn) tick(now time.Time) {
	switch c.state {
	case stateDead:
		return
	case stateSynSent:
		if now.Before(c.synAt) {
			return
		}
		c.synTries++
		if c.synTries >= maxSynTries {
			c.fail(errTimeout)
			return
		}
		c.sendSyn()
		c.synAt = now.Add(synTimeout << c.synTries)
		return
	}
	if c.closing && now.After(c.lingerAt) {
		c.fail(net.ErrClosed)
		return
	}
	if !c.rtoAt.IsZero() && !now.Before(c.rtoAt) {
		c.rtoAt = time.Time{}
		if len(c.out) > 0 {
			c.timeouts++
			if c.timeouts > maxTimeouts {
				c.fail(errTimeout)
				return
			}
			undo := c.cc.save()
			c.cc.onTimeout()
			if c.timeouts == 1 && !c.frto {
				// The oldest packet goes again, alone; the next ACK
				// tells whether the others were lost.
				c.frto, c.frtoUndo = true, undo
				for _, p := range c.out {
					if !p.acked && !p.lost {
						c.markLost(p)
						break
					}
				}
			} else {
				c.frto = false
				c.markAllLost()
			}
			if c.timeouts >= 2 && c.pmtu && c.mtuFloor > safePacket {
				// A black hole: the path may have narrowed below what
				// passed. Back to the safe size; what was probed may be
				// probed again.
				c.mtuCeil, c.mtuFloor = c.mtuFloor, safePacket
				c.setMTU()
			}
			c.recovering, c.recoverSeq, c.fastResend, c.randomCut = true, c.seq, c.frto, false
			c.rto = min(2*c.rto, maxRTO)
			c.flush(now)
			if c.rtoAt.IsZero() {
				c.rtoAt = now.Add(c.rto)
			}
		}
	}
	if !c.zwAt.IsZero() && !now.Before(c.zwAt) {
		c.zwAt = time.Time{}
		c.forceOne = true
		c.flush(now)
	}
	if now.Sub(c.lastSend) >= keepalive {
		c.sendState()
	}
}

// reschedule puts the connection's next timer on the socket's heap.
func (c *Conn) reschedule(now time.Time) {
	if c.state == stateDead {
		return
	}
	var due time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (due.IsZero() || t.Before(due)) {
			due = t
		}
	}
	if c.state == stateSynSent {
		earlier(c.synAt)
	} else {
		earlier(c.rtoAt)
		earlier(c.zwAt)
		earlier(c.lastSend.Add(keepalive))
		if c.closing {
			earlier(c.lingerAt)
		}
	}
	if due.IsZero() || !due.Equal(c.due) || c.heapIdx < 0 {
		c.s.schedule(c, due)
	}
}

var errTimeout = &net.OpError{Op: "utp", Net: "utp", Err: os.ErrDeadlineExceeded}

// Read reads data in order; it returns io.EOF after the peer's FIN.
func (c *Conn) Read(b []byte) (int, error) {
	s := c.s
	for {
		s.mu.Lock()
		if c.closing {
			s.mu.Unlock()
			return 0, net.ErrClosed
		}
		if avail := len(c.rbuf) - c.roff; avail > 0 {
			if len(b) == 0 {
				s.mu.Unlock()
				return 0, nil
			}
			before := c.window()
			n := copy(b, c.rbuf[c.roff:])
			c.roff += n
			if c.roff == len(c.rbuf) {
				c.rbuf, c.roff = c.rbuf[:0], 0
			}
			after := c.window()
			half := s.cfg.RecvBuffer / 2
			if c.state == stateConnected && (before < half && after >= half || before < 2*c.mss && after >= 2*c.mss) {
				c.sendState() // the window opened: tell the sender
			}
			s.mu.Unlock()
			return n, nil
		}
		if c.eof {
			s.mu.Unlock()
			return 0, io.EOF
		}
		if c.state == stateDead {
			err := c.err
			s.mu.Unlock()
			return 0, err
		}
		s.mu.Unlock()
		select {
		case <-c.readable:
		case <-c.rdl.wait():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// Write queues b for sending, blocking while the send buffer is full.
func (c *Conn) Write(b []byte) (int, error) {
	s := c.s
	total := 0
	for {
		select {
		case <-c.wdl.wait():
			return total, os.ErrDeadlineExceeded
		default:
		}
		s.mu.Lock()
		if c.closing {
			s.mu.Unlock()
			return total, net.ErrClosed
		}
		if c.state == stateDead {
			err := c.err
			s.mu.Unlock()
			return total, err
		}
		if n := c.pend.push(b, s.cfg.SendBuffer); n > 0 {
			b = b[n:]
			total += n
			now := time.Now()
			c.flush(now)
			c.reschedule(now)
		}
		s.mu.Unlock()
		if len(b) == 0 {
			return total, nil
		}
		select {
		case <-c.writable:
		case <-c.wdl.wait():
			return total, os.ErrDeadlineExceeded
		}
	}
}

// Close sends what is queued and a FIN; it does not wait. Read and Write
// return net.ErrClosed from now on.
func (c *Conn) Close() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closing {
		return net.ErrClosed
	}
	c.closing = true
	c.rbuf, c.roff = nil, 0
	clear(c.ooo)
	c.oooBytes = 0
	signal(c.readable)
	signal(c.writable)
	if c.state != stateConnected {
		c.fail(net.ErrClosed)
		return nil
	}
	now := time.Now()
	c.lingerAt = now.Add(linger)
	c.flush(now)
	c.reschedule(now)
	return nil
}

// LocalAddr returns the socket's address.
func (c *Conn) LocalAddr() net.Addr { return c.s.pc.LocalAddr() }

// RemoteAddr returns the peer's address, a *net.UDPAddr.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline sets the deadline of Read.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rdl.set(t); return nil }

// SetWriteDeadline sets the deadline of Write.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wdl.set(t); return nil }

var _ net.Conn = (*Conn)(nil)
var _ net.Listener = (*Socket)(nil)

// byteQueue is a FIFO of bytes in one reused buffer.
type byteQueue struct {
	buf []byte
	off int
}

func (q *byteQueue) len() int { return len(q.buf) - q.off }

// push appends as much of b as keeps the queue within limit bytes and
// returns how much.
func (q *byteQueue) push(b []byte, limit int) int {
	n := min(len(b), limit-q.len())
	if n <= 0 {
		return 0
	}
	if q.off > 0 && len(q.buf)+n > cap(q.buf) {
		m := copy(q.buf, q.buf[q.off:])
		q.buf, q.off = q.buf[:m], 0
	}
	q.buf = append(q.buf, b[:n]...)
	return n
}

func (q *byteQueue) peek(n int) []byte { return q.buf[q.off : q.off+n] }

func (q *byteQueue) pop(n int) {
	q.off += n
	if q.off == len(q.buf) {
		q.buf, q.off = q.buf[:0], 0
	}
}

// Packet payloads come from two pools: packets that fit an Ethernet MTU
// and large loopback packets.
var smallPayloads, largePayloads sync.Pool

func getPayload(size int) []byte {
	pool, c := &smallPayloads, maxPacket4
	if size > maxPacket4 {
		pool, c = &largePayloads, loopbackPacket
	}
	if bp, ok := pool.Get().(*[]byte); ok {
		return (*bp)[:0]
	}
	return make([]byte, 0, c)
}

func putPayload(b []byte) {
	switch cap(b) {
	case maxPacket4:
		smallPayloads.Put(&b)
	case loopbackPacket:
		largePayloads.Put(&b)
	}
}
