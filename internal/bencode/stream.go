package bencode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
)

// Default limits of a Decoder.
const (
	// DefaultMaxStringLength is the longest string a Decoder accepts unless
	// changed with SetMaxStringLength.
	DefaultMaxStringLength = 64 << 20
	// DefaultMaxValueSize is the largest complete value, in bytes, a Decoder
	// accepts unless changed with SetMaxValueSize.
	DefaultMaxValueSize = 128 << 20
)

// smallString is the longest string for which the Decoder reserves the
// claimed length at once; longer strings grow the buffer as bytes arrive.
const smallString = 1 << 20

// readChunk is how much string payload the Decoder reads at a time, so that a
// claimed length costs memory only as the bytes actually arrive.
const readChunk = 64 << 10

// Decoder reads successive bencode values from a stream. It buffers at most
// one value (bounded by SetMaxValueSize) plus a small read-ahead buffer.
// After a syntax or read error the stream position is unknown and every
// later Decode returns the same error; a type error consumes its value and
// decoding may continue.
type Decoder struct {
	r        *bufio.Reader
	buf      []byte // bytes of the value being read
	off      int64  // stream offset of buf[0]
	maxStr   int
	maxValue int
	err      error // sticky error
}

// NewDecoder returns a Decoder reading from r with the default limits. It
// may read ahead from r past the values it returns; see Buffered.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{
		r:        bufio.NewReaderSize(r, 4096),
		maxStr:   DefaultMaxStringLength,
		maxValue: DefaultMaxValueSize,
	}
}

// SetMaxStringLength sets the longest string the decoder accepts; a longer
// length prefix fails with an error wrapping ErrTooLarge before anything is
// allocated for it. n <= 0 restores the default.
func (d *Decoder) SetMaxStringLength(n int) {
	if n <= 0 {
		n = DefaultMaxStringLength
	}
	d.maxStr = n
}

// SetMaxValueSize sets the largest complete value, in bytes, the decoder
// accepts; it bounds the memory a stream of many small items can make it
// buffer. n <= 0 restores the default.
func (d *Decoder) SetMaxValueSize(n int) {
	if n <= 0 {
		n = DefaultMaxValueSize
	}
	d.maxValue = n
}

// InputOffset returns the stream offset just after the last value decoded.
func (d *Decoder) InputOffset() int64 { return d.off }

// Buffered returns the data read from the underlying reader but not yet
// decoded.
func (d *Decoder) Buffered() io.Reader {
	b, _ := d.r.Peek(d.r.Buffered())
	return bytes.NewReader(b)
}

// Decode reads the next value from the stream and stores it in the value v
// points to. It returns io.EOF when the stream ends cleanly between values;
// a stream that ends inside a value is a *SyntaxError wrapping
// io.ErrUnexpectedEOF. Error offsets count from the start of the stream.
func (d *Decoder) Decode(v any) error {
	if d.err != nil {
		return d.err
	}
	rv, err := checkTarget(v)
	if err != nil {
		return err
	}
	d.buf = d.buf[:0]
	if err := d.readValue(0); err != nil {
		if err == io.EOF && len(d.buf) > 0 {
			err = d.errAt("unexpected end of input", io.ErrUnexpectedEOF)
		}
		d.err = err
		return err
	}
	n := len(d.buf)
	_, err = decodePrefix(d.buf, d.off, rv)
	d.off += int64(n)
	if cap(d.buf) > 1<<20 {
		d.buf = nil // do not pin a large buffer between values
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		d.err = err
	}
	return err
}

// errAt returns a *SyntaxError at the end of the bytes read so far.
func (d *Decoder) errAt(msg string, cause error) error {
	return d.errAtPos(len(d.buf), msg, cause)
}

// errAtPos returns a *SyntaxError at position pos of the current value.
func (d *Decoder) errAtPos(pos int, msg string, cause error) error {
	return &SyntaxError{Offset: d.off + int64(pos), Msg: msg, err: cause}
}

// readByte reads one byte and appends it to d.buf.
func (d *Decoder) readByte() (byte, error) {
	if len(d.buf) >= d.maxValue {
		return 0, d.errAt("value larger than "+strconv.Itoa(d.maxValue)+" bytes", ErrTooLarge)
	}
	c, err := d.r.ReadByte()
	if err != nil {
		return 0, d.readErr(err)
	}
	d.buf = append(d.buf, c)
	return c, nil
}

