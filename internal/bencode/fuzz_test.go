package bencode

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func addSeeds(f *testing.F) {
	for _, s := range []string{
		"", "i0e", "i-1e", "i03e", "i-0e", "i9223372036854775807e", "i9223372036854775808e",
		"0:", "4:spam", "03:abc", "5:abc", "le", "li1e4:spame", "de",
		"d3:cow3:moo4:spam4:eggse", "d1:bi1e1:ai2ee", "d1:ai1e1:ai2ee", "di1ei2ee",
		"llllllllllleeeeeeeeeee", "d4:infod4:name1:x6:lengthi1eee",
		"d8:msg_typei1e5:piecei0ee\x00\x01",
		realTorrent,
		string(makeTorrent(3)),
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecode feeds arbitrary input to every decoding entry point: none may
// panic, they must agree on what is valid, and a value decoded into any must
// survive re-encoding unchanged.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := Unmarshal(data, &v)

		var raw RawMessage
		rawErr := Unmarshal(data, &raw)
		if (err == nil) != (rawErr == nil) {
			t.Fatalf("Unmarshal into any: %v; into RawMessage: %v", err, rawErr)
		}
		if (err == nil) != (validValue(data) == nil) {
			t.Fatalf("Unmarshal %v disagrees with validValue", err)
		}
		n, prefixErr := DecodePrefix(data, new(any))
		if err == nil && (prefixErr != nil || n != len(data)) {
			t.Fatalf("DecodePrefix: n=%d err=%v on valid input", n, prefixErr)
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > int64(len(data)) {
				t.Fatalf("error %v has no valid offset", err)
			}
			return
		}
		if !bytes.Equal(raw, data) {
			t.Fatalf("RawMessage %q differs from input", raw)
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Fatalf("re-encoding a decoded value: %v", err)
		}
		var v2 any
		if err := Unmarshal(enc, &v2); err != nil {
			t.Fatalf("decoding re-encoded %q: %v", enc, err)
		}
		if !reflect.DeepEqual(v, v2) {
			t.Fatalf("round trip changed %#v to %#v", v, v2)
		}
		enc2, _ := Marshal(v2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %q vs %q", enc, enc2)
		}
	})
}

// FuzzRoundTrip decodes arbitrary input into torrent-shaped structs; what
// decodes must encode, and decode again to an equal value.
func FuzzRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var tr testTorrent
		if err := Unmarshal(data, &tr); err != nil {
			return
		}
		enc, err := Marshal(tr)
		if err != nil {
			t.Fatalf("Marshal of decoded torrent: %v", err)
		}
		var tr2 testTorrent
		if err := Unmarshal(enc, &tr2); err != nil {
			t.Fatalf("decoding re-encoded %q: %v", enc, err)
		}
		enc2, err := Marshal(tr2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("second encoding differs: %q vs %q (%v)", enc, enc2, err)
		}
		var tr3 testTorrent
		if err := Unmarshal(enc2, &tr3); err != nil || !reflect.DeepEqual(tr2, tr3) {
			t.Fatalf("decoded values differ after round trip (%v)", err)
		}
		if !looseEqual(reflect.ValueOf(tr), reflect.ValueOf(tr2)) {
			t.Fatalf("round trip changed %+v to %+v", tr, tr2)
		}

		var raw testTorrentRaw
		if err := Unmarshal(data, &raw); err != nil {
			t.Fatalf("raw shape failed where full shape decoded: %v", err)
		}
		encRaw, err := Marshal(raw)
		if err != nil {
			t.Fatalf("Marshal raw: %v", err)
		}
		var raw2 testTorrentRaw
		if err := Unmarshal(encRaw, &raw2); err != nil || !looseEqual(reflect.ValueOf(raw), reflect.ValueOf(raw2)) {
			t.Fatalf("raw round trip: %v", err)
		}
	})
}

// looseEqual is reflect.DeepEqual except that nil and empty slices and maps
// are equal: bencode cannot tell them apart once omitempty drops them or a
// nil slice is written as an empty list.
func looseEqual(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !looseEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() || !looseEqual(a.MapIndex(k), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !looseEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return looseEqual(a.Elem(), b.Elem())
	default:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
}
