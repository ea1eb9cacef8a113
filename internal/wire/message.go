package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// BlockSize is the size of the blocks gobit requests and serves (16 KiB):
// the picker splits pieces into blocks of this size, and only the last
// block of the last piece may be shorter.
const BlockSize = 16 << 10

// MaxMessageLength is the largest frame body (length prefix) a reader
// accepts. A peer that announces a longer message is misbehaving (or
// hostile) and should be dropped without its body being read, as package
// peer does; ParseMessage returns ErrMessageTooLarge for a longer body. It
// leaves room for a bitfield of two million pieces.
const MaxMessageLength = 256 << 10

// Errors returned by the message codec.
var (
	// ErrMessageTooLarge is returned when a length prefix exceeds
	// MaxMessageLength.
	ErrMessageTooLarge = errors.New("wire: message too large")
	// ErrBadMessage is returned when a message's length does not fit its
	// ID, or an extension payload is malformed.
	ErrBadMessage = errors.New("wire: bad message")
)

// ID identifies a peer wire message type (the byte after the length prefix).
type ID uint8

// Message IDs of BEP 3, BEP 5 (Port), BEP 6 (Fast Extension) and BEP 10
// (Extended).
const (
	Choke         ID = 0
	Unchoke       ID = 1
	Interested    ID = 2
	NotInterested ID = 3
	Have          ID = 4
	Bitfield      ID = 5
	Request       ID = 6
	Piece         ID = 7
	Cancel        ID = 8
	Port          ID = 9
	Suggest       ID = 0x0D
	HaveAll       ID = 0x0E
	HaveNone      ID = 0x0F
	Reject        ID = 0x10
	AllowedFast   ID = 0x11
	Extended      ID = 20
)

var idNames = [...]string{
	Choke:         "choke",
	Unchoke:       "unchoke",
	Interested:    "interested",
	NotInterested: "not_interested",
	Have:          "have",
	Bitfield:      "bitfield",
	Request:       "request",
	Piece:         "piece",
	Cancel:        "cancel",
	Port:          "port",
	Suggest:       "suggest",
	HaveAll:       "have_all",
	HaveNone:      "have_none",
	Reject:        "reject",
	AllowedFast:   "allowed_fast",
	Extended:      "extended",
}

// String returns the message name used in logs, e.g. "request", or
// "unknown(0x2a)" for an ID gobit does not know.
func (id ID) String() string {
	if int(id) < len(idNames) && idNames[id] != "" {
		return idNames[id]
	}
	return fmt.Sprintf("unknown(0x%02x)", uint8(id))
}

// Message is one decoded (or to-be-encoded) peer wire message. Which fields
// are meaningful depends on ID:
//
//	Have, Suggest, AllowedFast:      Index
//	Request, Cancel, Reject:         Index, Begin, Length
//	Piece:                           Index, Begin, Block
//	Bitfield:                        Bitfield
//	Port:                            Port
//	Extended:                        ExtendedID, Payload
//	unknown IDs:                     Payload (the bytes after the ID)
//
// A keep-alive has KeepAlive set and no other field.
type Message struct {
	// KeepAlive marks the zero-length keep-alive message.
	KeepAlive bool
	// ID is the message type.
	ID ID
	// Index is the piece index.
	Index uint32
	// Begin is the byte offset of a block within its piece.
	Begin uint32
	// Length is the length of a requested, cancelled or rejected block.
	Length uint32
	// Bitfield is the raw payload of a Bitfield message.
	Bitfield []byte
	// Block is the data of a Piece message.
	Block []byte
	// Port is the DHT port of a Port message.
	Port uint16
	// ExtendedID is the BEP 10 extension message ID; 0 is the extension
	// handshake.
	ExtendedID uint8
	// Payload is the extension payload after the extended ID byte, or the
	// raw payload of a message with an unknown ID.
	Payload []byte
}

// fixedLength returns the exact length (ID byte included) that a message with
// the given ID must have, or -1 if its length varies.
func fixedLength(id ID) int {
	switch id {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		return 1
	case Have, Suggest, AllowedFast:
		return 5
	case Request, Cancel, Reject:
		return 13
	case Port:
		return 3
	}
	return -1
}

// minLength returns the minimum length (ID byte included) of a
// variable-length message.
func minLength(id ID) int {
	switch id {
	case Piece:
		return 9
	case Extended:
		return 2
	}
	return 1
}

