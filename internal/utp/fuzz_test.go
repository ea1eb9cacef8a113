package utp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

func FuzzParseHeader(f *testing.F) {
	h := header{typ: stState, connID: 7, ts: 1, tsDiff: 2, wnd: 3, seq: 4, ack: 5, sack: []byte{1, 0, 0, 0}, maxPkt: 9000}
	f.Add(appendHeader(nil, &h))
	f.Add([]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"))
	f.Add(append(appendHeader(nil, &header{typ: stData}), "payload"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			return
		}
		if !isUTP(b) || h.hdrSize > len(b) {
			t.Fatalf("parsed %x: isUTP %v, header %d bytes", b, isUTP(b), h.hdrSize)
		}
		// What is encoded again parses to the same fields.
		e := appendHeader(nil, &h)
		h2, err := parseHeader(e)
		if err != nil {
			t.Fatalf("re-encoded header: %v", err)
		}
		if h2.typ != h.typ || h2.connID != h.connID || h2.seq != h.seq || h2.ack != h.ack ||
			h2.wnd != h.wnd || !bytes.Equal(h2.sack, h.sack) || h2.maxPkt != h.maxPkt {
			t.Fatalf("round trip %+v != %+v", h2, h)
		}
	})
}

// FuzzSocketReceive feeds packets to a socket with one connection in
// each direction; the connection ids of the input are pointed at them.
func FuzzSocketReceive(f *testing.F) {
	f.Add(appendHeader(nil, &header{typ: stData, seq: 1}), uint8(0))
	f.Add(appendHeader(nil, &header{typ: stState, ack: 3, sack: []byte{0xff, 0, 0, 1}}), uint8(1))
	f.Add(appendHeader(nil, &header{typ: stFin, seq: 2}), uint8(2))
	f.Add(appendHeader(nil, &header{typ: stSyn}), uint8(3))
	n := newMemNet(1)
	s := NewSocket(n.listen("10.0.0.2:2000"), Config{RecvBuffer: 64 << 10})
	defer s.Close()
	peer := netip.MustParseAddrPort("10.0.0.9:9")
	s.mu.Lock()
	in := s.newConn(peer, 101, 100, false)
	in.state, in.ack, in.seq = stateConnected, 0, 1000
	close(in.established)
	s.conns[in.key] = in
	out := s.newConn(peer, 200, 201, true)
	out.synSeq, out.seq = 50, 51
	s.conns[out.key] = out
	in.pend.push(make([]byte, 100<<10), 1<<20)
	in.flush(time.Now())
	s.mu.Unlock()
	f.Fuzz(func(t *testing.T, b []byte, target uint8) {
		if len(b) >= headerSize {
			b = bytes.Clone(b)
			switch target % 4 {
			case 0:
				b[2], b[3] = 0, 101
			case 1:
				b[2], b[3] = 0, 200
			}
		}
		bp := s.bufs.Get().(*[]byte)
		n := copy(*bp, b)
		s.mu.Lock()
		s.handle(packet{buf: bp, n: n, addr: peer})
		s.flushAcks()
		s.runTimers(time.Now())
		s.mu.Unlock()
	})
}
