package session

import (
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/lsd"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/torrent"
)

// startLSD starts local service discovery (BEP 14) when configured. A
// failure (e.g. no multicast route) only turns LSD off.
func (s *Session) startLSD() {
	if !s.cfg.LSD || s.port <= 0 {
		return
	}
	group := s.cfg.LSDGroup
	if group == "" && s.cfg.IPVersion == IPVersion6 {
		group = lsd.DefaultGroup6 // --ip-version 6: no IPv4 multicast
	}
	l, err := lsd.New(lsd.Config{
		Group:  group,
		Listen: s.cfg.LSDListen,
		Port:   uint16(s.port),
		OnPeer: s.onLSDPeer,
		Logger: s.log,
	})
	if err != nil {
		s.log.Warn("local service discovery off", "err", err)
		return
	}
	s.lsd = l
}

// LSDAddr returns the address the LSD listener is bound to (invalid when
// LSD is off); tests point another session's LSDGroup at it.
func (s *Session) LSDAddr() netip.AddrPort {
	if s.lsd == nil {
		return netip.AddrPort{}
	}
	return s.lsd.Addr()
}

func (s *Session) onLSDPeer(h [20]byte, addr netip.AddrPort) {
	s.mu.Lock()
	e := s.torrents[metainfo.Hash(h)]
	s.mu.Unlock()
	if e == nil || e.t.Private() {
		return
	}
	e.t.AddPeers(torrent.SourceLSD, []netip.AddrPort{addr})
}

// updateDiscovery tells LSD which torrents to announce: the running,
// non-private ones.
func (s *Session) updateDiscovery() {
	if s.lsd == nil {
		return
	}
	s.mu.Lock()
	var hashes [][20]byte
	for h, e := range s.torrents {
		st := e.t.Stats()
		if e.t.Private() || st.State == torrent.StatePaused || st.State == torrent.StateError {
			continue
		}
		hashes = append(hashes, h)
	}
	s.mu.Unlock()
	s.lsd.SetTorrents(hashes)
}

// kickDiscovery asks the discovery loop to refresh LSD's set soon: adds
// in a row share one pass over every torrent instead of one each.
func (s *Session) kickDiscovery() {
	select {
	case s.discoveryKick <- struct{}{}:
	default:
	}
}

// discoveryLoop refreshes the announced set periodically (torrents finish
// their metadata, hit errors, become known as private).
func (s *Session) discoveryLoop() {
	defer s.wg.Done()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.updateDiscovery()
		case <-s.discoveryKick:
			s.updateDiscovery()
		case <-s.closeC:
			return
		}
	}
}
