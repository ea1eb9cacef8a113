package bencode

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDecoderSuccessiveValues(t *testing.T) {
	in := "i1e3:abcli2eed1:ai3ee"
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(in),
		"one byte": iotest.OneByteReader(strings.NewReader(in)),
	} {
		t.Run(name, func(t *testing.T) {
			d := NewDecoder(r)
			var got []any
			for {
				var v any
				err := d.Decode(&v)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			want := []any{int64(1), "abc", []any{int64(2)}, map[string]any{"a": int64(3)}}
			if len(got) != len(want) {
				t.Fatalf("got %v", got)
			}
			for i := range want {
				b1, _ := Marshal(got[i])
				b2, _ := Marshal(want[i])
				if !bytes.Equal(b1, b2) {
					t.Fatalf("value %d: got %#v, want %#v", i, got[i], want[i])
				}
			}
			if d.InputOffset() != int64(len(in)) {
				t.Fatalf("InputOffset %d, want %d", d.InputOffset(), len(in))
			}
			// EOF is sticky.
			if err := d.Decode(new(any)); err != io.EOF {
				t.Fatalf("after EOF: %v", err)
			}
		})
	}
}

func TestDecoderOffsetsCountFromStreamStart(t *testing.T) {
	d := NewDecoder(strings.NewReader("i1e4:spami03e"))
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	err := d.Decode(&v)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 10 {
		t.Fatalf("got %v, want syntax error at offset 10", err)
	}
	// Syntax errors are sticky.
	if err2 := d.Decode(&v); err2 != err {
		t.Fatalf("second Decode: %v, want the same error", err2)
	}
}

func TestDecoderTypeErrorNotSticky(t *testing.T) {
	d := NewDecoder(strings.NewReader("3:abci7e"))
	var n int
	err := d.Decode(&n)
	var te *UnmarshalTypeError
	if !errors.As(err, &te) || te.Offset != 0 {
		t.Fatalf("got %v, want type error at offset 0", err)
	}
	if err := d.Decode(&n); err != nil || n != 7 {
		t.Fatalf("after type error: n=%d err=%v", n, err)
	}
}

func TestDecoderUnexpectedEOF(t *testing.T) {
	for _, in := range []string{"l", "li1e", "i12", "5:ab", "d1:a"} {
		err := NewDecoder(strings.NewReader(in)).Decode(new(any))
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, io.ErrUnexpectedEOF) || se.Offset != int64(len(in)) {
			t.Fatalf("%q: got %v, want unexpected EOF at offset %d", in, err, len(in))
		}
	}
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("li1e"), iotest.ErrReader(boom))
	err := NewDecoder(r).Decode(new(any))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "offset 4") {
		t.Fatalf("got %v, want wrapped read error at offset 4", err)
	}
}

func TestDecoderMaxStringLength(t *testing.T) {
	d := NewDecoder(strings.NewReader("i1e11:hello world"))
	d.SetMaxStringLength(10)
	if err := d.Decode(new(any)); err != nil {
		t.Fatal(err)
	}
	err := d.Decode(new(any))
	var se *SyntaxError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &se) || se.Offset != 3 {
		t.Fatalf("got %v, want ErrTooLarge at offset 3", err)
	}
	// At the limit is fine.
	d = NewDecoder(strings.NewReader("10:helloworld"))
	d.SetMaxStringLength(10)
	var s string
	if err := d.Decode(&s); err != nil || s != "helloworld" {
		t.Fatalf("got %q, %v", s, err)
	}
}

func TestDecoderMaxValueSize(t *testing.T) {
	// An endless list of small items must stop at the value limit.
	endless := io.MultiReader(strings.NewReader("l"), &repeatReader{s: "i0e"})
	d := NewDecoder(endless)
	d.SetMaxValueSize(1 << 16)
	if err := d.Decode(new(any)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	// Endless nesting stops at MaxDepth.
	if err := NewDecoder(&repeatReader{s: "l"}).Decode(new(any)); !errors.Is(err, ErrMaxDepth) {
		t.Fatalf("got %v, want ErrMaxDepth", err)
	}
	// An endless string length prefix stops too.
	if err := NewDecoder(&repeatReader{s: "0"}).Decode(new(any)); err == nil {
		t.Fatal("endless zeros accepted")
	}
	if err := NewDecoder(&repeatReader{s: "1"}).Decode(new(any)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if err := NewDecoder(io.MultiReader(strings.NewReader("i"), &repeatReader{s: "1"})).Decode(new(any)); err == nil {
		t.Fatal("endless integer accepted")
	}
}

// TestDecoderClaimedLengthDoesNotAllocate checks that a string length prefix
// costs memory only for bytes that actually arrive.
func TestDecoderClaimedLengthDoesNotAllocate(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := NewDecoder(strings.NewReader("60000000:abc")).Decode(new(any))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want unexpected EOF", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("allocated %d bytes for a 3-byte string", grew)
	}
}

func TestDecoderBuffered(t *testing.T) {
	d := NewDecoder(strings.NewReader("d1:ai1ee\x00\x01rest"))
	var m map[string]int
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(d.Buffered())
	if string(rest) != "\x00\x01rest" {
		t.Fatalf("Buffered = %q", rest)
	}
}

func TestDecoderLargeString(t *testing.T) {
	payload := strings.Repeat("x", 300<<10) // several read chunks
	var b []byte
	if err := NewDecoder(strings.NewReader(bstr(payload))).Decode(&b); err != nil || string(b) != payload {
		t.Fatalf("len %d, %v", len(b), err)
	}
}

func TestEncoderWriteError(t *testing.T) {
	boom := errors.New("boom")
	err := NewEncoder(errWriter{boom}).Encode(1)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func TestEncoderDecoderStream(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	for i := range 3 {
		if err := e.Encode(map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	d := NewDecoder(&buf)
	for i := range 3 {
		var m map[string]int
		if err := d.Decode(&m); err != nil || m["i"] != i {
			t.Fatalf("value %d: %v, %v", i, m, err)
		}
	}
}

// repeatReader yields s over and over, forever.
type repeatReader struct {
	s   string
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.s[r.off]
		r.off = (r.off + 1) % len(r.s)
	}
	return len(p), nil
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }
