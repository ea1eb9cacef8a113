// Package jsonenc appends JSON values to a byte slice, the same bytes
// encoding/json writes for them, without reflection: the lists of 10,000
// torrents (the API's own, Transmission's torrent-get, qBittorrent's
// maindata) are encoded with it.
package jsonenc

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendString appends s as a JSON string, escaped as json.Marshal
// escapes it (HTML characters, U+2028 and U+2029 too; invalid UTF-8 as
// U+FFFD).
func AppendString(b []byte, s string) []byte { return appendString(b, s, true) }

// AppendStringNoHTML appends s as a JSON string as an Encoder with
// SetEscapeHTML(false) writes it: <, > and & as they are.
func AppendStringNoHTML(b []byte, s string) []byte { return appendString(b, s, false) }

func appendString(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigit(c>>4), hexDigit(c&0xF))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigit(byte(r&0xF)))
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func hexDigit(c byte) byte { return "0123456789abcdef"[c&0xF] }

// AppendStrings appends l as a JSON array of strings (escaped as
// AppendString does); nil as [], not null.
func AppendStrings(b []byte, l []string) []byte {
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}

// AppendFloat appends f as encoding/json does: the shortest representation,
// in exponent form only for very small or large numbers. NaN and the
// infinities, which JSON cannot hold, are written as 0.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// AppendTime appends t as encoding/json does (RFC 3339 with nanoseconds).
func AppendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		return append(b, `"0001-01-01T00:00:00Z"`...) // not representable; never set so
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendValue appends v as json.Marshal writes it (html: with <, > and &
// escaped, as json.Marshal does; without, as an Encoder with
// SetEscapeHTML(false)). Strings, booleans, integers, floats and string
// slices are appended directly; anything else goes through encoding/json.
func AppendValue(b []byte, v any, html bool) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(b, x, html), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			break // json.Marshal's error
		}
		return AppendFloat(b, x), nil
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s, html)
		}
		return append(b, ']'), nil
	case nil:
		return append(b, "null"...), nil
	}
	if html {
		data, err := json.Marshal(v)
		if err != nil {
			return b, err
		}
		return append(b, data...), nil
	}
	var buf appendWriter
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return b, err
	}
	return append(b, buf[:len(buf)-1]...), nil // Encode ends with a newline
}

type appendWriter []byte

func (w *appendWriter) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }
