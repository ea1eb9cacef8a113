package interop

import (
	"net/url"
	"testing"
)

// TestLogBufferLine checks the line lookup the waits rely on: only complete
// lines match, and the whole line is returned.
func TestLogBufferLine(t *testing.T) {
	tests := []struct {
		name, out, substr, want string
		ok                      bool
	}{
		{"first line", "READY port=5\nSTATUS x\n", "READY", "READY port=5", true},
		{"middle of a line", "a\nPEER 1.2.3.4:5 client='x'\nb\n", "client=", "PEER 1.2.3.4:5 client='x'", true},
		{"incomplete line", "STATUS\nCOMPLETE secs=1", "COMPLETE", "", false},
		{"absent", "READY\n", "COMPLETE", "", false},
		{"first of several", "X 1\nX 2\n", "X", "X 1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b logBuffer
			b.Write([]byte(tt.out))
			got, ok := b.Line(tt.substr)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Line(%q) = %q, %v; want %q, %v", tt.substr, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestLogBufferBounded checks that output beyond maxLog is counted, not kept.
func TestLogBufferBounded(t *testing.T) {
	var b logBuffer
	chunk := make([]byte, 64<<10)
	for range 2 * maxLog / len(chunk) {
		if n, err := b.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if b.buf.Len() > maxLog || b.dropped == 0 {
		t.Errorf("kept %d bytes, dropped %d", b.buf.Len(), b.dropped)
	}
	if tail := b.Tail(100); len(tail) > 200 {
		t.Errorf("Tail(100) returned %d bytes", len(tail))
	}
}

// TestPercentEncode checks the scrape query encoding, in particular that a
// space does not become "+".
func TestPercentEncode(t *testing.T) {
	in := []byte{' ', '+', 0, 0xff, 'a'}
	got := percentEncode(in)
	if got != "%20%2B%00%FFa" && got != "%20%2B%00%FF%61" {
		t.Errorf("percentEncode = %q", got)
	}
	back, err := url.PathUnescape(got)
	if err != nil || back != string(in) {
		t.Errorf("round trip: %q, %v", back, err)
	}
}
