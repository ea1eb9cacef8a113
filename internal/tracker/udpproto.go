package tracker

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// BEP 15 wire constants.
const (
	udpProtocolID = 0x41727101980

	actionConnect  = 0
	actionAnnounce = 1
	actionScrape   = 2
	actionError    = 3

	// maxUDPScrapeHashes is how many info hashes one UDP scrape carries: 74
	// hashes make the response 8+74·12 = 896 bytes and the request 16+74·20 =
	// 1496 bytes, within a 1500-byte MTU.
	maxUDPScrapeHashes = 74

	// maxUDPPacket bounds what the reader accepts (the UDP datagram limit).
	maxUDPPacket = 64 << 10

	// maxErrorMessage bounds the error text kept from an action 3 packet.
	maxErrorMessage = 512

	udpConnectLen    = 16
	udpAnnounceLen   = 98
	udpHeaderLen     = 8
	udpAnnounceHdr   = 12 // interval, leechers, seeders after the header
	udpScrapeEntry   = 12 // seeders, completed, leechers
	udpPeer4Len      = 6
	udpPeer6Len      = 18
	udpConnectResLen = 16
)

// encodeConnect returns a BEP 15 connect request.
func encodeConnect(tid uint32) []byte {
	b := make([]byte, udpConnectLen)
	binary.BigEndian.PutUint64(b[0:], udpProtocolID)
	binary.BigEndian.PutUint32(b[8:], actionConnect)
	binary.BigEndian.PutUint32(b[12:], tid)
	return b
}

// encodeAnnounce returns a BEP 15 announce request (98 bytes). The IP field
// is 0 (the tracker uses the packet's source address).
func encodeAnnounce(connID uint64, tid uint32, req AnnounceRequest) []byte {
	b := make([]byte, udpAnnounceLen)
	binary.BigEndian.PutUint64(b[0:], connID)
	binary.BigEndian.PutUint32(b[8:], actionAnnounce)
	binary.BigEndian.PutUint32(b[12:], tid)
	copy(b[16:36], req.InfoHash[:])
	copy(b[36:56], req.PeerID[:])
	binary.BigEndian.PutUint64(b[56:], uint64(max(req.Downloaded, 0)))
	binary.BigEndian.PutUint64(b[64:], uint64(max(req.Left, 0)))
	binary.BigEndian.PutUint64(b[72:], uint64(max(req.Uploaded, 0)))
	binary.BigEndian.PutUint32(b[80:], uint32(req.Event))
	binary.BigEndian.PutUint32(b[84:], 0) // IP address: default
	binary.BigEndian.PutUint32(b[88:], req.Key)
	numWant := int32(-1)
	if req.NumWant >= 0 {
		numWant = int32(min(req.NumWant, math.MaxInt32))
	}
	binary.BigEndian.PutUint32(b[92:], uint32(numWant))
	binary.BigEndian.PutUint16(b[96:], req.Port)
	return b
}

// encodeScrape returns a BEP 15 scrape request for at most
// maxUDPScrapeHashes hashes.
func encodeScrape(connID uint64, tid uint32, hashes [][20]byte) []byte {
	b := make([]byte, 16+20*len(hashes))
	binary.BigEndian.PutUint64(b[0:], connID)
	binary.BigEndian.PutUint32(b[8:], actionScrape)
	binary.BigEndian.PutUint32(b[12:], tid)
	for i, h := range hashes {
		copy(b[16+20*i:], h[:])
	}
	return b
}

// parseUDPHeader splits a response datagram into its action, transaction ID
// and body.
func parseUDPHeader(b []byte) (action, tid uint32, body []byte, err error) {
	if len(b) < udpHeaderLen {
		return 0, 0, nil, fmt.Errorf("%w: udp packet of %d bytes", ErrMalformedResponse, len(b))
	}
	return binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:]), b[udpHeaderLen:], nil
}

// checkUDPAction returns a *FailureError for an action 3 response and an
// error for any action other than want.
func checkUDPAction(action uint32, body []byte, want uint32) error {
	if action == actionError {
		return &FailureError{Reason: sanitizeMessage(body)}
	}
	if action != want {
		return fmt.Errorf("%w: udp action %d, want %d", ErrMalformedResponse, action, want)
	}
	return nil
}

// parseUDPConnect parses the body of a connect response.
func parseUDPConnect(body []byte) (uint64, error) {
	if len(body) < udpConnectResLen-udpHeaderLen {
		return 0, fmt.Errorf("%w: udp connect response body of %d bytes", ErrMalformedResponse, len(body))
	}
	return binary.BigEndian.Uint64(body), nil
}

