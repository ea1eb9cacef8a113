package metainfo

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxMagnetLength bounds the length of a magnet URI accepted by ParseMagnet.
const MaxMagnetLength = 256 << 10

// Magnet is a parsed magnet link (BEP 9, with the BEP 53 "so" parameter).
// Slices are nil when the link has no such parameter; trackers, web seeds
// and peers are de-duplicated in their original order, SelectOnly is sorted
// without duplicates.
type Magnet struct {
	// InfoHash is the v1 info hash from xt=urn:btih:.
	InfoHash Hash
	// Name is the display name (dn), possibly empty.
	Name string
	// Trackers are the tracker URLs (tr), in order.
	Trackers []string
	// WebSeeds are the BEP 19 web seed URLs (ws).
	WebSeeds []string
	// Peers are peer addresses (x.pe) in host:port form, IPv6 hosts in
	// brackets.
	Peers []string
	// Length is the payload size in bytes (xl), 0 when unknown.
	Length int64
	// SelectOnly lists the file indices to download (so, BEP 53); nil
	// means all files.
	SelectOnly []int
}

// ParseMagnet parses a magnet URI. It requires an xt=urn:btih: parameter
// with a 40-hex or 32-base32 info hash; dn, tr, ws, x.pe, xl and so are
// read, numbered variants (tr.1, xt.2) are accepted, and unknown
// parameters are ignored. Errors say what is wrong and match
// ErrInvalidMagnet.
func ParseMagnet(uri string) (*Magnet, error) {
	if len(uri) > MaxMagnetLength {
		return nil, errorf(ErrInvalidMagnet, "magnet: URI of %d bytes: at most %d allowed", len(uri), MaxMagnetLength)
	}
	const scheme = "magnet:"
	if len(uri) < len(scheme) || !strings.EqualFold(uri[:len(scheme)], scheme) {
		return nil, errorf(ErrInvalidMagnet, "magnet: %q: not a magnet URI (must start with \"magnet:?\")", truncate(uri, 64))
	}
	rest := uri[len(scheme):]
	rest, _, _ = strings.Cut(rest, "#")
	rest = strings.TrimPrefix(rest, "?")

	m := &Magnet{}
	var haveHash, sawV2, haveName bool
	for part := range strings.SplitSeq(rest, "&") {
		if part == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, errorf(ErrInvalidMagnet, "magnet: parameter %q: bad escape in name", truncate(rawKey, 64))
		}
		key = baseKey(strings.ToLower(key))
		switch key {
		case "xt", "dn", "tr", "ws", "x.pe", "xl", "so":
		default:
			continue // unknown parameters are ignored
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return nil, errorf(ErrInvalidMagnet, "magnet: %s %q: bad escape", key, truncate(rawVal, 64))
		}
		switch key {
		case "xt":
			const btih, btmh = "urn:btih:", "urn:btmh:"
			switch {
			case len(val) >= len(btih) && strings.EqualFold(val[:len(btih)], btih):
				h, err := ParseHash(val[len(btih):])
				if err != nil {
					return nil, errorf(ErrInvalidMagnet, "magnet: xt %q: info hash must be 40 hex or 32 base32 characters", truncate(val, 80))
				}
				if haveHash && h != m.InfoHash {
					return nil, errorf(ErrInvalidMagnet, "magnet: two different urn:btih info hashes (%s and %s)", m.InfoHash, h)
				}
				m.InfoHash, haveHash = h, true
			case len(val) >= len(btmh) && strings.EqualFold(val[:len(btmh)], btmh):
				sawV2 = true
			}
		case "dn":
			if !haveName {
				m.Name, haveName = val, true
			}
		case "tr":
			m.Trackers = appendUnique(m.Trackers, strings.TrimSpace(val))
		case "ws":
			m.WebSeeds = appendUnique(m.WebSeeds, strings.TrimSpace(val))
		case "x.pe":
			p, err := canonicalPeer(val)
			if err != nil {
				return nil, errorf(ErrInvalidMagnet, "magnet: x.pe %q: %s", truncate(val, 80), err.Error())
			}
			m.Peers = appendUnique(m.Peers, p)
		case "xl":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 || n >= MaxTotalLength {
				return nil, errorf(ErrInvalidMagnet, "magnet: xl %q: must be a length in bytes (0 to 2^50)", truncate(val, 64))
			}
			m.Length = n
		case "so":
			so, err := parseSelectOnly(val)
			if err != nil {
				return nil, errorf(ErrInvalidMagnet, "magnet: so %q: %s", truncate(val, 64), err.Error())
			}
			m.SelectOnly = mergeSorted(m.SelectOnly, so)
		}
	}
	if !haveHash {
		if sawV2 {
			return nil, errorf(ErrInvalidMagnet, "magnet: xt: only urn:btmh (BitTorrent v2) given; urn:btih is required")
		}
		return nil, errorf(ErrInvalidMagnet, "magnet: missing xt")
	}
	return m, nil
}

