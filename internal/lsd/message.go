package lsd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// Wire-format limits.
const (
	// MaxPacketSize is the largest announce accepted or sent, in bytes.
	// BEP 14 asks senders to stay under 1400 bytes to avoid fragmentation;
	// larger datagrams are dropped unread.
	MaxPacketSize = 1400
	// MaxInfoHashes is the most Infohash headers accepted in one announce
	// and the most this package packs into one.
	MaxInfoHashes = 16
	// maxCookieLen bounds the cookie header value that is kept.
	maxCookieLen = 64
	// maxHeaders bounds the number of header lines in one announce.
	maxHeaders = 32
)

// requestLine is the exact first line of every announce.
const requestLine = "BT-SEARCH * HTTP/1.1"

// Errors returned by Parse. Every error Parse returns wraps ErrMalformed.
var (
	// ErrMalformed is wrapped by every parse error.
	ErrMalformed = errors.New("lsd: malformed announce")
	// ErrTooLarge means the packet exceeds MaxPacketSize.
	ErrTooLarge = fmt.Errorf("%w: packet larger than %d bytes", ErrMalformed, MaxPacketSize)
	// ErrRequestLine means the first line is not "BT-SEARCH * HTTP/1.1".
	ErrRequestLine = fmt.Errorf("%w: bad request line", ErrMalformed)
	// ErrMissingPort means there is no Port header.
	ErrMissingPort = fmt.Errorf("%w: missing Port header", ErrMalformed)
	// ErrBadPort means the Port header is not a decimal number in 1..65535,
	// or it appears more than once.
	ErrBadPort = fmt.Errorf("%w: bad Port header", ErrMalformed)
	// ErrMissingInfoHash means there is no Infohash header.
	ErrMissingInfoHash = fmt.Errorf("%w: missing Infohash header", ErrMalformed)
	// ErrBadInfoHash means an Infohash header is not 40 hex digits.
	ErrBadInfoHash = fmt.Errorf("%w: bad Infohash header", ErrMalformed)
	// ErrTooManyInfoHashes means there are more than MaxInfoHashes Infohash headers.
	ErrTooManyInfoHashes = fmt.Errorf("%w: more than %d Infohash headers", ErrMalformed, MaxInfoHashes)
)

// Message is one decoded BEP 14 announce.
type Message struct {
	// Host is the Host header as sent (the multicast group); informational only.
	Host string
	// Port is the sender's BitTorrent listen port, 1..65535.
	Port uint16
	// InfoHashes are the announced torrents, without duplicates, in the
	// order they first appeared; 1..MaxInfoHashes entries.
	InfoHashes [][20]byte
	// Cookie is the opaque sender token, empty if the header was absent.
	Cookie string
}

