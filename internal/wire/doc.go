// Package wire encodes and decodes the BitTorrent peer wire protocol: the
// handshake and messages of BEP 3, the Fast Extension messages and allowed
// fast set of BEP 6, the extension protocol handshake of BEP 10, and the
// ut_metadata (BEP 9) and ut_pex (BEP 11) extension message payloads.
//
// The package is pure encoding and decoding: it starts no goroutines, holds
// no shared state and performs no I/O beyond reading from the io.Reader a
// caller passes in. Every value it returns is owned by the caller.
//
// Invariants the rest of gobit relies on:
//   - No decoder allocates more than the input justifies. ParseMessage
//     rejects a body above MaxMessageLength; readers (package peer, and
//     wiretest.ReadMessage for tests) reject such a length prefix after
//     reading only its 4 bytes, so a hostile peer cannot make them
//     allocate or read a large body.
//   - Fixed-size messages (Have, Request, Cancel, Port, Fast Extension
//     messages, ...) are checked for their exact length; a mismatch is an
//     ErrBadMessage naming the message ID.
//   - Decoders never panic on malformed input; they return wrapped sentinel
//     errors (ErrBadMessage, ErrBadHandshake, ErrMessageTooLarge, ...).
//   - Slices in a decoded Message (Bitfield, Block, Payload) alias the buffer
//     passed to ParseMessage. A caller that keeps them past the next read
//     must copy them.
//
// gobit's peer connections do their own framing (package peer reads piece
// blocks straight into pooled buffers) and decode every other frame body
// with ParseMessage, checking the length prefix against MaxMessageLength
// before reading the body. Tests read framed streams with
// wiretest.ReadMessage.
package wire
