package bencode

import (
	"math"
	"strconv"
)

// scanner reads bencode tokens from an in-memory buffer. It never allocates
// for the data it reads and never reads past len(data).
type scanner struct {
	data  []byte
	pos   int
	depth int // current list/dict nesting
}

// errAt returns a *SyntaxError at buffer position pos.
func (s *scanner) errAt(pos int, msg string) error {
	return &SyntaxError{Offset: int64(pos), Msg: msg}
}

// errEOF reports that the input ended in the middle of a value.
func (s *scanner) errEOF() error {
	return &SyntaxError{Offset: int64(len(s.data)), Msg: "unexpected end of input"}
}

// errChar reports an unexpected byte at the current position.
func (s *scanner) errChar(what string) error {
	return s.errAt(s.pos, "invalid character "+quoteChar(s.data[s.pos])+" "+what)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	q := strconv.Quote(string([]byte{c}))
	return "'" + q[1:len(q)-1] + "'"
}

// enter increments the nesting depth for the list or dict at s.pos.
func (s *scanner) enter() error {
	s.depth++
	if s.depth > MaxDepth {
		return &SyntaxError{Offset: int64(s.pos), Msg: "nesting deeper than " + strconv.Itoa(MaxDepth), err: ErrMaxDepth}
	}
	return nil
}

// peek returns the byte at the current position or an EOF error.
func (s *scanner) peek() (byte, error) {
	if s.pos >= len(s.data) {
		return 0, s.errEOF()
	}
	return s.data[s.pos], nil
}

// readInt parses i<n>e at s.pos, which must hold 'i'.
func (s *scanner) readInt() (int64, error) {
	s.pos++ // 'i'
	start := s.pos
	neg := false
	if s.pos < len(s.data) && s.data[s.pos] == '-' {
		neg = true
		s.pos++
	}
	digits := s.pos
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var n uint64
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if c < '0' || c > '9' {
			break
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, s.errAt(start, "integer overflows int64")
		}
		n = n*10 + d
		s.pos++
	}
	if s.pos >= len(s.data) {
		return 0, s.errEOF()
	}
	if s.pos == digits {
		return 0, s.errChar("in integer (expected digit)")
	}
	if s.data[s.pos] != 'e' {
		return 0, s.errChar("in integer (expected digit or 'e')")
	}
	if s.data[digits] == '0' {
		if s.pos-digits > 1 {
			return 0, s.errAt(start, "leading zero in integer")
		}
		if neg {
			return 0, s.errAt(start, "negative zero integer")
		}
	}
	s.pos++ // 'e'
	if neg {
		return -int64(n-1) - 1, nil // n may be 1<<63
	}
	return int64(n), nil
}

// readString parses <len>:<bytes> at s.pos, which must hold a digit, and
// returns a slice of the input (not a copy).
func (s *scanner) readString() ([]byte, error) {
	start := s.pos
	n := 0
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if c < '0' || c > '9' {
			break
		}
		d := int(c - '0')
		if n > (math.MaxInt-d)/10 {
			return nil, s.errAt(start, "string length overflows int")
		}
		n = n*10 + d
		s.pos++
	}
	if s.pos >= len(s.data) {
		return nil, s.errEOF()
	}
	if s.data[s.pos] != ':' {
		return nil, s.errChar("in string length (expected digit or ':')")
	}
	if s.data[start] == '0' && s.pos-start > 1 {
		return nil, s.errAt(start, "leading zero in string length")
	}
	s.pos++ // ':'
	if rem := len(s.data) - s.pos; n > rem {
		return nil, s.errAt(start, "string length "+strconv.Itoa(n)+" exceeds remaining input of "+strconv.Itoa(rem)+" bytes")
	}
	b := s.data[s.pos : s.pos+n : s.pos+n]
	s.pos += n
	return b, nil
}

// readKey parses a dictionary key at s.pos; it must be a string.
func (s *scanner) readKey() ([]byte, error) {
	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	if c < '0' || c > '9' {
		return nil, s.errChar("at dictionary key (keys must be strings)")
	}
	return s.readString()
}

// skip validates and steps over one value at s.pos.
func (s *scanner) skip() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == 'i':
		_, err := s.readInt()
		return err
	case c >= '0' && c <= '9':
		_, err := s.readString()
		return err
	case c == 'l':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		for {
			c, err := s.peek()
			if err != nil {
				return err
			}
			if c == 'e' {
				s.pos++
				s.depth--
				return nil
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case c == 'd':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		for {
			c, err := s.peek()
			if err != nil {
				return err
			}
			if c == 'e' {
				s.pos++
				s.depth--
				return nil
			}
			if _, err := s.readKey(); err != nil {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	default:
		return s.errChar("looking for beginning of value")
	}
}

// validValue reports whether b is exactly one well-formed bencode value, and
// the syntax error if not.
func validValue(b []byte) error {
	s := scanner{data: b}
	if err := s.skip(); err != nil {
		return err
	}
	if s.pos != len(b) {
		return &SyntaxError{Offset: int64(s.pos), Msg: "trailing data after value", err: ErrTrailingData}
	}
	return nil
}
