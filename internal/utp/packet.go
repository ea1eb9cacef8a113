package utp

import (
	"encoding/binary"
	"errors"
)

// Packet types (BEP 29).
const (
	stData  = 0 // a packet with payload
	stFin   = 1 // the last packet of a direction
	stState = 2 // an acknowledgement without payload
	stReset = 3 // the connection is gone
	stSyn   = 4 // opens a connection
)

const (
	version    = 1
	headerSize = 20
	// extSACK is the selective acknowledgement extension (BEP 29).
	extSACK = 1
	// extBits is libutp's extension-bits extension (8 bytes); gobit sends
	// it all zero, only to carry extMaxPacket after it.
	extBits = 2
	// extMaxPacket is gobit's own extension: its 4-byte payload is the
	// largest datagram the sender accepts. Other implementations skip
	// unknown extensions after the first; gobit sends bigger packets only
	// to a peer that announced it takes them (and only on loopback).
	extMaxPacket = 0x47
	// maxSACKBytes bounds the selective ACK bitmask gobit sends to
	// other implementations: 32 bytes cover 256 packets after ack_nr+1
	// (libtorrent's limit too).
	maxSACKBytes = 32
	// longSACKBytes bounds the bitmask gobit sends to a peer that
	// announced extMaxPacket (gobit): 252 bytes, the largest multiple of
	// 4 in an extension, cover 2,016 packets. A path of 40 Mbit/s and
	// 140 ms holds 600 packets and more: with 256, what arrived past
	// them after a loss stayed unreported, counted in flight, until the
	// retransmission filled the hole a round trip later, and the sender
	// stood still for most of that round trip.
	longSACKBytes = 252
)

var (
	errShort   = errors.New("utp: packet shorter than the header")
	errVersion = errors.New("utp: not a uTP version 1 packet")
	errExt     = errors.New("utp: malformed extension")
)

// header is a decoded uTP packet header with the extensions gobit reads.
type header struct {
	typ     uint8
	connID  uint16
	ts      uint32 // timestamp_microseconds
	tsDiff  uint32 // timestamp_difference_microseconds
	wnd     uint32 // wnd_size
	seq     uint16
	ack     uint16
	sack    []byte // selective ACK bitmask (nil without one); aliases the packet
	maxPkt  uint32 // the peer's extMaxPacket (0 without one)
	hdrSize int    // bytes before the payload
}

// isUTP reports whether b looks like a uTP packet (version 1, a known
// type), as opposed to a DHT message (a bencoded dictionary, 'd').
func isUTP(b []byte) bool {
	return len(b) >= headerSize && b[0]&0x0f == version && b[0]>>4 <= stSyn
}

// parseHeader decodes the header and extensions of b; the payload is
// b[h.hdrSize:]. It never panics on hostile input.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerSize {
		return h, errShort
	}
	if b[0]&0x0f != version || b[0]>>4 > stSyn {
		return h, errVersion
	}
	h.typ = b[0] >> 4
	ext := b[1]
	h.connID = binary.BigEndian.Uint16(b[2:])
	h.ts = binary.BigEndian.Uint32(b[4:])
	h.tsDiff = binary.BigEndian.Uint32(b[8:])
	h.wnd = binary.BigEndian.Uint32(b[12:])
	h.seq = binary.BigEndian.Uint16(b[16:])
	h.ack = binary.BigEndian.Uint16(b[18:])
	off := headerSize
	// Each extension takes at least two bytes, so the chain ends within
	// len(b)/2 steps.
	for ext != 0 {
		if off+2 > len(b) {
			return h, errExt
		}
		next, n := b[off], int(b[off+1])
		off += 2
		if off+n > len(b) {
			return h, errExt
		}
		data := b[off : off+n]
		switch ext {
		case extSACK:
			// BEP 29 asks for a multiple of 4 bytes, but libtorrent sends
			// (packets buffered + 7) / 8 bytes, any length: rejecting the
			// packet would throw away every ACK libtorrent sends while it
			// holds packets out of order, and the sender would never
			// learn that its retransmission filled the hole. Any length
			// is read (an extension is at most 255 bytes); an empty one
			// acknowledges nothing selectively.
			if n > 0 {
				h.sack = data
			}
		case extMaxPacket:
			if n == 4 {
				h.maxPkt = binary.BigEndian.Uint32(data)
			}
		}
		off += n
		ext = next
	}
	h.hdrSize = off
	return h, nil
}

// appendHeader appends the encoded header of h (with h.sack and h.maxPkt
// as extensions when set) to b.
//
// libutp (Transmission's uTP) drops every packet whose first extension is
// above 2, so extMaxPacket always follows an all-zero extension-bits
// extension (2), which every implementation skips.
func appendHeader(b []byte, h *header) []byte {
	first := uint8(0)
	if len(h.sack) > 0 {
		first = extSACK
	} else if h.maxPkt != 0 {
		first = extBits
	}
	b = append(b, h.typ<<4|version, first)
	b = binary.BigEndian.AppendUint16(b, h.connID)
	b = binary.BigEndian.AppendUint32(b, h.ts)
	b = binary.BigEndian.AppendUint32(b, h.tsDiff)
	b = binary.BigEndian.AppendUint32(b, h.wnd)
	b = binary.BigEndian.AppendUint16(b, h.seq)
	b = binary.BigEndian.AppendUint16(b, h.ack)
	if len(h.sack) > 0 {
		next := uint8(0)
		if h.maxPkt != 0 {
			next = extBits
		}
		b = append(b, next, uint8(len(h.sack)))
		b = append(b, h.sack...)
	}
	if h.maxPkt != 0 {
		b = append(b, extMaxPacket, 8, 0, 0, 0, 0, 0, 0, 0, 0)
		b = append(b, 0, 4)
		b = binary.BigEndian.AppendUint32(b, h.maxPkt)
	}
	return b
}

// seqLess reports whether sequence number a comes before b (mod 2^16).
func seqLess(a, b uint16) bool { return int16(a-b) < 0 }

// sackHas reports whether the bitmask acknowledges ack+2+i.
func sackHas(mask []byte, i int) bool {
	return i>>3 < len(mask) && mask[i>>3]&(1<<(i&7)) != 0
}
