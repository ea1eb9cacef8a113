package benchkit

import (
	"crypto/sha1"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1GiB", 1 << 30, true},
		{"64MiB", 64 << 20, true},
		{"256M", 256 << 20, true},
		{"512KiB", 512 << 10, true},
		{"12345", 12345, true},
		{"100B", 100, true},
		{"", 0, false},
		{"-1MiB", 0, false},
		{"1.5GiB", 0, false},
		{"9999999GiB", 0, false},
		{"MiB", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestAnnounceAndInfoHash(t *testing.T) {
	info := "d6:lengthi5e4:name1:x12:piece lengthi32768e6:pieces20:" + strings.Repeat("a", 20) + "e"
	template := []byte("d8:announce27:" + PlaceholderAnnounce + "10:created by3:abc4:info" + info + "e")
	want := sha1.Sum([]byte(info))
	h, err := InfoHash(template)
	if err != nil || h != want {
		t.Fatalf("InfoHash(template) = %x, %v; want %x", h, err, want)
	}
	url := "http://127.0.0.1:40000/announce"
	got, err := WithAnnounce(template, url)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), "d8:announce31:"+url+"10:created by") {
		t.Fatalf("withAnnounce: %q", got)
	}
	if h, err := InfoHash(got); err != nil || h != want {
		t.Fatalf("info hash changed by withAnnounce: %x, %v", h, err)
	}
	if _, err := WithAnnounce([]byte("d4:infod"+"ee"), url); err == nil {
		t.Fatal("withAnnounce accepted a template without the placeholder")
	}
}

func TestInfoHashRejectsBadInput(t *testing.T) {
	for _, in := range []string{"", "l", "d", "d4:info", "d4:infoi1", "d3:abc", "d99:x", "d4:infod3:abcx", "de", "d1:ai1ee"} {
		if _, err := InfoHash([]byte(in)); err == nil {
			t.Errorf("InfoHash(%q) succeeded", in)
		}
	}
}

func FuzzInfoHash(f *testing.F) {
	f.Add([]byte("d8:announce3:abc4:infod4:name1:xee"))
	f.Add([]byte("d4:infoli1ei2eee"))
	f.Add([]byte("d1:a99999999999999999999:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = InfoHash(b) // must not panic
	})
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	payload := make([]byte, 9<<20+123) // spans several 4 MiB blocks
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := write("payload", payload)
	flipped := append([]byte(nil), payload...)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name     string
		data     []byte
		mismatch bool
	}{
		{"identical", payload, false},
		{"last byte differs", flipped, true},
		{"short", payload[:len(payload)-1], true},
		{"long", append(append([]byte(nil), payload...), 0), true},
		{"empty", nil, true},
	}
	for _, tc := range tests {
		err := Verify(write(tc.name, tc.data), want)
		if tc.mismatch != errors.Is(err, ErrMismatch) || (!tc.mismatch && err != nil) {
			t.Errorf("%s: verify = %v", tc.name, err)
		}
	}
	if err := Verify(filepath.Join(dir, "missing"), want); !errors.Is(err, ErrMismatch) {
		t.Errorf("missing file: verify = %v", err)
	}
}

// TestChildRSSFloorIsLowered: a child's ru_maxrss starts from this
// process's RSS at the fork. After this process has touched 64 MiB and let
// it go, a child started through StartProc must not report those 64 MiB as
// its own peak (it did before the benchmark lowered its floor).
func TestChildRSSFloorIsLowered(t *testing.T) {
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		t.Skip("no /proc/self/clear_refs:", err)
	}
	big := make([]byte, 64<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	runtime.KeepAlive(big)
	big = nil
	p, err := StartProc("true", t.TempDir(), t.TempDir(), "/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	_, _, rss := p.Usage()
	if rss >= 48<<20 {
		t.Fatalf("/bin/true reported a peak RSS of %d MiB: the benchmark's own memory", rss>>20)
	}
	if f := MaxRSSFloor(); f <= 0 || f >= 48<<20 {
		t.Fatalf("noted floor %d bytes, want this test's RSS after it freed its 64 MiB", f)
	}
}

func TestMedianAndFmtSize(t *testing.T) {
	if !math.IsNaN(Median(nil)) || Median([]float64{3, 1, 2}) != 2 || Median([]float64{4, 1, 2, 3}) != 2.5 {
		t.Error("Median is wrong")
	}
	for _, n := range []int64{1 << 30, 3 << 20, 12345} {
		if got, err := ParseSize(FmtSize(n)); err != nil || got != n {
			t.Errorf("ParseSize(FmtSize(%d)) = %d, %v", n, got, err)
		}
	}
}
