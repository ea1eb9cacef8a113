package tracker

import (
	"fmt"
	"net/netip"

	"github.com/gobit/gobit/internal/bencode"
)

// maxTrackerIDLen bounds the "tracker id" we keep and send back.
const maxTrackerIDLen = 1024

// parseHTTPAnnounce parses a bencoded announce response (BEP 3, with the
// compact IPv4 list of BEP 23, the dictionary list of BEP 3 and the "peers6"
// list of BEP 7). A "failure reason" yields a *FailureError. Fields of the
// wrong type are ignored, as if absent; peer lists of the wrong shape are
// errors.
func parseHTTPAnnounce(body []byte) (*AnnounceResponse, error) {
	m, err := decodeDict(body)
	if err != nil {
		return nil, err
	}
	if err := failure(m); err != nil {
		return nil, err
	}
	resp := &AnnounceResponse{}
	if n, ok := m["interval"].(int64); ok {
		resp.Interval = secondsDuration(n)
	}
	if n, ok := m["min interval"].(int64); ok {
		resp.MinInterval = secondsDuration(n)
	}
	if n, ok := m["complete"].(int64); ok {
		resp.Seeders = clampCount(n)
	}
	if n, ok := m["incomplete"].(int64); ok {
		resp.Leechers = clampCount(n)
	}
	if s, ok := m["tracker id"].(string); ok && len(s) <= maxTrackerIDLen {
		resp.TrackerID = s
	}
	if s, ok := m["warning message"].(string); ok {
		resp.Warning = sanitizeMessage([]byte(s))
	}
	for _, f := range []struct {
		key  string
		size int
	}{{"peers", udpPeer4Len}, {"peers6", udpPeer6Len}} {
		v, ok := m[f.key]
		if !ok {
			continue
		}
		peers, err := parsePeerList(f.key, v, f.size)
		if err != nil {
			return nil, err
		}
		resp.Peers = append(resp.Peers, peers...)
	}
	return resp, nil
}

// parsePeerList parses the value of "peers" or "peers6": either a compact
// string of size-byte entries or a list of dictionaries with "ip" and
// "port". Dictionary entries that are not usable (a host name instead of an
// address, a bad port) are skipped.
func parsePeerList(key string, v any, size int) ([]netip.AddrPort, error) {
	switch v := v.(type) {
	case string:
		if len(v)%size != 0 {
			return nil, fmt.Errorf("%w: %q is %d bytes, not a multiple of %d", ErrMalformedResponse, key, len(v), size)
		}
		return parseCompactPeers([]byte(v), size), nil
	case []any:
		peers := make([]netip.AddrPort, 0, len(v))
		for _, e := range v {
			d, ok := e.(map[string]any)
			if !ok {
				continue
			}
			ipStr, _ := d["ip"].(string)
			port, _ := d["port"].(int64)
			addr, err := netip.ParseAddr(ipStr)
			if err != nil || port <= 0 || port > 0xffff || addr.Zone() != "" {
				continue
			}
			if ap, ok := makePeer(addr.Unmap(), uint16(port)); ok {
				peers = append(peers, ap)
			}
		}
		return peers, nil
	}
	return nil, fmt.Errorf("%w: %q is a %T, want a string or a list", ErrMalformedResponse, key, v)
}

// parseHTTPScrape parses a bencoded scrape response (BEP 48): "files" maps
// raw 20-byte info hashes to dictionaries with "complete", "downloaded" and
// "incomplete". Keys that are not 20 bytes and values that are not
// dictionaries are skipped.
func parseHTTPScrape(body []byte) (map[[20]byte]ScrapeResult, error) {
	m, err := decodeDict(body)
	if err != nil {
		return nil, err
	}
	if err := failure(m); err != nil {
		return nil, err
	}
	files, ok := m["files"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: scrape response without a \"files\" dictionary", ErrMalformedResponse)
	}
	res := make(map[[20]byte]ScrapeResult, len(files))
	for k, v := range files {
		d, ok := v.(map[string]any)
		if len(k) != 20 || !ok {
			continue
		}
		var r ScrapeResult
		if n, ok := d["complete"].(int64); ok {
			r.Seeders = clampCount(n)
		}
		if n, ok := d["downloaded"].(int64); ok {
			r.Completed = clampCount(n)
		}
		if n, ok := d["incomplete"].(int64); ok {
			r.Leechers = clampCount(n)
		}
		res[[20]byte([]byte(k))] = r
	}
	return res, nil
}

// decodeDict decodes a bencoded dictionary.
func decodeDict(body []byte) (map[string]any, error) {
	var v any
	if err := bencode.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedResponse, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: response is a %T, not a dictionary", ErrMalformedResponse, v)
	}
	return m, nil
}

// failure returns a *FailureError when m has a "failure reason".
func failure(m map[string]any) error {
	v, ok := m["failure reason"]
	if !ok {
		return nil
	}
	reason, ok := v.(string)
	if !ok {
		reason = fmt.Sprint(v)
	}
	return &FailureError{Reason: sanitizeMessage([]byte(reason))}
}