// Len returns the length of m's frame body: the value of its length prefix.
func (m *Message) Len() int {
	if m.KeepAlive {
		return 0
	}
	if n := fixedLength(m.ID); n >= 0 {
		return n
	}
	switch m.ID {
	case Bitfield:
		return 1 + len(m.Bitfield)
	case Piece:
		return 9 + len(m.Block)
	case Extended:
		return 2 + len(m.Payload)
	}
	return 1 + len(m.Payload)
}

// AppendTo appends m's complete frame, 4-byte length prefix included, to b
// and returns the result.
func (m *Message) AppendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(m.Len()))
	if m.KeepAlive {
		return b
	}
	b = append(b, byte(m.ID))
	switch m.ID {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
	case Have, Suggest, AllowedFast:
		b = binary.BigEndian.AppendUint32(b, m.Index)
	case Request, Cancel, Reject:
		b = binary.BigEndian.AppendUint32(b, m.Index)
		b = binary.BigEndian.AppendUint32(b, m.Begin)
		b = binary.BigEndian.AppendUint32(b, m.Length)
	case Port:
		b = binary.BigEndian.AppendUint16(b, m.Port)
	case Bitfield:
		b = append(b, m.Bitfield...)
	case Piece:
		b = binary.BigEndian.AppendUint32(b, m.Index)
		b = binary.BigEndian.AppendUint32(b, m.Begin)
		b = append(b, m.Block...)
	case Extended:
		b = append(b, m.ExtendedID)
		b = append(b, m.Payload...)
	default:
		b = append(b, m.Payload...)
	}
	return b
}

// AppendPieceHeader appends the 13-byte header of a Piece message carrying a
// block of blockLen bytes (length prefix, ID, index, begin) to b. A writer
// that sends the block from its own buffer uses it to avoid copying the
// block into the frame.
func AppendPieceHeader(b []byte, index, begin uint32, blockLen int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(9+blockLen))
	b = append(b, byte(Piece))
	b = binary.BigEndian.AppendUint32(b, index)
	return binary.BigEndian.AppendUint32(b, begin)
}

// ParseMessage decodes a frame body: the bytes after the 4-byte length
// prefix (so an empty body is a keep-alive). The returned Message's slices
// alias body. A body longer than MaxMessageLength is ErrMessageTooLarge; a
// body whose length does not fit its known ID is ErrBadMessage; an unknown
// ID is returned (ID and Payload set) without error so callers can ignore
// it. Readers check the length prefix against MaxMessageLength before
// reading the body (package peer; wiretest.ReadMessage in tests).
func ParseMessage(body []byte) (Message, error) {
	if len(body) == 0 {
		return Message{KeepAlive: true}, nil
	}
	if len(body) > MaxMessageLength {
		return Message{}, fmt.Errorf("%w: length %d exceeds %d", ErrMessageTooLarge, len(body), MaxMessageLength)
	}
	m := Message{ID: ID(body[0])}
	if want := fixedLength(m.ID); want >= 0 {
		if len(body) != want {
			return Message{ID: m.ID}, fmt.Errorf("%w: %s with length %d, want %d", ErrBadMessage, m.ID, len(body), want)
		}
	} else if want := minLength(m.ID); len(body) < want {
		return Message{ID: m.ID}, fmt.Errorf("%w: %s with length %d, want at least %d", ErrBadMessage, m.ID, len(body), want)
	}
	p := body[1:]
	switch m.ID {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
	case Have, Suggest, AllowedFast:
		m.Index = binary.BigEndian.Uint32(p)
	case Request, Cancel, Reject:
		m.Index = binary.BigEndian.Uint32(p)
		m.Begin = binary.BigEndian.Uint32(p[4:])
		m.Length = binary.BigEndian.Uint32(p[8:])
	case Port:
		m.Port = binary.BigEndian.Uint16(p)
	case Bitfield:
		m.Bitfield = p
	case Piece:
		m.Index = binary.BigEndian.Uint32(p)
		m.Begin = binary.BigEndian.Uint32(p[4:])
		m.Block = p[8:]
	case Extended:
		m.ExtendedID = p[0]
		m.Payload = p[1:]
	default:
		m.Payload = p
	}
	return m, nil
}
