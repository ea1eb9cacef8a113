package bencode

import (
	"errors"
	"strings"
	"testing"
)

// TestSyntax checks every syntax rule on both Unmarshal and the streaming
// Decoder, including the offset each error reports.
func TestSyntax(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("l", n) + strings.Repeat("e", n) }
	tests := []struct {
		name    string
		in      string
		wantOff int64 // -1: valid
		wantErr error // optional sentinel the error must wrap
	}{
		{"empty input", "", 0, nil},
		{"zero", "i0e", -1, nil},
		{"negative", "i-42e", -1, nil},
		{"max int64", "i9223372036854775807e", -1, nil},
		{"min int64", "i-9223372036854775808e", -1, nil},
		{"int unterminated", "i12", 3, nil},
		{"int only i", "i", 1, nil},
		{"int empty", "ie", 1, nil},
		{"int bare minus", "i-e", 2, nil},
		{"int leading zero", "i03e", 1, nil},
		{"int double zero", "i00e", 1, nil},
		{"int negative zero", "i-0e", 1, nil},
		{"int negative leading zero", "i-03e", 1, nil},
		{"int plus sign", "i+1e", 1, nil},
		{"int bad char", "i1x2e", 2, nil},
		{"int space", "i 1e", 1, nil},
		{"int overflow", "i9223372036854775808e", 1, nil},
		{"int negative overflow", "i-9223372036854775809e", 1, nil},
		{"int huge", "i" + strings.Repeat("9", 100) + "e", 1, nil},
		{"empty string", "0:", -1, nil},
		{"string", "4:spam", -1, nil},
		{"string binary", "3:\x00\xff:", -1, nil},
		{"string leading zero", "03:abc", 0, nil},
		{"string zero leading zero", "00:", 0, nil},
		{"string negative length", "-3:abc", 0, nil},
		{"string too long for input", "5:abc", 0, nil},
		{"string huge length", "9999999999:abc", 0, nil},
		{"string length overflow", strings.Repeat("9", 30) + ":", 0, nil},
		{"string missing colon", "3abc", 1, nil},
		{"string length only", "12", 2, nil},
		{"list empty", "le", -1, nil},
		{"list", "li1e4:spamlee", -1, nil},
		{"list unterminated", "li1e", 4, nil},
		{"list open", "l", 1, nil},
		{"list bad element", "li1ex", 4, nil},
		{"dict empty", "de", -1, nil},
		{"dict", "d3:cow3:moo4:spam4:eggse", -1, nil},
		{"dict unsorted accepted", "d1:bi1e1:ai2ee", -1, nil},
		{"dict duplicate accepted", "d1:ai1e1:ai2ee", -1, nil},
		{"dict int key", "di1ei2ee", 1, nil},
		{"dict list key", "dlei2ee", 1, nil},
		{"dict missing value", "d1:ae", 4, nil},
		{"dict unterminated", "d1:ai1e", 7, nil},
		{"dict key truncated", "d5:ab", 1, nil},
		{"bad first byte", "x", 0, nil},
		{"end marker alone", "e", 0, nil},
		{"trailing value", "i1ei2e", 3, ErrTrailingData},
		{"trailing space", "le ", 2, ErrTrailingData},
		{"depth at limit", deep(MaxDepth), -1, nil},
		{"depth over limit", deep(MaxDepth + 1), MaxDepth, ErrMaxDepth},
		{"dict depth over limit", strings.Repeat("d1:a", MaxDepth) + "d1:ai1e" + strings.Repeat("e", MaxDepth+1), MaxDepth * 4, ErrMaxDepth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			err := Unmarshal([]byte(tc.in), &v)
			checkSyntaxErr(t, "Unmarshal", err, tc.wantOff, tc.wantErr)
		})
	}
}

func checkSyntaxErr(t *testing.T, who string, err error, wantOff int64, wantErr error) {
	t.Helper()
	if wantOff < 0 {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", who, err)
		}
		return
	}
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%s: got %v (%T), want *SyntaxError", who, err, err)
	}
	if se.Offset != wantOff {
		t.Fatalf("%s: error %q at offset %d, want offset %d", who, err, se.Offset, wantOff)
	}
	if wantErr != nil && !errors.Is(err, wantErr) {
		t.Fatalf("%s: error %v does not wrap %v", who, err, wantErr)
	}
	if !strings.HasPrefix(err.Error(), "bencode: ") || !strings.HasSuffix(err.Error(), " at offset "+itoa(wantOff)) {
		t.Fatalf("%s: error text %q not in the form \"bencode: <msg> at offset N\"", who, err)
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// TestNoPartialWriteOnSyntaxError checks that Unmarshal validates before it
// stores anything.
func TestNoPartialWriteOnSyntaxError(t *testing.T) {
	var v struct {
		A int `bencode:"a"`
	}
	err := Unmarshal([]byte("d1:ai5e1:bi03ee"), &v)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 11 {
		t.Fatalf("got %v, want syntax error at offset 11", err)
	}
	if v.A != 0 {
		t.Fatalf("target modified before the syntax error was found: A=%d", v.A)
	}
}