// AppendMessage appends the wire form of m to b and returns the result:
//
//	BT-SEARCH * HTTP/1.1\r\n
//	Host: <host>\r\n
//	Port: <port>\r\n
//	Infohash: <40 lowercase hex>\r\n   (once per hash)
//	cookie: <cookie>\r\n               (only if m.Cookie is not empty)
//	\r\n
//	\r\n
//
// It does not check limits; see Encode.
func AppendMessage(b []byte, m Message) []byte {
	b = append(b, requestLine...)
	b = append(b, "\r\nHost: "...)
	b = append(b, m.Host...)
	b = append(b, "\r\nPort: "...)
	b = strconv.AppendUint(b, uint64(m.Port), 10)
	b = append(b, "\r\n"...)
	for _, ih := range m.InfoHashes {
		b = append(b, "Infohash: "...)
		b = hex.AppendEncode(b, ih[:])
		b = append(b, "\r\n"...)
	}
	if m.Cookie != "" {
		b = append(b, "cookie: "...)
		b = append(b, m.Cookie...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n\r\n"...)
}

// Encode returns the wire form of m, or an error if m could not be parsed
// back by a conforming receiver: a zero port, no or too many info hashes,
// header values containing line breaks, or a result over MaxPacketSize.
func Encode(m Message) ([]byte, error) {
	switch {
	case m.Port == 0:
		return nil, fmt.Errorf("lsd: encode: %w", ErrBadPort)
	case len(m.InfoHashes) == 0:
		return nil, fmt.Errorf("lsd: encode: %w", ErrMissingInfoHash)
	case len(m.InfoHashes) > MaxInfoHashes:
		return nil, fmt.Errorf("lsd: encode: %w", ErrTooManyInfoHashes)
	case !validValue(m.Host) || !validValue(m.Cookie) || len(m.Cookie) > maxCookieLen:
		return nil, fmt.Errorf("lsd: encode: %w: bad Host or cookie value", ErrMalformed)
	}
	b := AppendMessage(make([]byte, 0, 128+len(m.InfoHashes)*52), m)
	if len(b) > MaxPacketSize {
		return nil, fmt.Errorf("lsd: encode: %w", ErrTooLarge)
	}
	return b, nil
}

// validValue reports whether s can be a header value: printable ASCII only.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Parse decodes one announce datagram. It is strict about what it uses
// and ignores what it does not understand, as BEP 14 asks:
//
//   - the packet is at most MaxPacketSize bytes;
//   - the first line is exactly "BT-SEARCH * HTTP/1.1";
//   - lines end in CRLF, and the headers end with an empty line
//     (anything after it is ignored);
//   - header names are case-insensitive; unknown headers are ignored;
//   - exactly one Port header, decimal 1..65535;
//   - 1..MaxInfoHashes Infohash headers of 40 hex digits (either case);
//   - an optional cookie header.
//
// Every returned error wraps ErrMalformed. Parse never panics.
func Parse(p []byte) (Message, error) {
	var m Message
	if len(p) > MaxPacketSize {
		return m, ErrTooLarge
	}
	line, rest, ok := bytes.Cut(p, []byte("\r\n"))
	if !ok || string(line) != requestLine {
		return m, ErrRequestLine
	}
	portSeen := false
	terminated := false
	for n := 0; ; n++ {
		if n > maxHeaders {
			return m, fmt.Errorf("%w: more than %d headers", ErrMalformed, maxHeaders)
		}
		line, rest, ok = bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			break // unterminated last line: the header block never ended
		}
		if len(line) == 0 {
			terminated = true
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || !isToken(name) {
			return m, fmt.Errorf("%w: bad header line %.40q", ErrMalformed, line)
		}
		value = bytes.Trim(value, " \t")
		switch {
		case bytes.EqualFold(name, []byte("Port")):
			if portSeen {
				return m, fmt.Errorf("%w: repeated", ErrBadPort)
			}
			portSeen = true
			port, err := parsePort(value)
			if err != nil {
				return m, err
			}
			m.Port = port
		case bytes.EqualFold(name, []byte("Infohash")):
			var ih [20]byte
			if len(value) != 2*len(ih) {
				return m, fmt.Errorf("%w: length %d", ErrBadInfoHash, len(value))
			}
			if _, err := hex.Decode(ih[:], value); err != nil {
				return m, fmt.Errorf("%w: %v", ErrBadInfoHash, err)
			}
			if containsHash(m.InfoHashes, ih) {
				continue
			}
			if len(m.InfoHashes) == MaxInfoHashes {
				return m, ErrTooManyInfoHashes
			}
			m.InfoHashes = append(m.InfoHashes, ih)
		case bytes.EqualFold(name, []byte("Host")):
			if validValue(string(value)) {
				m.Host = string(value)
			}
		case bytes.EqualFold(name, []byte("cookie")):
			if len(value) > maxCookieLen || !validValue(string(value)) {
				return m, fmt.Errorf("%w: bad cookie header", ErrMalformed)
			}
			m.Cookie = string(value)
		}
	}
	if !terminated {
		return m, fmt.Errorf("%w: headers not terminated by an empty line", ErrMalformed)
	}
	if !portSeen {
		return m, ErrMissingPort
	}
	if len(m.InfoHashes) == 0 {
		return m, ErrMissingInfoHash
	}
	return m, nil
}

// parsePort parses a decimal port in 1..65535.
func parsePort(v []byte) (uint16, error) {
	if len(v) == 0 || len(v) > 5 {
		return 0, fmt.Errorf("%w: %.10q", ErrBadPort, v)
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %.10q", ErrBadPort, v)
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%w: %d out of range", ErrBadPort, n)
	}
	return uint16(n), nil
}

// isToken reports whether b is an HTTP header name (RFC 7230 token).
func isToken(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

// containsHash reports whether hs contains h.
func containsHash(hs [][20]byte, h [20]byte) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}