// String returns the canonical magnet URI: xt, then dn, xl, tr, ws, x.pe
// and so when set. ParseMagnet of the result yields an equal Magnet.
func (m Magnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?xt=urn:btih:")
	b.WriteString(m.InfoHash.String())
	if m.Name != "" {
		b.WriteString("&dn=")
		b.WriteString(url.QueryEscape(m.Name))
	}
	if m.Length > 0 {
		b.WriteString("&xl=")
		b.WriteString(strconv.FormatInt(m.Length, 10))
	}
	for _, t := range m.Trackers {
		b.WriteString("&tr=")
		b.WriteString(url.QueryEscape(t))
	}
	for _, w := range m.WebSeeds {
		b.WriteString("&ws=")
		b.WriteString(url.QueryEscape(w))
	}
	for _, p := range m.Peers {
		b.WriteString("&x.pe=")
		b.WriteString(url.QueryEscape(p))
	}
	if len(m.SelectOnly) > 0 {
		b.WriteString("&so=")
		b.WriteString(formatSelectOnly(mergeSorted(nil, slices.Clone(m.SelectOnly))))
	}
	return b.String()
}

// baseKey strips a numeric suffix (".1", ".2") from a parameter name, so
// tr.1 is read as tr.
func baseKey(k string) string {
	i := strings.LastIndexByte(k, '.')
	if i < 0 || i == len(k)-1 {
		return k
	}
	for _, c := range k[i+1:] {
		if c < '0' || c > '9' {
			return k
		}
	}
	return k[:i]
}

// appendUnique appends s unless it is empty or already present.
func appendUnique(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// canonicalPeer checks a host:port peer address and returns it in
// canonical form (IP addresses normalized, port without leading zeros).
func canonicalPeer(s string) (string, error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return "", errorString("want host:port")
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return "", errorString("port must be 1-65535")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.String()
	} else if !validHostname(host) {
		return "", errorString("host must be an IP address or a host name")
	}
	return net.JoinHostPort(host, strconv.FormatUint(port, 10)), nil
}

// validHostname reports whether s looks like a DNS host name.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// errorString is a plain error used to build messages.
type errorString string

func (e errorString) Error() string { return string(e) }

// parseSelectOnly parses a BEP 53 file index list such as "0,2,4-6" into
// sorted unique indices, each below MaxFiles.
func parseSelectOnly(s string) ([]int, error) {
	var out []int
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			continue
		}
		loS, hiS, isRange := strings.Cut(item, "-")
		lo, err := parseIndex(loS)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = parseIndex(hiS); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, errorString("range " + item + " is reversed")
			}
		}
		if len(out)+(hi-lo+1) > MaxFiles {
			return nil, errorString("too many file indices")
		}
		for i := lo; i <= hi; i++ {
			out = append(out, i)
		}
	}
	return mergeSorted(nil, out), nil
}

// parseIndex parses one file index of a "so" list.
func parseIndex(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n >= MaxFiles || s[0] == '+' {
		return 0, errorString("file index " + strconv.Quote(truncate(s, 20)) + " must be an integer from 0 to 999999")
	}
	return n, nil
}

// mergeSorted returns the sorted union of a and b without duplicates.
func mergeSorted(a, b []int) []int {
	if len(b) == 0 {
		return a
	}
	out := append(a, b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// formatSelectOnly writes sorted, unique indices as a BEP 53 list with ranges.
func formatSelectOnly(idx []int) string {
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(idx[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return b.String()
}
