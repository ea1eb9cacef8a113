package trackertest

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
)

// BEP 15 constants.
const (
	protocolID     = 0x41727101980
	actionConnect  = 0
	actionAnnounce = 1
	actionScrape   = 2
	actionError    = 3
)

var udpEvents = [...]string{"", "completed", "started", "stopped"}

// serveUDP answers BEP 15 requests until the socket is closed.
func (tr *Tracker) serveUDP() {
	defer close(tr.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := tr.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if tr.takeDrop() {
			continue
		}
		if reply := tr.handleUDP(buf[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port())); reply != nil {
			tr.udp.WriteToUDPAddrPort(reply, from)
		}
	}
}

// handleUDP returns the answer to one datagram, or nil to ignore it.
func (tr *Tracker) handleUDP(p []byte, from netip.AddrPort) []byte {
	if len(p) < 16 {
		return nil
	}
	connID := binary.BigEndian.Uint64(p[0:])
	action := binary.BigEndian.Uint32(p[8:])
	tid := binary.BigEndian.Uint32(p[12:])
	if action == actionConnect {
		if connID != protocolID {
			return nil
		}
		out := header(actionConnect, tid)
		return binary.BigEndian.AppendUint64(out, tr.newConnID())
	}
	if !tr.validConnID(connID) {
		return errorPacket(tid, "bad connection id")
	}
	switch action {
	case actionAnnounce:
		if len(p) < 98 {
			return errorPacket(tid, "short announce")
		}
		ev := binary.BigEndian.Uint32(p[80:])
		if ev >= uint32(len(udpEvents)) {
			return errorPacket(tid, "bad event")
		}
		port := binary.BigEndian.Uint16(p[96:])
		if port == 0 {
			return errorPacket(tid, "bad port")
		}
		a := Announce{
			Proto:      "udp",
			InfoHash:   [20]byte(p[16:36]),
			PeerID:     [20]byte(p[36:56]),
			Peer:       netip.AddrPortFrom(from.Addr(), port),
			Event:      udpEvents[ev],
			Downloaded: int64(binary.BigEndian.Uint64(p[56:])),
			Left:       int64(binary.BigEndian.Uint64(p[64:])),
			Uploaded:   int64(binary.BigEndian.Uint64(p[72:])),
			Key:        strconv.FormatUint(uint64(binary.BigEndian.Uint32(p[88:])), 10),
			NumWant:    int(int32(binary.BigEndian.Uint32(p[92:]))),
		}
		ans := tr.announce(a)
		if ans.failure != "" {
			return errorPacket(tid, ans.failure)
		}
		out := header(actionAnnounce, tid)
		out = binary.BigEndian.AppendUint32(out, uint32(ans.interval))
		out = binary.BigEndian.AppendUint32(out, uint32(ans.leechers))
		out = binary.BigEndian.AppendUint32(out, uint32(ans.seeders))
		// BEP 15: an announce that came over IPv6 gets 18-byte IPv6
		// peers, one over IPv4 6-byte IPv4 peers.
		if from.Addr().Is6() && !from.Addr().Is4In6() {
			return append(out, compact(ans.peers6)...)
		}
		return append(out, compact(ans.peers4)...)
	case actionScrape:
		var hashes [][20]byte
		for b := p[16:]; len(b) >= 20 && len(hashes) < 74; b = b[20:] {
			hashes = append(hashes, [20]byte(b[:20]))
		}
		if len(hashes) == 0 {
			return errorPacket(tid, "no info hash")
		}
		counts, failure := tr.scrapeCounts(hashes)
		if failure != "" {
			return errorPacket(tid, failure)
		}
		out := header(actionScrape, tid)
		for _, h := range hashes {
			c := counts[h]
			out = binary.BigEndian.AppendUint32(out, uint32(c[0]))
			out = binary.BigEndian.AppendUint32(out, uint32(c[1]))
			out = binary.BigEndian.AppendUint32(out, uint32(c[2]))
		}
		return out
	}
	return errorPacket(tid, "unknown action")
}

func header(action, tid uint32) []byte {
	out := binary.BigEndian.AppendUint32(nil, action)
	return binary.BigEndian.AppendUint32(out, tid)
}

func errorPacket(tid uint32, msg string) []byte {
	return append(header(actionError, tid), msg...)
}
