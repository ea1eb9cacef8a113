package blocklist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Bounds on hostile input.
const (
	// MaxLineLen is the longest line considered; longer lines are skipped
	// and counted as bad.
	MaxLineLen = 1024
	// MaxRanges is the most ranges a list may hold before merging.
	MaxRanges = 2_000_000
	// MaxInputSize bounds the bytes read (after decompression).
	MaxInputSize = 512 << 20
	// maxReportedErrors is how many bad lines Stats.Errors describes.
	maxReportedErrors = 5
	// allowedLevel: DAT ranges with a level above it are allowed, not
	// blocked (eMule's convention).
	allowedLevel = 127
)

// Errors of Parse.
var (
	// ErrTooManyRanges means the input holds more than MaxRanges ranges.
	ErrTooManyRanges = errors.New("blocklist: too many ranges")
	// ErrTooLarge means the input is larger than MaxInputSize.
	ErrTooLarge = errors.New("blocklist: input too large")
	// ErrNoRanges means the input had lines but not one usable range.
	ErrNoRanges = errors.New("blocklist: no valid range")
)

// Stats describes one parse.
type Stats struct {
	// Lines is the number of lines read, Ranges the ranges accepted
	// (before merging), Allowed the DAT ranges skipped for their level,
	// Bad the lines skipped as malformed or too long.
	Lines, Ranges, Allowed, Bad int
	// Errors describes the first bad lines, with their line numbers.
	Errors []string
	// Gzip is set when the input was gzip-compressed.
	Gzip bool
}

// Parse reads a blocklist (gzip-compressed or not) and returns its List.
// Malformed lines are skipped and counted in Stats; an input with bad
// lines and no valid range at all is an error (ErrNoRanges, with the first
// bad line), as is one beyond MaxRanges or MaxInputSize.
func Parse(r io.Reader) (*List, Stats, error) {
	var st Stats
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, st, fmt.Errorf("blocklist: gzip: %w", err)
		}
		defer zr.Close()
		st.Gzip = true
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	lr := &limitReader{r: br, n: MaxInputSize}
	sc := bufio.NewReaderSize(lr, 64<<10)
	var b builder
	for {
		line, tooLong, err := readLine(sc)
		if len(line) > 0 || tooLong || err == nil {
			st.Lines++
			if tooLong {
				st.bad(fmt.Sprintf("line %d: longer than %d bytes", st.Lines, MaxLineLen))
			} else if perr := parseLine(&b, &st, line); perr != nil {
				st.bad(fmt.Sprintf("line %d: %v", st.Lines, perr))
			}
			if b.len() > MaxRanges {
				return nil, st, fmt.Errorf("%w: more than %d (at line %d)", ErrTooManyRanges, MaxRanges, st.Lines)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if lr.n <= 0 {
				return nil, st, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxInputSize)
			}
			return nil, st, fmt.Errorf("blocklist: read: %w", err)
		}
	}
	st.Ranges = b.len()
	if st.Ranges == 0 && st.Bad > 0 {
		return nil, st, fmt.Errorf("%w: %d bad lines, first: %s", ErrNoRanges, st.Bad, st.Errors[0])
	}
	return b.build(), st, nil
}

func (st *Stats) bad(msg string) {
	st.Bad++
	if len(st.Errors) < maxReportedErrors {
		st.Errors = append(st.Errors, msg)
	}
}

// limitReader returns errTooLarge once n bytes have been read.
type limitReader struct {
	r io.Reader
	n int64
}

var errTooLarge = errors.New("too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// readLine returns the next line without its end, or tooLong (the rest of
// the line consumed) when it exceeds MaxLineLen.
func readLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		frag, err := r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(frag) > MaxLineLen+2 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		buf = bytes.TrimRight(buf, "\r\n")
		if !tooLong && len(buf) > MaxLineLen {
			tooLong, buf = true, nil
		}
		return buf, tooLong, err
	}
}

// parseLine adds the range of one line, if any.
func parseLine(b *builder, st *Stats, raw []byte) error {
	line := strings.TrimSpace(string(raw))
	if line == "" || line[0] == '#' || strings.HasPrefix(line, "//") {
		return nil
	}
	// eMule DAT: "start - end , level , description"
	if i := strings.IndexByte(line, ','); i >= 0 {
		if r, err := parseRange(line[:i]); err == nil {
			rest := line[i+1:]
			if j := strings.IndexByte(rest, ','); j >= 0 {
				rest = rest[:j]
			}
			level, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil || level < 0 {
				return fmt.Errorf("bad level %q", strings.TrimSpace(rest))
			}
			if level > allowedLevel {
				st.Allowed++
				return nil
			}
			b.add(r)
			return nil
		}
	}
	// CIDR, a single address, a bare range
	if r, err := parseRange(line); err == nil {
		b.add(r)
		return nil
	}
	// PeerGuardian P2P: "description:start-end"; the description may hold
	// colons and an IPv6 range does, so every split is tried from the left.
	for i := 0; i < len(line); i++ {
		if line[i] != ':' {
			continue
		}
		if r, err := parseRange(line[i+1:]); err == nil {
			b.add(r)
			return nil
		}
	}
	return fmt.Errorf("not a range: %q", truncate(line, 60))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseRange parses "a-b" (spaces allowed), "prefix/bits" or a single
// address.
func parseRange(s string) (Range, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '-'); i >= 0 {
		from, err := parseAddr(s[:i])
		if err != nil {
			return Range{}, err
		}
		to, err := parseAddr(s[i+1:])
		if err != nil {
			return Range{}, err
		}
		if from.Is4() != to.Is4() {
			return Range{}, errors.New("range mixes IPv4 and IPv6")
		}
		if from.Compare(to) > 0 {
			return Range{}, errors.New("range ends before it starts")
		}
		return Range{from, to}, nil
	}
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Range{}, err
		}
		p = p.Masked()
		return Range{p.Addr(), lastOf(p)}, nil
	}
	a, err := parseAddr(s)
	if err != nil {
		return Range{}, err
	}
	return Range{a, a}, nil
}

// lastOf returns the last address of p (masked).
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// parseAddr parses an IPv4 address (leading zeros allowed: "001.002.003.004")
// or an IPv6 one (IPv4-mapped ones become IPv4; no zones).
func parseAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if strings.IndexByte(s, ':') < 0 {
		return parseIPv4(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, errors.New("address with a zone")
	}
	return a.Unmap(), nil
}

func parseIPv4(s string) (netip.Addr, error) {
	var b [4]byte
	parts := 0
	for part := range strings.SplitSeq(s, ".") {
		if parts == 4 || len(part) == 0 || len(part) > 3 {
			return netip.Addr{}, fmt.Errorf("bad IPv4 address %q", truncate(s, 40))
		}
		n := 0
		for _, c := range []byte(part) {
			if c < '0' || c > '9' {
				return netip.Addr{}, fmt.Errorf("bad IPv4 address %q", truncate(s, 40))
			}
			n = n*10 + int(c-'0')
		}
		if n > 255 {
			return netip.Addr{}, fmt.Errorf("bad IPv4 address %q", truncate(s, 40))
		}
		b[parts] = byte(n)
		parts++
	}
	if parts != 4 {
		return netip.Addr{}, fmt.Errorf("bad IPv4 address %q", truncate(s, 40))
	}
	return netip.AddrFrom4(b), nil
}
