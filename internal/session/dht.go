package session

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/gobit/gobit/internal/dht"
	"github.com/gobit/gobit/internal/metainfo"
	"github.com/gobit/gobit/internal/torrent"
)

// DHT timing.
const (
	dhtAnnounceEvery  = 15 * time.Minute // a torrent with enough peers
	dhtAnnounceHungry = time.Minute      // a torrent with few peers, or a magnet without metadata
	dhtHungryPeers    = 5
	// dhtRetryEmpty is when a lookup that found no peer for a torrent
	// still downloading is tried again (the peers may announce later).
	dhtRetryEmpty        = 15 * time.Second
	dhtLookupTimeout     = 30 * time.Second
	dhtConcurrentLookups = 4
	dhtSettingKey        = "dht"
)

// dhtState is what is saved of the DHT node between runs.
type dhtState struct {
	ID    string   `json:"id"`    // hex
	Nodes []string `json:"nodes"` // "id-hex@ip:port"
}

// startDHT opens the DHT node on UDP at the peer port number. A failure only
// turns the DHT off.
func (s *Session) startDHT() {
	if !s.cfg.DHT || s.port <= 0 && s.net.proxy == nil {
		return
	}
	network := ipNetwork(s.cfg.IPVersion, "udp")
	pc, err := s.udpConn(network)
	if err != nil {
		s.log.Warn("DHT off: cannot open UDP port", "port", s.port, "err", err)
		return
	}
	cfg := dht.Config{Conn: pc, Network: network, Bootstrap: s.cfg.DHTBootstrap, Logger: s.log}
	if s.net.proxy != nil || s.net.bind != nil {
		// Bootstrap names: refused behind a proxy (the local resolver
		// would leak them), resolved through a bound interface.
		cfg.LookupNetIP = s.net.lookup
	}
	if s.db != nil {
		var saved dhtState
		if ok, err := s.db.Setting(dhtSettingKey, &saved); err == nil && ok {
			if id, err := metainfo.ParseHash(saved.ID); err == nil {
				cfg.ID = id
			}
			for _, n := range saved.Nodes {
				if ni, ok := parseNode(n); ok {
					cfg.Nodes = append(cfg.Nodes, ni)
				}
			}
		}
	}
	srv, err := dht.New(cfg)
	if err != nil {
		pc.Close()
		s.log.Warn("DHT off", "err", err)
		return
	}
	srv.Start()
	s.dht, s.dhtConn = srv, pc
	s.dhtLookups = make(chan struct{}, dhtConcurrentLookups)
	s.dhtLast = make(map[metainfo.Hash]time.Time)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := s.untilClose(time.Minute)
		defer cancel()
		s.waitUDPAssociated(ctx)
		if err := srv.Bootstrap(ctx); err != nil {
			s.log.Warn("DHT bootstrap", "err", err)
		} else {
			s.log.Info("DHT bootstrapped", "nodes", srv.Stats().Nodes)
		}
		s.dhtTick() // announce what was added meanwhile
	}()
	s.wg.Add(1)
	go s.dhtLoop()
	s.log.Info("DHT node listening", "addr", pc.LocalAddr().String())
}

// waitUDPAssociated waits, behind a proxy, until its UDP association is
// up (or ctx ends), so that the DHT's bootstrap is not spent on a socket
// that cannot send yet.
func (s *Session) waitUDPAssociated(ctx context.Context) {
	if s.net.proxy == nil {
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !s.net.udpAssociated() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func parseNode(s string) (dht.NodeInfo, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			id, err := metainfo.ParseHash(s[:i])
			ap, err2 := netip.ParseAddrPort(s[i+1:])
			if err != nil || err2 != nil {
				return dht.NodeInfo{}, false
			}
			return dht.NodeInfo{ID: id, Addr: ap}, true
		}
	}
	return dht.NodeInfo{}, false
}

// saveDHT stores the node ID and good nodes for the next start.
func (s *Session) saveDHT() {
	if s.dht == nil || s.db == nil {
		return
	}
	id := s.dht.ID()
	st := dhtState{ID: metainfo.Hash(id).String()}
	for _, n := range s.dht.Nodes() {
		st.Nodes = append(st.Nodes, metainfo.Hash(n.ID).String()+"@"+n.Addr.String())
	}
	if err := s.db.PutSetting(dhtSettingKey, st); err != nil {
		s.log.Warn("save DHT nodes", "err", err)
	}
}

