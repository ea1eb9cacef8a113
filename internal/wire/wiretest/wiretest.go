// Package wiretest holds peer wire helpers for tests: ReadMessage reads
// framed messages from a stream, as a test's fake peer or the test side of
// a real connection needs. gobit's own connections do their own framing
// (package peer) and decode frame bodies with wire.ParseMessage, so this
// reader is for tests only.
package wiretest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gobit/gobit/internal/wire"
)

// ReadMessage reads one frame from r and decodes it with wire.ParseMessage.
//
// buf is scratch space: if its capacity holds the frame it is reused,
// otherwise a larger buffer is allocated. The buffer used is returned so the
// caller can pass it to the next call. The returned Message's Bitfield,
// Block and Payload alias that buffer; a caller that keeps them past the
// next ReadMessage must copy them.
//
// A length prefix above wire.MaxMessageLength yields wire.ErrMessageTooLarge
// after only the 4 prefix bytes were read. A clean end of stream before the
// prefix yields an error wrapping io.EOF; a stream cut inside a frame wraps
// io.ErrUnexpectedEOF. Malformed frames of known IDs yield
// wire.ErrBadMessage. Frames with IDs gobit does not know are returned (ID
// and Payload set) without error so callers can ignore them.
func ReadMessage(r io.Reader, buf []byte) (wire.Message, []byte, error) {
	if cap(buf) < 4 {
		buf = make([]byte, 4+9+wire.BlockSize)
	}
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return wire.Message{}, buf, fmt.Errorf("wire: read message length: %w", err)
	}
	n := binary.BigEndian.Uint32(buf[:4])
	if n == 0 {
		return wire.Message{KeepAlive: true}, buf, nil
	}
	if n > wire.MaxMessageLength {
		return wire.Message{}, buf, fmt.Errorf("%w: length prefix %d exceeds %d", wire.ErrMessageTooLarge, n, wire.MaxMessageLength)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, max(int(n), 4+9+wire.BlockSize))
	}
	body := buf[:n]
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return wire.Message{}, buf, fmt.Errorf("wire: read %d-byte message body: %w", n, err)
	}
	m, err := wire.ParseMessage(body)
	return m, buf, err
}
