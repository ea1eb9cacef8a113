package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestAppendValueMatchesEncodingJSON: every kind of value AppendValue
// appends itself comes out as encoding/json writes it, with and without
// HTML escaping.
func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	values := []any{
		"plain", "<script>&\"quote\"\\ \n\t\r\b\f\x01\x1f\x7f", "bad utf8 \xff\xfe end, 日本語 ok", "\u2028\u2029", "",
		true, false, 0, -1, 1 << 40, int64(-1 << 62), int32(7), 0.0, 1.0, -0.5, 1e-6, 9.99e-7, 1e20, 1e21, 12345.678, 3e-10,
		[]string{"a", "<b>", ""}, []string{}, []string(nil), nil,
		map[string]any{"z": 1, "a": "<&>"}, []int{1, 2}, time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
	}
	for _, html := range []bool{true, false} {
		for _, v := range values {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(html)
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			got, err := AppendValue([]byte("x"), v, html)
			if err != nil {
				t.Fatalf("%#v: %v", v, err)
			}
			if w := append([]byte("x"), bytes.TrimSuffix(want.Bytes(), []byte("\n"))...); !bytes.Equal(got, w) {
				t.Errorf("html %v: AppendValue(%#v) = %s, want %s", html, v, got, w)
			}
		}
	}
}
