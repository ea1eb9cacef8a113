package dht

import (
	"net/netip"
	"slices"
	"time"
)

// handleQuery answers one decoded query from the given source.
func (s *Server) handleQuery(m *Msg, from netip.AddrPort) {
	var id [20]byte
	copy(id[:], m.A.ID)
	if id == s.self {
		return // our own packet looped back, or an impostor
	}
	now := time.Now()
	s.mu.Lock()
	known := s.table.seen(id, from, now)
	unknownRoom := !known && m.RO == 0 && s.table.wouldAdd(NodeInfo{ID: id, Addr: from})
	s.mu.Unlock()
	if unknownRoom {
		// A node we do not know that would fit: check it answers before
		// storing it (a query's source address may be spoofed).
		s.pingNodeAsync(NodeInfo{ID: id, Addr: from})
	}

	r := &Return{ID: string(s.self[:])}
	switch m.Q {
	case "ping":
	case "find_node":
		if len(m.A.Target) != 20 {
			s.reply(from, errorMsg(m.T, ErrCodeProtocol, "find_node: target must be 20 bytes"))
			return
		}
		s.fillNodes(r, [20]byte([]byte(m.A.Target)), from, m.A.Want)
	case "get_peers":
		if len(m.A.InfoHash) != 20 {
			s.reply(from, errorMsg(m.T, ErrCodeProtocol, "get_peers: info_hash must be 20 bytes"))
			return
		}
		ih := [20]byte([]byte(m.A.InfoHash))
		r.Token = s.tokens.make(from.Addr())
		if peers := s.peers.get(ih, maxValuesPerReply, now); len(peers) > 0 {
			r.Values = encodePeers(peers)
		}
		s.fillNodes(r, ih, from, m.A.Want)
	case "announce_peer":
		if len(m.A.InfoHash) != 20 {
			s.reply(from, errorMsg(m.T, ErrCodeProtocol, "announce_peer: info_hash must be 20 bytes"))
			return
		}
		if !s.tokens.valid(from.Addr(), m.A.Token) {
			s.reply(from, errorMsg(m.T, ErrCodeProtocol, "announce_peer: bad token"))
			return
		}
		port := from.Port()
		if m.A.ImpliedPort == 0 {
			if m.A.Port <= 0 || m.A.Port > 65535 {
				s.reply(from, errorMsg(m.T, ErrCodeProtocol, "announce_peer: invalid port"))
				return
			}
			port = uint16(m.A.Port)
		}
		if s.peers.add([20]byte([]byte(m.A.InfoHash)), netip.AddrPortFrom(from.Addr(), port), now) {
			s.ann.Add(1)
		}
	default:
		s.reply(from, errorMsg(m.T, ErrCodeMethod, "method unknown"))
		return
	}
	s.reply(from, &Msg{T: m.T, Y: "r", R: r, IP: string(appendCompactAddr(nil, from))})
}

// fillNodes puts the K closest nodes to target into r: IPv4 nodes in
// "nodes" and IPv6 nodes in "nodes6", for the families the requester wants
// (BEP 32; by default the family of its own address).
func (s *Server) fillNodes(r *Return, target [20]byte, from netip.AddrPort, want []string) {
	w4, w6 := slices.Contains(want, "n4"), slices.Contains(want, "n6")
	if !w4 && !w6 {
		w4, w6 = from.Addr().Is4(), !from.Addr().Is4()
	}
	s.mu.Lock()
	all := s.table.closest(target, 4*K)
	s.mu.Unlock()
	pick := func(v6 bool) []NodeInfo {
		var out []NodeInfo
		for _, n := range all {
			if n.Addr.Addr().Is4() != v6 && n.Addr != from && len(out) < K {
				out = append(out, n)
			}
		}
		return out
	}
	if w4 {
		r.Nodes = encodeNodes(pick(false), false)
	}
	if w6 {
		r.Nodes6 = encodeNodes(pick(true), true)
	}
}
