package qbittorrent

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gobit/gobit/internal/api/jsonenc"
)

// The torrent lists (torrents/info, sync/maindata) hold thousands of
// torrent objects of some 50 fields each. They are typed values here,
// written by appendJSON: the same bytes an encoding/json Encoder with
// SetEscapeHTML(false) wrote when they were maps, without sorting each
// map's keys by reflection.

// kind is the type of a field's value.
type kind uint8

const (
	kindNone kind = iota // absent
	kindInt
	kindFloat
	kindBool
	kindString
)

// value is one field's value; comparable, so that a maindata diff
// compares two with ==.
type value struct {
	s string
	n int64 // kindInt; kindBool 0 or 1; kindFloat its bits
	k kind
}

func (v value) float() float64 { return math.Float64frombits(uint64(v.n)) }

// val makes the value of a field.
func val[T int | int64 | float64 | bool | string](x T) value {
	switch y := any(x).(type) {
	case int:
		return value{k: kindInt, n: int64(y)}
	case int64:
		return value{k: kindInt, n: y}
	case float64:
		return value{k: kindFloat, n: int64(math.Float64bits(y))}
	case bool:
		v := value{k: kindBool}
		if y {
			v.n = 1
		}
		return v
	case string:
		return value{k: kindString, s: y}
	}
	return value{}
}

// anyValue returns v as encoding/json would have had it: nil when absent.
func (v value) anyValue() any {
	switch v.k {
	case kindInt:
		return v.n
	case kindFloat:
		return v.float()
	case kindBool:
		return v.n != 0
	case kindString:
		return v.s
	}
	return nil
}

// appendValue appends v as JSON; an error for a float JSON cannot hold.
func appendValue(b []byte, v value) ([]byte, error) {
	switch v.k {
	case kindInt:
		return strconv.AppendInt(b, v.n, 10), nil
	case kindFloat:
		if f := v.float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return jsonenc.AppendValue(b, f, false) // encoding/json's error
		}
		return jsonenc.AppendFloat(b, v.float()), nil
	case kindBool:
		return strconv.AppendBool(b, v.n != 0), nil
	case kindString:
		return jsonenc.AppendStringNoHTML(b, v.s), nil
	}
	return append(b, "null"...), nil
}

// appendTorrent appends t's present fields as a JSON object.
func appendTorrent(b []byte, t *torrent) ([]byte, error) {
	b = append(b, '{')
	first := true
	var err error
	for i := range t {
		if t[i].k == kindNone {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, torrentKeys[i]...) // plain ASCII names
		b = append(b, '"', ':')
		if b, err = appendValue(b, t[i]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// changedTorrent returns the fields of cur that differ from old (or that
// old lacks), and whether there is any.
func changedTorrent(old, cur *torrent) (torrent, bool) {
	var out torrent
	some := false
	for i := range cur {
		if cur[i].k != kindNone && old[i] != cur[i] {
			out[i], some = cur[i], true
		}
	}
	return out, some
}

// fieldIndex returns the index of the field named name, -1 for none.
func fieldIndex(name string) int {
	for i, k := range torrentKeys {
		if k == name {
			return i
		}
	}
	return -1
}

// compareFields orders two values of a field as compareValues orders
// them: numbers (and booleans) by value, strings without regard to case,
// an absent value first.
func compareFields(a, b value) int {
	num := func(v value) (float64, bool) {
		switch v.k {
		case kindInt, kindBool:
			return float64(v.n), true
		case kindFloat:
			return v.float(), true
		}
		return 0, false
	}
	na, aNum := num(a)
	nb, bNum := num(b)
	switch {
	case aNum && bNum:
		return cmp.Compare(na, nb)
	case a.k == kindNone || b.k == kindNone:
		return cmp.Compare(boolInt(a.k != kindNone), boolInt(b.k != kindNone))
	}
	if c := cmp.Compare(strings.ToLower(a.s), strings.ToLower(b.s)); c != 0 {
		return c
	}
	return cmp.Compare(a.s, b.s)
}

// appendJSON appends v as JSON, as an Encoder with SetEscapeHTML(false)
// writes it; the maps and lists of torrents the lists are made of are
// walked here, anything else left to encoding/json.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case torrent:
		return appendTorrent(b, &x)
	case *torrent:
		return appendTorrent(b, x)
	case []torrent:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		var err error
		for i := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendTorrent(b, &x[i]); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		return appendMap(b, x)
	case map[string]*torrent:
		return appendMap(b, x)
	}
	return jsonenc.AppendValue(b, v, false)
}

// appendMap appends m as an object with its keys sorted, as encoding/json
// writes a map.
func appendMap[V any](b []byte, m map[string]V) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendStringNoHTML(b, k)
		b = append(b, ':')
		if b, err = appendJSON(b, any(m[k])); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
