package dht

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Lookup bounds.
const (
	// Alpha is the number of queries a lookup keeps in flight.
	Alpha = 3
	// maxLookupCandidates bounds the candidates a lookup remembers.
	maxLookupCandidates = 64
	// maxLookupQueries bounds the queries one lookup sends.
	maxLookupQueries = 128
	// maxLookupPeers bounds the peers one lookup collects.
	maxLookupPeers = 2000
	// resolveTimeout bounds the resolution of one bootstrap host name.
	resolveTimeout = 5 * time.Second
)

// candidate states in a lookup.
const (
	candNew = iota
	candInFlight
	candAnswered
	candFailed
)

// candidate is a node a lookup knows of.
type candidate struct {
	NodeInfo
	knownID bool // false for bootstrap addresses until they answer
	state   int
	token   string
}

// lookupResult is the outcome of an iterative lookup.
type lookupResult struct {
	peers   []netip.AddrPort
	closest []*candidate // up to K answered nodes closest to the target
	queries int
}

// lookupReply is what one query of a lookup returns to the coordinator.
type lookupReply struct {
	c   *candidate
	msg *Msg
	err error
}

// lookup runs an iterative find_node or get_peers for target: it keeps
// Alpha queries in flight to the closest candidates not yet asked, adds the
// nodes each answer names, and stops when the K closest candidates that did
// not fail have all answered, or after maxLookupQueries queries. seeds are
// the starting nodes; addrs are starting addresses whose IDs are unknown
// (bootstrap nodes), asked first.
func (s *Server) lookup(ctx context.Context, target [20]byte, method string, seeds []NodeInfo, addrs []netip.AddrPort) *lookupResult {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := &lookupResult{}
	var cands []*candidate
	byAddr := make(map[netip.AddrPort]bool)
	byID := make(map[[20]byte]bool)
	add := func(n NodeInfo, known bool) {
		if !validNodeAddr(n.Addr) || !s.reachable(n.Addr) || byAddr[n.Addr] || (known && (byID[n.ID] || n.ID == s.self)) {
			return
		}
		byAddr[n.Addr] = true
		if known {
			byID[n.ID] = true
		}
		cands = append(cands, &candidate{NodeInfo: n, knownID: known})
	}
	for _, a := range addrs {
		add(NodeInfo{ID: target, Addr: a}, false) // sorts first until it answers
	}
	for _, n := range seeds {
		add(n, true)
	}
	sortCands := func() {
		slices.SortStableFunc(cands, func(a, b *candidate) int {
			if distanceLess(target, a.ID, b.ID) {
				return -1
			}
			if distanceLess(target, b.ID, a.ID) {
				return 1
			}
			return 0
		})
		// Forget the farthest candidates not in flight beyond the bound.
		for len(cands) > maxLookupCandidates {
			i := len(cands) - 1
			for i >= K && cands[i].state == candInFlight {
				i--
			}
			if i < K {
				break
			}
			cands = slices.Delete(cands, i, i+1)
		}
	}
	sortCands()

	peerSet := make(map[netip.AddrPort]bool)
	replies := make(chan lookupReply, Alpha)
	inFlight := 0
	for {
		// Launch queries to the closest unasked candidates among the K
		// closest that have not failed.
		for inFlight < Alpha && res.queries < maxLookupQueries {
			var next *candidate
			window := 0
			for _, c := range cands {
				if c.state == candFailed {
					continue
				}
				if window++; window > K {
					break
				}
				if c.state == candNew {
					next = c
					break
				}
			}
			if next == nil {
				break
			}
			next.state = candInFlight
			inFlight++
			res.queries++
			go func(c *candidate) {
				a := &Args{}
				if method == "get_peers" {
					a.InfoHash = string(target[:])
				} else {
					a.Target = string(target[:])
				}
				if s.localV4 && s.localV6 {
					a.Want = []string{"n4", "n6"}
				}
				id := c.ID
				if !c.knownID {
					id = [20]byte{}
				}
				m, err := s.query(ctx, c.Addr, id, method, a)
				replies <- lookupReply{c: c, msg: m, err: err}
			}(next)
		}
		if inFlight == 0 {
			break
		}
		var r lookupReply
		select {
		case r = <-replies:
		case <-ctx.Done():
			return s.finishLookup(res, cands, peerSet)
		}
		inFlight--
		if r.err != nil {
			r.c.state = candFailed
			continue
		}
		r.c.state = candAnswered
		var rid [20]byte
		copy(rid[:], r.msg.R.ID)
		if rid == s.self {
			r.c.state = candFailed
			continue
		}
		if !r.c.knownID || rid != r.c.ID {
			if byID[rid] {
				r.c.state = candFailed // a duplicate of a node we know
				continue
			}
			r.c.ID, r.c.knownID = rid, true
			byID[rid] = true
		}
		r.c.token = r.msg.R.Token
		for _, p := range decodePeers(r.msg.R.Values) {
			if len(peerSet) < maxLookupPeers {
				peerSet[p] = true
			}
		}
		if s.localV4 {
			for _, n := range decodeNodes(r.msg.R.Nodes, compactNode4Len) {
				add(n, true)
			}
		}
		if s.localV6 {
			for _, n := range decodeNodes(r.msg.R.Nodes6, compactNode6Len) {
				add(n, true)
			}
		}
		sortCands()
	}
	return s.finishLookup(res, cands, peerSet)
}

