package wire

import (
	"fmt"
	"strconv"

	"github.com/gobit/gobit/internal/bencode"
)

// MaxMetadataSize is the largest info dictionary gobit fetches with BEP 9
// (16 MiB).
const MaxMetadataSize = 16 << 20

// MetadataPieceSize is the size of every ut_metadata piece but the last.
const MetadataPieceSize = 16 << 10

// maxMetadataPiece is the highest piece index a metadata of at most
// MaxMetadataSize bytes can have.
const maxMetadataPiece = (MaxMetadataSize - 1) / MetadataPieceSize

// MetadataMsgType is the msg_type of a ut_metadata message.
type MetadataMsgType int

// The ut_metadata message types of BEP 9.
const (
	// MetadataRequest asks for one piece of the info dictionary.
	MetadataRequest MetadataMsgType = 0
	// MetadataData carries one piece of the info dictionary.
	MetadataData MetadataMsgType = 1
	// MetadataReject refuses a request.
	MetadataReject MetadataMsgType = 2
)

// String returns the message type's name.
func (t MetadataMsgType) String() string {
	switch t {
	case MetadataRequest:
		return "request"
	case MetadataData:
		return "data"
	case MetadataReject:
		return "reject"
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// MetadataMessage is a BEP 9 ut_metadata message: a bencoded dictionary
// followed, for MetadataData, by the raw piece bytes.
type MetadataMessage struct {
	// Type is the message type.
	Type MetadataMsgType
	// Piece is the index of the MetadataPieceSize piece concerned.
	Piece int
	// TotalSize is the size of the whole info dictionary (data only).
	TotalSize int
	// Data is the piece's bytes (data only). ParseMetadataMessage returns
	// a slice of its input.
	Data []byte
}

// metadataHeader is the dictionary at the start of a ut_metadata message.
type metadataHeader struct {
	MsgType   int `bencode:"msg_type"`
	Piece     int `bencode:"piece"`
	TotalSize int `bencode:"total_size"`
}

// ParseMetadataMessage decodes a ut_metadata message payload (the bytes after
// the extended message ID).
//
// It checks that msg_type is known and piece is in 0..1023 (pieces of a
// metadata of at most MaxMetadataSize). For data messages total_size must be
// in 1..MaxMetadataSize, the piece must lie inside it, and the data must be
// exactly as long as that piece: MetadataPieceSize bytes, or the remainder
// for the last piece. Request and reject messages must carry no data. Data
// aliases p. Errors wrap ErrBadMessage.
func ParseMetadataMessage(p []byte) (MetadataMessage, error) {
	h := metadataHeader{MsgType: -1, Piece: -1, TotalSize: -1}
	n, err := bencode.DecodePrefix(p, &h)
	if err != nil {
		return MetadataMessage{}, fmt.Errorf("%w: ut_metadata: %w", ErrBadMessage, err)
	}
	m := MetadataMessage{Type: MetadataMsgType(h.MsgType), Piece: h.Piece}
	switch {
	case h.MsgType == -1:
		return MetadataMessage{}, fmt.Errorf("%w: ut_metadata: no msg_type", ErrBadMessage)
	case m.Type != MetadataRequest && m.Type != MetadataData && m.Type != MetadataReject:
		return MetadataMessage{}, fmt.Errorf("%w: ut_metadata: unknown msg_type %d", ErrBadMessage, h.MsgType)
	case h.Piece < 0 || h.Piece > maxMetadataPiece:
		return MetadataMessage{}, fmt.Errorf("%w: ut_metadata %s: piece %d, want 0..%d", ErrBadMessage, m.Type, h.Piece, maxMetadataPiece)
	}
	data := p[n:]
	if m.Type != MetadataData {
		if len(data) != 0 {
			return MetadataMessage{}, fmt.Errorf("%w: ut_metadata %s: %d bytes after dictionary", ErrBadMessage, m.Type, len(data))
		}
		return m, nil
	}
	if h.TotalSize <= 0 || h.TotalSize > MaxMetadataSize {
		return MetadataMessage{}, fmt.Errorf("%w: ut_metadata data: total_size %d, want 1..%d", ErrBadMessage, h.TotalSize, MaxMetadataSize)
	}
	offset := h.Piece * MetadataPieceSize
	if offset >= h.TotalSize {
		return MetadataMessage{}, fmt.Errorf("%w: ut_metadata data: piece %d beyond total_size %d", ErrBadMessage, h.Piece, h.TotalSize)
	}
	if want := min(MetadataPieceSize, h.TotalSize-offset); len(data) != want {
		return MetadataMessage{}, fmt.Errorf("%w: ut_metadata data: piece %d has %d bytes, want %d", ErrBadMessage, h.Piece, len(data), want)
	}
	m.TotalSize = h.TotalSize
	m.Data = data
	return m, nil
}

// Marshal encodes m as a ut_metadata payload: the dictionary (with
// total_size for data messages) followed by Data for data messages.
func (m MetadataMessage) Marshal() []byte {
	b := make([]byte, 0, 64+len(m.Data))
	b = append(b, "d8:msg_typei"...)
	b = strconv.AppendInt(b, int64(m.Type), 10)
	b = append(b, "e5:piecei"...)
	b = strconv.AppendInt(b, int64(m.Piece), 10)
	b = append(b, 'e')
	if m.Type == MetadataData {
		b = append(b, "10:total_sizei"...)
		b = strconv.AppendInt(b, int64(m.TotalSize), 10)
		b = append(b, 'e')
	}
	b = append(b, 'e')
	if m.Type == MetadataData {
		b = append(b, m.Data...)
	}
	return b
}