// parseUDPAnnounce parses the body of an announce response. Peers are
// 18-byte IPv6 entries when v6 is set (the tracker was reached over IPv6),
// 6-byte IPv4 entries otherwise.
func parseUDPAnnounce(body []byte, v6 bool) (*AnnounceResponse, error) {
	if len(body) == 0 {
		// opentracker answers an announce for a torrent that is not on its
		// whitelist with a bare header.
		return nil, fmt.Errorf("%w: empty udp announce response (torrent refused by the tracker?)", ErrMalformedResponse)
	}
	if len(body) < udpAnnounceHdr {
		return nil, fmt.Errorf("%w: udp announce response body of %d bytes", ErrMalformedResponse, len(body))
	}
	resp := &AnnounceResponse{
		Interval: secondsDuration(int64(binary.BigEndian.Uint32(body[0:]))),
		Leechers: clampCount(int64(binary.BigEndian.Uint32(body[4:]))),
		Seeders:  clampCount(int64(binary.BigEndian.Uint32(body[8:]))),
	}
	peers := body[udpAnnounceHdr:]
	size := udpPeer4Len
	if v6 {
		size = udpPeer6Len
	}
	if len(peers)%size != 0 {
		return nil, fmt.Errorf("%w: udp peer list of %d bytes is not a multiple of %d", ErrMalformedResponse, len(peers), size)
	}
	resp.Peers = parseCompactPeers(peers, size)
	return resp, nil
}

// parseUDPScrape parses the body of a scrape response for hashes, in order.
func parseUDPScrape(body []byte, hashes [][20]byte) (map[[20]byte]ScrapeResult, error) {
	if len(body) < udpScrapeEntry*len(hashes) {
		return nil, fmt.Errorf("%w: udp scrape response body of %d bytes for %d hashes", ErrMalformedResponse, len(body), len(hashes))
	}
	res := make(map[[20]byte]ScrapeResult, len(hashes))
	for i, h := range hashes {
		e := body[udpScrapeEntry*i:]
		res[h] = ScrapeResult{
			Seeders:   clampCount(int64(binary.BigEndian.Uint32(e[0:]))),
			Completed: clampCount(int64(binary.BigEndian.Uint32(e[4:]))),
			Leechers:  clampCount(int64(binary.BigEndian.Uint32(e[8:]))),
		}
	}
	return res, nil
}

// parseCompactPeers decodes back-to-back compact peer entries of size 6
// (IPv4) or 18 (IPv6), skipping entries with port 0 or an unusable address.
// A trailing partial entry is ignored; callers check the length first.
func parseCompactPeers(b []byte, size int) []netip.AddrPort {
	if len(b) < size {
		return nil
	}
	peers := make([]netip.AddrPort, 0, len(b)/size)
	for ; len(b) >= size; b = b[size:] {
		var addr netip.Addr
		if size == udpPeer4Len {
			addr = netip.AddrFrom4([4]byte(b[:4]))
		} else {
			addr = netip.AddrFrom16([16]byte(b[:16])).Unmap()
		}
		port := binary.BigEndian.Uint16(b[size-2:])
		if ap, ok := makePeer(addr, port); ok {
			peers = append(peers, ap)
		}
	}
	return peers
}

// makePeer builds a peer address, rejecting port 0 and unspecified or
// multicast addresses, which no peer can have.
func makePeer(addr netip.Addr, port uint16) (netip.AddrPort, bool) {
	if port == 0 || !addr.IsValid() || addr.IsUnspecified() || addr.IsMulticast() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(addr, port), true
}

// secondsDuration converts a tracker's interval in seconds to a Duration,
// treating negative values as unset and capping absurd ones at a week.
func secondsDuration(s int64) time.Duration {
	const maxSeconds = 7 * 24 * 3600
	if s <= 0 {
		return 0
	}
	return time.Duration(min(s, maxSeconds)) * time.Second
}

// clampCount converts a tracker-supplied count to a non-negative int.
func clampCount(n int64) int {
	if n < 0 {
		return 0
	}
	return int(min(n, math.MaxInt32))
}

// sanitizeMessage turns tracker-supplied text into a bounded, printable
// UTF-8 string fit for logs and errors.
func sanitizeMessage(b []byte) string {
	if len(b) > maxErrorMessage {
		b = b[:maxErrorMessage]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimRight(s, "\x00"))
}
