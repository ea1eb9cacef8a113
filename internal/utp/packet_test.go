package utp

import (
	"bytes"
	"net"
	"testing"
	"time"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []header{
		{typ: stSyn, connID: 0xfffe, ts: 1, seq: 7, wnd: 1 << 20, maxPkt: announcedMaxPacket},
		{typ: stState, connID: 3, tsDiff: 99, ack: 0xffff, sack: []byte{0x81, 0, 0, 2}},
		{typ: stState, sack: []byte{1, 2, 3, 4, 5, 6, 7, 8}, maxPkt: 9000},
		{typ: stData, seq: 1},
	} {
		b := appendHeader(nil, &h)
		// libutp takes a packet for uTP only when its first extension is
		// below 3 (UTP_Version); Transmission drops the others.
		if b[1] >= 3 {
			t.Errorf("first extension %d: libutp would drop the packet", b[1])
		}
		if !isUTP(b) {
			t.Errorf("%x not recognised as uTP", b)
		}
		g, err := parseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		if g.typ != h.typ || g.connID != h.connID || g.ts != h.ts || g.tsDiff != h.tsDiff || g.wnd != h.wnd ||
			g.seq != h.seq || g.ack != h.ack || !bytes.Equal(g.sack, h.sack) || g.maxPkt != h.maxPkt || g.hdrSize != len(b) {
			t.Errorf("round trip: got %+v, want %+v", g, h)
		}
	}
}

func TestParseHeaderRejects(t *testing.T) {
	ok := appendHeader(nil, &header{typ: stData})
	for name, b := range map[string][]byte{
		"short":            ok[:19],
		"version 0":        append([]byte{0x00}, ok[1:]...),
		"type 5":           append([]byte{0x51}, ok[1:]...),
		"bencoded":         []byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"),
		"extension cut":    append(append([]byte{0x01, 1}, ok[2:]...), 0, 8, 1),
		"extension no len": append(append([]byte{0x01, 1}, ok[2:]...), 0),
	} {
		if _, err := parseHeader(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// TestKernelTimestamps: the kernel's receive time of a datagram is read,
// and it lies between its sending and its reading.
func TestKernelTimestamps(t *testing.T) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if !enableTimestamps(pc) {
		t.Skip("no kernel receive timestamps on this platform")
	}
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Linux turns receive timestamping on for the whole stack from a
	// deferred work item: datagrams in the first moments may carry the
	// time they are read. The socket's life is long; the test waits.
	time.Sleep(200 * time.Millisecond)
	sent := time.Now()
	if _, err := c.Write([]byte("d1:y1:qe")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the datagram waits: its timestamp does not
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var oob [64]byte
	_, oobn, _, _, err := pc.ReadMsgUDPAddrPort(make([]byte, 100), oob[:])
	if err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	at := parseTimestamp(oob[:oobn])
	if at.IsZero() || at.Before(sent.Add(-time.Millisecond)) || !at.Before(read.Add(-10*time.Millisecond)) {
		t.Fatalf("kernel timestamp %v; sent at %v, read at %v", at, sent, read)
	}
}

// TestParseHeaderSACKAnyLength: libtorrent sends selective ACKs of
// (packets buffered + 7) / 8 bytes, not a multiple of 4 as BEP 29 asks;
// they are read, not rejected.
func TestParseHeaderSACKAnyLength(t *testing.T) {
	base := appendHeader(nil, &header{typ: stState, ack: 7})
	for _, sack := range [][]byte{{0x05}, {0x01, 0x80, 0x03}, bytes.Repeat([]byte{0xff}, 41)} {
		b := append(append([]byte{base[0], extSACK}, base[2:]...), 0, byte(len(sack)))
		b = append(b, sack...)
		h, err := parseHeader(b)
		if err != nil {
			t.Errorf("selective ACK of %d bytes: %v", len(sack), err)
			continue
		}
		if !bytes.Equal(h.sack, sack) || h.ack != 7 || h.hdrSize != len(b) {
			t.Errorf("selective ACK of %d bytes read as %x, ack %d, header %d bytes", len(sack), h.sack, h.ack, h.hdrSize)
		}
	}
}
