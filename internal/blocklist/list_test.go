package blocklist

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, s string) (*List, Stats) {
	t.Helper()
	l, st, err := Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return l, st
}

func TestFormats(t *testing.T) {
	const input = `# a comment
// another
001.002.003.004 - 001.002.003.010 , 000 , eMule range
10.0.0.0 - 10.0.0.255 , 200 , allowed by level
Some Org, Inc:5.6.7.0-5.6.7.255
v6 org:2001:db8::-2001:db8::ffff
192.168.10.0/24
2001:db9::/32
8.8.8.8

   9.9.9.0 - 9.9.9.3
not an address at all
300.1.1.1 - 300.1.1.2 , 0 , bad octet
`
	l, st := mustParse(t, input)
	if st.Bad != 2 || st.Allowed != 1 || st.Ranges != 7 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(st.Errors[0], "line 12") || !strings.Contains(st.Errors[1], "line 13") {
		t.Fatalf("errors %q", st.Errors)
	}
	in := []string{"1.2.3.4", "1.2.3.10", "5.6.7.128", "2001:db8::10", "192.168.10.255", "2001:db9:ffff::1", "8.8.8.8", "9.9.9.2", "::ffff:1.2.3.5"}
	out := []string{"1.2.3.3", "1.2.3.11", "10.0.0.1", "5.6.8.0", "2001:db8::1:0", "192.168.11.0", "8.8.8.9", "2001:dba::", "9.9.9.4"}
	for _, s := range in {
		if !l.Contains(netip.MustParseAddr(s)) {
			t.Errorf("%s not blocked", s)
		}
	}
	for _, s := range out {
		if l.Contains(netip.MustParseAddr(s)) {
			t.Errorf("%s blocked", s)
		}
	}
}

func TestGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintln(zw, "x:1.1.1.0-1.1.1.255")
	zw.Close()
	l, st, err := Parse(&buf)
	if err != nil || !st.Gzip || !l.Contains(netip.MustParseAddr("1.1.1.7")) {
		t.Fatalf("gzip: %v %+v", err, st)
	}
	if _, _, err := Parse(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0})); err == nil {
		t.Fatal("truncated gzip accepted")
	}
}

func TestMerge(t *testing.T) {
	l := New([]Range{
		{netip.MustParseAddr("1.0.0.5"), netip.MustParseAddr("1.0.0.9")},
		{netip.MustParseAddr("1.0.0.0"), netip.MustParseAddr("1.0.0.4")},  // adjacent
		{netip.MustParseAddr("1.0.0.7"), netip.MustParseAddr("1.0.0.20")}, // overlapping
		{netip.MustParseAddr("1.0.0.30"), netip.MustParseAddr("1.0.0.30")},
		{netip.MustParseAddr("255.255.255.0"), netip.MustParseAddr("255.255.255.255")},
		{netip.MustParseAddr("::"), netip.MustParseAddr("::1")},
		{netip.MustParseAddr("::2"), netip.MustParseAddr("::5")},
		{netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")},
		{netip.MustParseAddr("1.0.0.9"), netip.MustParseAddr("1.0.0.1")}, // reversed: ignored
	})
	got := fmt.Sprint(l.Ranges())
	want := "[{1.0.0.0 1.0.0.20} {1.0.0.30 1.0.0.30} {255.255.255.0 255.255.255.255} {:: ::5} {ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff}]"
	if got != want {
		t.Fatalf("ranges\n got %s\nwant %s", got, want)
	}
	var nilList *List
	if nilList.Contains(netip.MustParseAddr("1.2.3.4")) || nilList.Len() != 0 {
		t.Fatal("nil list not empty")
	}
}

// TestContainsMatchesLinear checks the binary search against a linear
// scan over random ranges.
func TestContainsMatchesLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ranges []Range
	for _, n := range []int{300, 3 * indexMin} { // without and with the index
		ranges = ranges[:0]
		for range n {
			lo := r.Uint32N(1 << 22)
			ranges = append(ranges, Range{from32(lo), from32(lo + r.Uint32N(2000))})
		}
		// ranges across index boundaries and at the end of the space
		ranges = append(ranges, Range{from32(1<<22 + 65000), from32(1<<22 + 70000)}, Range{from32(^uint32(0) - 5), from32(^uint32(0))})
		checkLinear(t, r, ranges)
	}
}