func (d *Decoder) readErr(err error) error {
	if err == io.EOF {
		if len(d.buf) == 0 {
			return io.EOF
		}
		return d.errAt("unexpected end of input", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("bencode: read at offset %d: %w", d.off+int64(len(d.buf)), err)
}

// readValue copies one value from the stream into d.buf, checking only what
// is needed to find its end safely; decodePrefix validates it fully after.
func (d *Decoder) readValue(depth int) error {
	c, err := d.readByte()
	if err != nil {
		return err
	}
	switch {
	case c == 'i':
		// At most a sign and 19 digits fit in an int64.
		start := len(d.buf)
		for i := 0; ; i++ {
			if i > 21 {
				return d.errAtPos(start, "integer overflows int64", nil)
			}
			c, err := d.readByte()
			if err != nil {
				return err
			}
			if c == 'e' {
				return nil
			}
		}
	case c >= '0' && c <= '9':
		start := len(d.buf) - 1
		n := int(c - '0')
		for i := 0; ; i++ {
			c, err := d.readByte()
			if err != nil {
				return err
			}
			if c == ':' {
				break
			}
			if c < '0' || c > '9' {
				return d.errAtPos(len(d.buf)-1, "invalid character "+quoteChar(c)+" in string length", nil)
			}
			if i > 20 {
				return d.errAtPos(start, "string length too long", nil)
			}
			if digit := int(c - '0'); n > (d.maxStr-digit)/10 {
				n = d.maxStr + 1
				break
			} else {
				n = n*10 + digit
			}
		}
		if n > d.maxStr {
			return &SyntaxError{Offset: d.off + int64(start),
				Msg: "string longer than limit of " + strconv.Itoa(d.maxStr) + " bytes", err: ErrTooLarge}
		}
		if len(d.buf)+n > d.maxValue {
			return &SyntaxError{Offset: d.off + int64(start),
				Msg: "value larger than " + strconv.Itoa(d.maxValue) + " bytes", err: ErrTooLarge}
		}
		if n <= smallString {
			d.buf = slices.Grow(d.buf, n)
		}
		for n > 0 {
			k := min(n, readChunk)
			old := len(d.buf)
			d.buf = append(d.buf, make([]byte, k)...)
			got, err := io.ReadFull(d.r, d.buf[old:])
			d.buf = d.buf[:old+got]
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF
				}
				return d.readErr(err)
			}
			n -= k
		}
		return nil
	case c == 'l' || c == 'd':
		if depth >= MaxDepth {
			return &SyntaxError{Offset: d.off + int64(len(d.buf)-1),
				Msg: "nesting deeper than " + strconv.Itoa(MaxDepth), err: ErrMaxDepth}
		}
		for {
			c, err := d.r.ReadByte()
			if err != nil {
				return d.readErr(err)
			}
			if c == 'e' {
				if len(d.buf) >= d.maxValue {
					return d.errAt("value larger than "+strconv.Itoa(d.maxValue)+" bytes", ErrTooLarge)
				}
				d.buf = append(d.buf, c)
				return nil
			}
			if err := d.r.UnreadByte(); err != nil {
				return fmt.Errorf("bencode: unread: %w", err)
			}
			if err := d.readValue(depth + 1); err != nil {
				return err
			}
		}
	default:
		return d.errAtPos(len(d.buf)-1, "invalid character "+quoteChar(c)+" looking for beginning of value", nil)
	}
}

// Encoder writes bencode values to a stream.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes the bencoding of v to the stream in one Write call. Nothing is
// written if encoding fails.
func (e *Encoder) Encode(v any) error {
	es := encodeState{buf: e.buf[:0]}
	if err := es.value(reflect.ValueOf(v)); err != nil {
		return err
	}
	e.buf = es.buf
	if cap(e.buf) > 1<<20 {
		e.buf = nil
	}
	if _, err := e.w.Write(es.buf); err != nil {
		return fmt.Errorf("bencode: write: %w", err)
	}
	return nil
}
