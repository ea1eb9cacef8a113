package metainfo

import (
	"errors"
	"fmt"
	"math"
)

// The reader in this file decodes .torrent files with the same syntax rules
// as libtorrent's bdecode, which is more forgiving than the bencode
// package's strict decoder: integers and string lengths may have leading
// zeros ("i03e", "03:abc") and "-0" is an integer, dictionary keys may be
// unsorted or repeated (the FIRST occurrence counts, as in libtorrent), and
// bytes after the top-level value are ignored. What it refuses, it refuses
// for the same reasons: malformed syntax, integers outside int64, strings
// longer than the input, non-string keys and more than maxNesting nested
// lists and dictionaries.
//
// Values are kept as sub-slices of the input (bval), so the info
// dictionary's bytes, whose SHA-1 is the info hash, are exactly those of the
// file.

// maxNesting is the deepest nesting of lists and dictionaries accepted,
// the top-level dictionary included: libtorrent refuses 100.
const maxNesting = 99

// bval is one complete, syntactically valid bencoded value: a sub-slice of
// data checked by scanValue.
type bval []byte

var errSyntax = errors.New("bencode syntax error")

// syntaxErr describes a syntax error at offset off.
func syntaxErr(off int, msg string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, off, msg)
}

// scanValue checks the value that starts at data[pos] and returns the
// offset just past it. depth is the number of enclosing lists and
// dictionaries.
func scanValue(data []byte, pos, depth int) (int, error) {
	if pos >= len(data) {
		return 0, syntaxErr(pos, "unexpected end of data")
	}
	switch c := data[pos]; {
	case c == 'i':
		_, end, err := scanInt(data, pos+1, 'e')
		if err == errRange {
			err = nil // valid syntax; the value is checked where it is used
		}
		return end, err
	case c >= '0' && c <= '9':
		_, end, err := scanString(data, pos)
		return end, err
	case c == 'l' || c == 'd':
		if depth+1 > maxNesting {
			return 0, syntaxErr(pos, "nesting too deep")
		}
		pos++
		for key := true; ; key = !key {
			if pos >= len(data) {
				return 0, syntaxErr(pos, "unexpected end of data")
			}
			if data[pos] == 'e' {
				if c == 'd' && !key {
					return 0, syntaxErr(pos, "dictionary key without value")
				}
				return pos + 1, nil
			}
			if c == 'd' && key && (data[pos] < '0' || data[pos] > '9') {
				return 0, syntaxErr(pos, "dictionary key is not a string")
			}
			end, err := scanValue(data, pos, depth+1)
			if err != nil {
				return 0, err
			}
			pos = end
		}
	default:
		return 0, syntaxErr(pos, fmt.Sprintf("invalid character %q", c))
	}
}

// scanInt reads an optionally negative decimal number starting at pos and
// ending with the byte term, which must follow at least one digit. It
// returns the number and the offset just past term. As in libtorrent, an
// integer value ('e' term) may have up to 20 digits, leading zeros
// included, even if it does not fit in an int64: it is then reported with
// errRange, and int() treats it as absent. String lengths must fit.
func scanInt(data []byte, pos int, term byte) (int64, int, error) {
	start := pos
	neg := false
	if term == 'e' && pos < len(data) && data[pos] == '-' {
		neg = true
		pos++
	}
	var n uint64
	digits := 0
	overflow := false
	for ; pos < len(data) && data[pos] >= '0' && data[pos] <= '9'; pos++ {
		d := uint64(data[pos] - '0')
		if n > (math.MaxInt64+1-d)/10 {
			overflow = true
		} else {
			n = n*10 + d
		}
		digits++
	}
	if digits == 0 {
		return 0, 0, syntaxErr(pos, "expected a digit")
	}
	if pos >= len(data) || data[pos] != term {
		return 0, 0, syntaxErr(pos, fmt.Sprintf("expected %q", term))
	}
	if term != 'e' || digits > 20 {
		if overflow || digits > 20 || n > math.MaxInt64 {
			return 0, 0, syntaxErr(start, "integer overflow")
		}
	}
	switch {
	case overflow || (!neg && n > math.MaxInt64):
		return 0, pos + 1, errRange
	case neg && n == 1<<63:
		return math.MinInt64, pos + 1, nil
	case neg:
		return -int64(n), pos + 1, nil
	}
	return int64(n), pos + 1, nil
}

// errRange reports an integer value that does not fit in an int64.
var errRange = errors.New("integer out of range")

// scanString reads the string starting at pos (its length prefix) and
// returns its content and the offset just past it.
func scanString(data []byte, pos int) ([]byte, int, error) {
	n, p, err := scanInt(data, pos, ':')
	if err != nil {
		return nil, 0, err
	}
	if n > int64(len(data)-p) {
		return nil, 0, syntaxErr(pos, fmt.Sprintf("string of %d bytes runs past the end of the data", n))
	}
	return data[p : p+int(n)], p + int(n), nil
}

// readPrefix checks the value at the start of data and returns it; bytes
// after it are ignored.
func readPrefix(data []byte) (bval, error) {
	end, err := scanValue(data, 0, 0)
	if err != nil {
		return nil, err
	}
	return bval(data[:end]), nil
}

// next returns the value that starts at v[pos] and the offset after it. v
// must be valid, which makes the scan infallible.
func (v bval) next(pos int) (bval, int) {
	end, err := scanValue(v, pos, 0)
	if err != nil {
		return nil, len(v) // unreachable for a valid v
	}
	return v[pos:end], end
}

// isDict, isList, isString and isInt report v's type.
func (v bval) isDict() bool   { return len(v) > 0 && v[0] == 'd' }
func (v bval) isList() bool   { return len(v) > 0 && v[0] == 'l' }
func (v bval) isString() bool { return len(v) > 0 && v[0] >= '0' && v[0] <= '9' }
func (v bval) isInt() bool    { return len(v) > 0 && v[0] == 'i' }

// str returns v's content if it is a string.
func (v bval) str() (string, bool) {
	if !v.isString() {
		return "", false
	}
	s, _, err := scanString(v, 0)
	return string(s), err == nil
}

// int returns v's value if it is an integer.
func (v bval) int() (int64, bool) {
	if !v.isInt() {
		return 0, false
	}
	n, _, err := scanInt(v, 1, 'e')
	return n, err == nil
}

// list returns the elements of v if it is a list.
func (v bval) list() ([]bval, bool) {
	if !v.isList() {
		return nil, false
	}
	var out []bval
	for pos := 1; pos < len(v) && v[pos] != 'e'; {
		var e bval
		e, pos = v.next(pos)
		out = append(out, e)
	}
	return out, true
}

// dict returns the entries of v if it is a dictionary. When a key repeats,
// its first value is kept, as libtorrent does.
func (v bval) dict() (map[string]bval, bool) {
	if !v.isDict() {
		return nil, false
	}
	out := make(map[string]bval)
	for pos := 1; pos < len(v) && v[pos] != 'e'; {
		var k, val bval
		k, pos = v.next(pos)
		val, pos = v.next(pos)
		key, _ := k.str()
		if _, dup := out[key]; !dup {
			out[key] = val
		}
	}
	return out, true
}