func (s *Session) stopDHT() {
	if s.dht == nil {
		return
	}
	s.saveDHT()
	s.dht.Close()
	s.dhtConn.Close()
}

// dhtLoop announces torrents to the DHT: hungry ones every minute, the rest
// every 15 minutes; it also saves the routing table now and then.
func (s *Session) dhtLoop() {
	defer s.wg.Done()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	save := time.NewTicker(5 * time.Minute)
	defer save.Stop()
	for {
		select {
		case <-tick.C:
			s.dhtTick()
		case <-save.C:
			s.saveDHT()
		case <-s.closeC:
			return
		}
	}
}

// dhtTick starts the announces that are due.
func (s *Session) dhtTick() {
	now := time.Now()
	s.mu.Lock()
	var due []*entry
	for h, e := range s.torrents {
		st := e.t.Stats()
		if e.t.Private() || st.State == torrent.StatePaused || st.State == torrent.StateError {
			continue
		}
		every := dhtAnnounceEvery
		if !st.HaveInfo || (st.State != torrent.StateSeeding && st.Peers < dhtHungryPeers) {
			every = dhtAnnounceHungry
		}
		if last, ok := s.dhtLast[h]; ok && now.Sub(last) < every {
			continue
		}
		s.dhtLast[h] = now
		due = append(due, e)
	}
	for h := range s.dhtLast {
		if s.torrents[h] == nil {
			delete(s.dhtLast, h)
		}
	}
	s.mu.Unlock()
	for _, e := range due {
		s.dhtAnnounce(e)
	}
}

// dhtAnnounce looks the torrent up and announces it, in the background,
// feeding the peers found to the torrent.
func (s *Session) dhtAnnounce(e *entry) {
	select {
	case s.dhtLookups <- struct{}{}:
	default:
		// Busy: forget the attempt so the next tick retries.
		s.mu.Lock()
		delete(s.dhtLast, e.t.InfoHash())
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.dhtLookups }()
		ctx, cancel := s.untilClose(dhtLookupTimeout)
		defer cancel()
		h := e.t.InfoHash()
		var peers []netip.AddrPort
		var err error
		if s.net.proxy != nil {
			// Behind a proxy nobody can connect to us: look up only.
			peers, err = s.dht.GetPeers(ctx, h)
		} else {
			peers, err = s.dht.Announce(ctx, h, uint16(s.port), true)
		}
		if errors.Is(err, dht.ErrNoNodes) {
			s.mu.Lock()
			delete(s.dhtLast, h) // not bootstrapped yet: retry soon
			s.mu.Unlock()
		} else if err != nil && ctx.Err() == nil {
			s.log.Debug("DHT announce", "info_hash", h.String(), "err", err)
		}
		if len(peers) > 0 {
			e.t.AddPeers(torrent.SourceDHT, peers)
		} else if err == nil && e.t.Stats().State != torrent.StateSeeding {
			// Nobody yet: look again soon rather than in a minute.
			s.mu.Lock()
			if _, ok := s.dhtLast[h]; ok {
				s.dhtLast[h] = time.Now().Add(dhtRetryEmpty - dhtAnnounceHungry)
			}
			s.mu.Unlock()
		}
	}()
}

// dhtRestart bootstraps the DHT again and makes every torrent's announce
// due, after the bound interface came back (its queries failed while it
// was gone).
func (s *Session) dhtRestart() {
	if s.dht == nil {
		return
	}
	s.mu.Lock()
	clear(s.dhtLast)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := s.untilClose(time.Minute)
		defer cancel()
		if err := s.dht.Bootstrap(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("DHT bootstrap after the interface came back", "err", err)
		}
		s.dhtTick()
	}()
}

// onPeerDHTPort adds a node from a peer's PORT message (BEP 5).
func (s *Session) onPeerDHTPort(addr netip.AddrPort) {
	if s.dht != nil {
		s.dht.AddNode(addr)
	}
}

// DHTStats returns the DHT node's state; ok is false when the DHT is off.
func (s *Session) DHTStats() (st dht.Stats, ok bool) {
	if s.dht == nil {
		return dht.Stats{}, false
	}
	return s.dht.Stats(), true
}