// finishLookup fills in the result's peers and closest answered nodes.
func (s *Server) finishLookup(res *lookupResult, cands []*candidate, peerSet map[netip.AddrPort]bool) *lookupResult {
	for p := range peerSet {
		res.peers = append(res.peers, p)
	}
	for _, c := range cands {
		if c.state == candAnswered && len(res.closest) < K {
			res.closest = append(res.closest, c)
		}
	}
	return res
}

// startNodes returns the table's nodes closest to target and, if there are
// fewer than K of them, the resolved bootstrap addresses too.
func (s *Server) startNodes(ctx context.Context, target [20]byte) ([]NodeInfo, []netip.AddrPort) {
	s.mu.Lock()
	seeds := s.table.closest(target, 2*K)
	s.mu.Unlock()
	if len(seeds) >= K {
		return seeds, nil
	}
	for _, n := range s.cfg.Nodes {
		if !slices.ContainsFunc(seeds, func(o NodeInfo) bool { return o.ID == n.ID }) {
			seeds = append(seeds, n)
		}
	}
	return seeds, s.resolveBootstrap(ctx)
}

// resolveBootstrap resolves Config.Bootstrap, each name within
// resolveTimeout, skipping names that fail.
func (s *Server) resolveBootstrap(ctx context.Context) []netip.AddrPort {
	var out []netip.AddrPort
	for _, hp := range s.cfg.Bootstrap {
		if ap, err := netip.ParseAddrPort(hp); err == nil {
			out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
			continue
		}
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			s.log.Debug("dht bootstrap address", "addr", hp, "err", err)
			continue
		}
		pn, err := net.LookupPort("udp", port)
		if err != nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		var ips []netip.Addr
		if s.cfg.LookupNetIP != nil {
			ips, err = s.cfg.LookupNetIP(rctx, host)
		} else {
			ips, err = net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		}
		cancel()
		if err != nil {
			s.log.Debug("dht bootstrap resolve", "host", host, "err", err)
			continue
		}
		for _, ip := range ips {
			out = append(out, netip.AddrPortFrom(ip.Unmap(), uint16(pn)))
		}
	}
	return out
}

// Bootstrap fills the routing table: it looks up our own ID starting from
// the table, the saved Config.Nodes and the Config.Bootstrap nodes, retrying
// a few times while no node answers. It returns ErrNoNodes if the table is
// still empty.
func (s *Server) Bootstrap(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		seeds, addrs := s.startNodes(ctx, s.self)
		if len(seeds) == 0 && len(addrs) == 0 {
			return fmt.Errorf("dht: bootstrap: no bootstrap nodes: %w", ErrNoNodes)
		}
		s.lookup(ctx, s.self, "find_node", seeds, addrs)
		if s.Stats().Nodes > 0 {
			return nil
		}
		if attempt == 2 {
			return fmt.Errorf("dht: bootstrap: %w", ErrNoNodes)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dht: bootstrap: %w", ctx.Err())
		case <-s.closeC:
			return ErrClosed
		case <-time.After(time.Second):
		}
	}
}

// GetPeers looks up the peers of infoHash: an iterative get_peers that
// converges on the K closest nodes that answer and collects the peers all of
// them return (plus those announced to this node). It returns ErrNoNodes if
// there was no node to ask.
func (s *Server) GetPeers(ctx context.Context, infoHash [20]byte) ([]netip.AddrPort, error) {
	res, err := s.getPeers(ctx, infoHash)
	if err != nil {
		return nil, err
	}
	return res.peers, nil
}

// getPeers runs the get_peers lookup and merges the local peer store.
func (s *Server) getPeers(ctx context.Context, infoHash [20]byte) (*lookupResult, error) {
	if s.closed() {
		return nil, ErrClosed
	}
	seeds, addrs := s.startNodes(ctx, infoHash)
	if len(seeds) == 0 && len(addrs) == 0 {
		return nil, fmt.Errorf("dht: get_peers: %w", ErrNoNodes)
	}
	res := s.lookup(ctx, infoHash, "get_peers", seeds, addrs)
	for _, p := range s.peers.get(infoHash, maxValuesPerReply, time.Now()) {
		if !slices.Contains(res.peers, p) {
			res.peers = append(res.peers, p)
		}
	}
	if len(res.closest) == 0 && len(res.peers) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("dht: get_peers: %w", err)
		}
		return nil, fmt.Errorf("dht: get_peers: no node answered: %w", ErrNoNodes)
	}
	return res, nil
}

// Announce tells the DHT that we are a peer of infoHash listening on port
// (or, if impliedPort, on the UDP source port of our queries): it runs the
// get_peers lookup, then sends announce_peer with the returned tokens to
// the K closest nodes that answered. It returns the peers found on the way,
// and an error wrapping ErrNoNodes if no node accepted the announce.
func (s *Server) Announce(ctx context.Context, infoHash [20]byte, port uint16, impliedPort bool) ([]netip.AddrPort, error) {
	res, err := s.getPeers(ctx, infoHash)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	var lastErr error
	for _, c := range res.closest {
		if c.token == "" {
			continue
		}
		a := &Args{InfoHash: string(infoHash[:]), Port: int64(port), Token: c.token}
		if impliedPort {
			a.ImpliedPort = 1
		}
		wg.Add(1)
		go func(n NodeInfo) {
			defer wg.Done()
			_, err := s.query(ctx, n.Addr, n.ID, "announce_peer", a)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				lastErr = err
				return
			}
			ok++
		}(c.NodeInfo)
	}
	wg.Wait()
	if ok == 0 {
		if lastErr == nil {
			lastErr = errors.New("no node returned a token")
		}
		return res.peers, fmt.Errorf("dht: announce: %w: %w", ErrNoNodes, lastErr)
	}
	return res.peers, nil
}