func checkLinear(t *testing.T, r *rand.Rand, ranges []Range) {
	l := New(ranges)
	if (len(ranges) >= indexMin) != (l.idx4 != nil) {
		t.Fatalf("index with %d ranges: %v", len(ranges), l.idx4 != nil)
	}
	for i := range 40000 {
		x := from32(r.Uint32N(1<<22 + 80000))
		if i%10 == 0 {
			x = from32(^uint32(0) - r.Uint32N(10))
		}
		want := false
		for _, rg := range ranges {
			if rg.From.Compare(x) <= 0 && x.Compare(rg.To) <= 0 {
				want = true
				break
			}
		}
		if l.Contains(x) != want {
			t.Fatalf("Contains(%s) = %v, want %v", x, !want, want)
		}
	}
}

func TestHostile(t *testing.T) {
	// A line beyond MaxLineLen is skipped, the next still read.
	long := "x:" + strings.Repeat("a", 5000) + "\n2.2.2.2\n"
	l, st := mustParse(t, long)
	if st.Bad != 1 || !l.Contains(netip.MustParseAddr("2.2.2.2")) || !strings.Contains(st.Errors[0], "longer than") {
		t.Fatalf("long line: %+v", st)
	}
	// Nothing valid: an error naming the line.
	_, _, err := Parse(strings.NewReader("# c\ngarbage\n"))
	if !errors.Is(err, ErrNoRanges) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("garbage: %v", err)
	}
	// An empty file is an empty list.
	if l, _, err := Parse(strings.NewReader("")); err != nil || l.Len() != 0 {
		t.Fatalf("empty: %v", err)
	}
}

func TestTooManyRanges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds MaxRanges ranges")
	}
	var buf bytes.Buffer
	for i := range MaxRanges + 1 {
		fmt.Fprintf(&buf, "%s\n", from32(uint32(i)*4))
	}
	_, _, err := Parse(&buf)
	if !errors.Is(err, ErrTooManyRanges) {
		t.Fatalf("got %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	r := &limitReader{r: strings.NewReader("1.2.3.4\n"), n: 3}
	if _, err := r.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]byte, 10)); err != errTooLarge {
		t.Fatalf("got %v", err)
	}
}

// synthetic returns n disjoint IPv4 ranges in DAT form, shuffled.
func synthetic(n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	step := uint32((1 << 32) / uint64(n))
	lines := make([]string, n)
	for i := range n {
		lo := uint32(i) * step
		lines[i] = fmt.Sprintf("%s - %s , 000 , range %d", from32(lo), from32(lo+r.Uint32N(step/2)), i)
	}
	r.Shuffle(n, func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	return []byte(strings.Join(lines, "\n"))
}

func BenchmarkContains500k(b *testing.B) {
	l, _, err := Parse(bytes.NewReader(synthetic(500_000)))
	if err != nil {
		b.Fatal(err)
	}
	if l.Len() != 500_000 {
		b.Fatalf("len %d", l.Len())
	}
	r := rand.New(rand.NewPCG(5, 6))
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		addrs[i] = from32(r.Uint32())
	}
	b.ResetTimer()
	hits := 0
	for i := 0; b.Loop(); i++ {
		if l.Contains(addrs[i&4095]) {
			hits++
		}
	}
	_ = hits
}

func BenchmarkParse500k(b *testing.B) {
	data := synthetic(500_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := Parse(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReport500k logs the build time and the list's memory with 500,000
// ranges (go test -run Report500k -v).
func TestReport500k(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	data := synthetic(500_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	l, _, err := Parse(bytes.NewReader(data))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	t.Logf("500k ranges: parse+build %v, list %.1f MiB (%d merged ranges), %.0f MiB allocated while parsing",
		took, float64(l.Bytes())/(1<<20), l.Len(), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
	runtime.KeepAlive(l)
}
