package bencode

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type tagged struct {
	Name    string  `bencode:"name"`
	Length  int64   `bencode:"length,omitempty"`
	Skipped string  `bencode:"-"`
	Plain   int     // key "Plain"
	Ptr     *string `bencode:"ptr"`
	//lint:ignore U1000 an unexported field the decoder must skip ("7:private" in the input)
	private int
}

type Embedded struct {
	E     int `bencode:"e"`
	Shade int `bencode:"name"` // hidden by the outer field
}

type withEmbedded struct {
	Embedded
	Name string `bencode:"name"`
}

type withEmbeddedPtr struct {
	*Embedded
	X int `bencode:"x"`
}

type upper struct{ s string }

func (u *upper) UnmarshalBencode(b []byte) error {
	var s string
	if err := Unmarshal(b, &s); err != nil {
		return err
	}
	u.s = strings.ToUpper(s)
	return nil
}

type failing struct{}

var errFailing = errors.New("failing")

func (*failing) UnmarshalBencode([]byte) error { return errFailing }

func strp(s string) *string { return &s }

// TestDecodeTypes checks how each bencode value is stored into each Go kind.
func TestDecodeTypes(t *testing.T) {
	type (
		myString string
		myBytes  []byte
	)
	tests := []struct {
		name string
		in   string
		new  func() any // returns a pointer to decode into
		want any        // expected pointee; ignored when wantOff >= 0
		// wantOff >= 0 expects an *UnmarshalTypeError at that offset.
		wantOff int64
	}{
		{"any int", "i42e", func() any { return new(any) }, any(int64(42)), -1},
		{"any string", "3:abc", func() any { return new(any) }, any("abc"), -1},
		{"any list", "li1e1:ae", func() any { return new(any) }, any([]any{int64(1), "a"}), -1},
		{"any empty list", "le", func() any { return new(any) }, any([]any{}), -1},
		{"any dict", "d1:ali1eee", func() any { return new(any) }, any(map[string]any{"a": []any{int64(1)}}), -1},
		{"any dict duplicate last wins", "d1:ai1e1:ai2ee", func() any { return new(any) }, any(map[string]any{"a": int64(2)}), -1},
		{"int", "i-5e", func() any { return new(int) }, -5, -1},
		{"int8 max", "i127e", func() any { return new(int8) }, int8(127), -1},
		{"int8 overflow", "i128e", func() any { return new(int8) }, nil, 0},
		{"int8 underflow", "i-129e", func() any { return new(int8) }, nil, 0},
		{"int16", "i-32768e", func() any { return new(int16) }, int16(-32768), -1},
		{"int32 overflow", "i2147483648e", func() any { return new(int32) }, nil, 0},
		{"int64 min", "i-9223372036854775808e", func() any { return new(int64) }, int64(-1 << 63), -1},
		{"uint8", "i255e", func() any { return new(uint8) }, uint8(255), -1},
		{"uint8 overflow", "i256e", func() any { return new(uint8) }, nil, 0},
		{"uint negative", "i-1e", func() any { return new(uint) }, nil, 0},
		{"uint32", "i4294967295e", func() any { return new(uint32) }, uint32(4294967295), -1},
		{"uint64", "i9223372036854775807e", func() any { return new(uint64) }, uint64(1<<63 - 1), -1},
		{"bool true", "i1e", func() any { return new(bool) }, true, -1},
		{"bool false", "i0e", func() any { return new(bool) }, false, -1},
		{"bool nonzero", "i-7e", func() any { return new(bool) }, true, -1},
		{"bool from string", "1:1", func() any { return new(bool) }, nil, 0},
		{"int from string", "1:1", func() any { return new(int) }, nil, 0},
		{"float unsupported", "i1e", func() any { return new(float64) }, nil, 0},
		{"string", "4:spam", func() any { return new(string) }, "spam", -1},
		{"named string", "4:spam", func() any { return new(myString) }, myString("spam"), -1},
		{"string from int", "i1e", func() any { return new(string) }, nil, 0},
		{"bytes", "3:a\x00b", func() any { return new([]byte) }, []byte("a\x00b"), -1},
		{"empty bytes", "0:", func() any { return new([]byte) }, []byte{}, -1},
		{"named bytes", "2:hi", func() any { return new(myBytes) }, myBytes("hi"), -1},
		{"array bytes", "4:abcd", func() any { return new([4]byte) }, [4]byte{'a', 'b', 'c', 'd'}, -1},
		{"array bytes short", "3:abc", func() any { return new([4]byte) }, nil, 0},
		{"array bytes long", "5:abcde", func() any { return new([4]byte) }, nil, 0},
		{"bytes from list", "li1ee", func() any { return new([]byte) }, nil, 0},
		{"slice", "li1ei2ee", func() any { return new([]int) }, []int{1, 2}, -1},
		{"empty slice", "le", func() any { return new([]int) }, []int{}, -1},
		{"slice of strings", "l1:a2:bce", func() any { return new([]string) }, []string{"a", "bc"}, -1},
		{"slice bad element", "li1e1:ae", func() any { return new([]int) }, nil, 4},
		{"array", "li1ei2ee", func() any { return new([2]int) }, [2]int{1, 2}, -1},
		{"array short", "li1ee", func() any { return new([2]int) }, nil, 0},
		{"array long", "li1ei2ei3ee", func() any { return new([2]int) }, nil, 0},
		{"slice from dict", "de", func() any { return new([]int) }, nil, 0},
		{"nested slice", "lli1eelee", func() any { return new([][]int) }, [][]int{{1}, {}}, -1},
		{"map", "d1:ai1e1:bi2ee", func() any { return new(map[string]int) }, map[string]int{"a": 1, "b": 2}, -1},
		{"map named key", "d1:ai1ee", func() any { return new(map[myString]int) }, map[myString]int{"a": 1}, -1},
		{"map int key", "d1:ai1ee", func() any { return new(map[int]int) }, nil, 0},
		{"map bad value", "d1:a1:xe", func() any { return new(map[string]int) }, nil, 4},
		{"map from list", "le", func() any { return new(map[string]int) }, nil, 0},
		{"pointer", "i7e", func() any { return new(*int) }, func() *int { x := 7; return &x }(), -1},
		{"struct", "d6:lengthi9e4:name1:x5:Plaini3e3:ptr1:pe", func() any { return new(tagged) },
			tagged{Name: "x", Length: 9, Plain: 3, Ptr: strp("p")}, -1},
		{"struct unknown keys skipped", "d5:extrad1:xli1eee4:name1:x1:-i1e7:privatei1e7:Skipped1:se",
			func() any { return new(tagged) }, tagged{Name: "x"}, -1},
		{"struct keys are case sensitive", "d4:NAME1:x5:plaini1ee", func() any { return new(tagged) }, tagged{}, -1},
		{"struct unsorted keys", "d4:name1:x6:lengthi2ee", func() any { return new(tagged) }, tagged{Name: "x", Length: 2}, -1},
		{"struct duplicate last wins", "d4:name1:x4:name1:ye", func() any { return new(tagged) }, tagged{Name: "y"}, -1},
		{"struct field type error", "d6:length1:xe", func() any { return new(tagged) }, nil, 9},
		{"struct from list", "le", func() any { return new(tagged) }, nil, 0},
		{"embedded", "d1:ei1e4:name1:ne", func() any { return new(withEmbedded) },
			withEmbedded{Embedded: Embedded{E: 1}, Name: "n"}, -1},
		{"embedded pointer allocated", "d1:ei1e1:xi2ee", func() any { return new(withEmbeddedPtr) },
			withEmbeddedPtr{Embedded: &Embedded{E: 1}, X: 2}, -1},
		{"unmarshaler", "3:abc", func() any { return new(upper) }, upper{"ABC"}, -1},
		{"unmarshaler in slice", "l1:a1:be", func() any { return new([]upper) }, []upper{{"A"}, {"B"}}, -1},
		{"non-empty interface", "i1e", func() any { return new(error) }, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.new()
			err := Unmarshal([]byte(tc.in), p)
			if tc.wantOff >= 0 {
				var te *UnmarshalTypeError
				if !errors.As(err, &te) {
					t.Fatalf("got %v (%T), want *UnmarshalTypeError", err, err)
				}
				if te.Offset != tc.wantOff {
					t.Fatalf("error %q at offset %d, want %d", err, te.Offset, tc.wantOff)
				}
				if !strings.HasSuffix(err.Error(), " at offset "+itoa(tc.wantOff)) {
					t.Fatalf("error text %q lacks the offset", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			got := reflect.ValueOf(p).Elem().Interface()
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Run("non-pointer target", func(t *testing.T) {
		var x int
		for _, target := range []any{x, nil, (*int)(nil)} {
			if err := Unmarshal([]byte("i1e"), target); !errors.Is(err, ErrInvalidTarget) {
				t.Fatalf("Unmarshal into %T: got %v, want ErrInvalidTarget", target, err)
			}
			if _, err := DecodePrefix([]byte("i1e"), target); !errors.Is(err, ErrInvalidTarget) {
				t.Fatalf("DecodePrefix into %T: got %v, want ErrInvalidTarget", target, err)
			}
		}
	})
	t.Run("unmarshaler error wrapped with offset", func(t *testing.T) {
		var v struct {
			F failing `bencode:"f"`
		}
		err := Unmarshal([]byte("d1:fi1ee"), &v)
		if !errors.Is(err, errFailing) || !strings.Contains(err.Error(), "at offset 4") {
			t.Fatalf("got %v, want wrapped errFailing at offset 4", err)
		}
	})
}

func TestDecodeDoesNotAlias(t *testing.T) {
	in := []byte("d1:b2:xy1:s2:ab1:rl1:qee")
	var v struct {
		B []byte     `bencode:"b"`
		S string     `bencode:"s"`
		R RawMessage `bencode:"r"`
	}
	if err := Unmarshal(in, &v); err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'Z'
	}
	if string(v.B) != "xy" || v.S != "ab" || string(v.R) != "l1:qe" {
		t.Fatalf("decoded values alias the input: %q %q %q", v.B, v.S, v.R)
	}
}

func TestDecodeReusesExisting(t *testing.T) {
	// Decoding into a non-nil pointer held in an interface fills the pointee.
	var n int
	var v any = &n
	if err := Unmarshal([]byte("i5e"), &v); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("n = %d, want 5", n)
	}
	// A slice is overwritten, not appended to.
	s := []int{9, 9, 9}
	if err := Unmarshal([]byte("li1ee"), &s); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, []int{1}) {
		t.Fatalf("s = %v, want [1]", s)
	}
}

func TestDecodePrefix(t *testing.T) {
	msg := []byte("d8:msg_typei1e5:piecei0e10:total_sizei3ee\x01\x02\x03")
	var h struct {
		MsgType int `bencode:"msg_type"`
		Piece   int `bencode:"piece"`
		Total   int `bencode:"total_size"`
	}
	n, err := DecodePrefix(msg, &h)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(msg)-3 || !bytes.Equal(msg[n:], []byte{1, 2, 3}) {
		t.Fatalf("n = %d, want %d", n, len(msg)-3)
	}
	if h.MsgType != 1 || h.Total != 3 {
		t.Fatalf("decoded %+v", h)
	}
	// Errors still carry offsets, and n is 0.
	n, err = DecodePrefix([]byte("d1:ai01ee"), &h)
	var se *SyntaxError
	if n != 0 || !errors.As(err, &se) || se.Offset != 5 {
		t.Fatalf("got n=%d err=%v, want 0 and a syntax error at offset 5", n, err)
	}
	// An exact value is fine too.
	if n, err := DecodePrefix([]byte("le"), new(any)); n != 2 || err != nil {
		t.Fatalf("got %d, %v", n, err)
	}
}
