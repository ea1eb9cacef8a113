package session

import (
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/lsd"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/torrent"
)

// startLSD starts local service discovery (BEP 14) when configured, and
// reports whether it is (false: LSD is off for good). A failure (e.g. no
// multicast route) turns LSD off; under --bind-interface LSD is confined
// to the interface (lsd.Config.Interface) and a failure only waits for
// the interface: networkLoop starts LSD again when it is back.
func (s *Session) startLSD() bool {
	if !s.cfg.LSD || s.port <= 0 {
		return false
	}
	group := s.cfg.LSDGroup
	if group == "" && s.cfg.IPVersion == IPVersion6 {
		group = lsd.DefaultGroup6 // --ip-version 6: no IPv4 multicast
	}
	cfg := lsd.Config{
		Group:  group,
		Listen: s.cfg.LSDListen,
		Port:   uint16(s.port),
		OnPeer: s.onLSDPeer,
		Logger: s.log,
	}
	bound := s.net.bind != nil
	var err error
	if bound {
		cfg.Interface, err = s.net.bind.Interface()
		cfg.Control = s.net.bind.Control
	}
	var l *lsd.LSD
	if err == nil {
		l, err = lsd.New(cfg)
	}
	if err != nil {
		if bound {
			s.log.Warn("local service discovery stopped until the bound interface is back", "bind_interface", s.net.bind.String(), "err", err)
			return true
		}
		s.log.Warn("local service discovery off", "err", err)
		return false
	}
	if bound {
		s.log.Info("local service discovery on the bound interface only", "bind_interface", cfg.Interface.Name)
	}
	s.lsdMu.Lock()
	old := s.lsd
	s.lsd = l
	s.lsdMu.Unlock()
	if old != nil {
		old.Close()
	}
	return true
}

// stopLSD stops local service discovery (the session closes, or the bound
// interface is gone).
func (s *Session) stopLSD() {
	s.lsdMu.Lock()
	l := s.lsd
	s.lsd = nil
	s.lsdMu.Unlock()
	if l != nil {
		l.Close()
	}
}

// currentLSD returns the running LSD, nil when off.
func (s *Session) currentLSD() *lsd.LSD {
	s.lsdMu.Lock()
	defer s.lsdMu.Unlock()
	return s.lsd
}

// LSDAddr returns the address the LSD listener is bound to (invalid when
// LSD is off); tests point another session's LSDGroup at it.
func (s *Session) LSDAddr() netip.AddrPort {
	l := s.currentLSD()
	if l == nil {
		return netip.AddrPort{}
	}
	return l.Addr()
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
	l := s.currentLSD()
	if l == nil {
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
	l.SetTorrents(hashes)
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
