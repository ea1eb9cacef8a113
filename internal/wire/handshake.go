package wire

import (
	"errors"
	"fmt"
	"io"
)

// Protocol is the protocol string sent in the BitTorrent handshake.
const Protocol = "BitTorrent protocol"

// HandshakeLength is the size in bytes of a complete BitTorrent handshake:
// the protocol string length byte, the protocol string, 8 reserved bytes,
// the 20-byte info hash and the 20-byte peer ID.
const HandshakeLength = 1 + len(Protocol) + 8 + 20 + 20

// handshakePrefixLength is the size of the handshake up to and including the
// info hash, which an accepting peer reads before it decides which torrent
// the connection belongs to.
const handshakePrefixLength = HandshakeLength - 20

// ErrBadHandshake is returned when a peer's handshake does not start with the
// BitTorrent protocol string.
var ErrBadHandshake = errors.New("wire: bad handshake")

// Reserved-bit positions of the extensions gobit understands.
const (
	extendedByte, extendedBit = 5, 0x10 // BEP 10 extension protocol
	fastByte, fastBit         = 7, 0x04 // BEP 6 Fast Extension
	dhtByte, dhtBit           = 7, 0x01 // BEP 5 DHT port message
)

// Handshake is the first message each side of a peer connection sends.
type Handshake struct {
	// Reserved holds the extension bits; see SetExtended, SetFast and SetDHT.
	Reserved [8]byte
	// InfoHash is the v1 info hash of the torrent the connection is for.
	InfoHash [20]byte
	// PeerID is the sender's peer ID.
	PeerID [20]byte
}

// SetExtended advertises support for the BEP 10 extension protocol.
func (h *Handshake) SetExtended() { h.Reserved[extendedByte] |= extendedBit }

// SetFast advertises support for the BEP 6 Fast Extension.
func (h *Handshake) SetFast() { h.Reserved[fastByte] |= fastBit }

// SetDHT advertises support for the BEP 5 DHT (and so the Port message).
func (h *Handshake) SetDHT() { h.Reserved[dhtByte] |= dhtBit }

// SupportsExtended reports whether the sender supports the BEP 10 extension
// protocol.
func (h Handshake) SupportsExtended() bool { return h.Reserved[extendedByte]&extendedBit != 0 }

// SupportsFast reports whether the sender supports the BEP 6 Fast Extension.
// The extension is in use only if both sides set the bit.
func (h Handshake) SupportsFast() bool { return h.Reserved[fastByte]&fastBit != 0 }

// SupportsDHT reports whether the sender runs a BEP 5 DHT node.
func (h Handshake) SupportsDHT() bool { return h.Reserved[dhtByte]&dhtBit != 0 }

// AppendTo appends the 68-byte wire form of h to b and returns the result.
func (h Handshake) AppendTo(b []byte) []byte {
	b = append(b, byte(len(Protocol)))
	b = append(b, Protocol...)
	b = append(b, h.Reserved[:]...)
	b = append(b, h.InfoHash[:]...)
	return append(b, h.PeerID[:]...)
}

// ReadHandshake reads a complete 68-byte handshake from r. A wrong protocol
// string is reported as ErrBadHandshake; a short read wraps the underlying
// io error (io.EOF or io.ErrUnexpectedEOF).
func ReadHandshake(r io.Reader) (Handshake, error) {
	var h Handshake
	var err error
	h.Reserved, h.InfoHash, err = ReadHandshakeInfoHash(r)
	if err != nil {
		return Handshake{}, err
	}
	h.PeerID, err = ReadPeerID(r)
	if err != nil {
		return Handshake{}, err
	}
	return h, nil
}

// ReadHandshakeInfoHash reads the first 48 bytes of a handshake, up to and
// including the info hash. An accepting peer uses it to find the torrent
// (and answer with its own handshake) before it reads the peer ID with
// ReadPeerID.
func ReadHandshakeInfoHash(r io.Reader) (reserved [8]byte, infoHash [20]byte, err error) {
	var buf [handshakePrefixLength]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return reserved, infoHash, fmt.Errorf("wire: read handshake: %w", err)
	}
	if int(buf[0]) != len(Protocol) {
		return reserved, infoHash, fmt.Errorf("%w: protocol string length %d, want %d", ErrBadHandshake, buf[0], len(Protocol))
	}
	if string(buf[1:1+len(Protocol)]) != Protocol {
		return reserved, infoHash, fmt.Errorf("%w: protocol string %q", ErrBadHandshake, buf[1:1+len(Protocol)])
	}
	copy(reserved[:], buf[1+len(Protocol):])
	copy(infoHash[:], buf[1+len(Protocol)+8:])
	return reserved, infoHash, nil
}

// ReadPeerID reads the 20-byte peer ID that ends a handshake.
func ReadPeerID(r io.Reader) ([20]byte, error) {
	var id [20]byte
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return id, fmt.Errorf("wire: read handshake peer id: %w", err)
	}
	return id, nil
}
