package session

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/gobit/gobit/internal/portmap"
)

// The IP version choices (Config.IPVersion).
const (
	IPVersionBoth = "both"
	IPVersion4    = "4"
	IPVersion6    = "6"
)

// Bounds of the external address votes.
const (
	maxVotedAddrs = 16  // addresses remembered
	maxVoters     = 256 // distinct peer IPs counted per address
	// ownIPv6Refresh is how often our global IPv6 address is looked up
	// again (addresses change with privacy extensions and prefixes).
	ownIPv6Refresh = 5 * time.Minute
)

// NetworkStatus is what GET /api/v1/session shows of the session's
// network: the IP versions used, the listen addresses, our addresses as
// peers and the router see them, and the port mapping.
type NetworkStatus struct {
	// IPVersion is "4", "6" or "both" (--ip-version).
	IPVersion string `json:"ip_version"`
	// ListenAddrs are the peer listener's addresses ("[::]:6881").
	ListenAddrs []string `json:"listen_addrs"`
	// IPv6 is our global IPv6 address, sent to peers (BEP 10 "ipv6") and
	// trackers ("ipv6="); "" when we have none.
	IPv6 string `json:"ipv6"`
	// ExternalAddrs are the addresses peers say they see us at (BEP 10
	// "yourip"), most votes first.
	ExternalAddrs []ExternalAddr `json:"external_addrs"`
	// PortMapping is the state of the router port mapping; null when it is
	// off (--no-port-mapping, or a loopback listener).
	PortMapping *portmap.Status `json:"port_mapping"`
}

// ExternalAddr is one address peers told us we have.
type ExternalAddr struct {
	// Addr is the IP address.
	Addr string `json:"addr"`
	// Votes is how many distinct peer IPs reported it (at most 256).
	Votes int `json:"votes"`
}

// validIPVersion checks Config.IPVersion.
func validIPVersion(v string) error {
	switch v {
	case "", IPVersionBoth, IPVersion4, IPVersion6:
		return nil
	}
	return fmt.Errorf("%w: IP version %q: want 4, 6 or both", ErrInvalid, v)
}

// ipNetwork returns base ("tcp", "udp") limited to the chosen IP version.
func ipNetwork(version, base string) string {
	switch version {
	case IPVersion4:
		return base + "4"
	case IPVersion6:
		return base + "6"
	}
	return base
}

// allowAddr returns the peer address filter of an IP version; nil allows
// every address.
func allowAddr(version string) func(netip.Addr) bool {
	switch version {
	case IPVersion4:
		return func(a netip.Addr) bool { return a.Unmap().Is4() }
	case IPVersion6:
		return func(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }
	}
	return nil
}

// addrVotes counts, for each address peers say we have, the distinct peer
// IPs that said so. Bounded: maxVotedAddrs addresses, maxVoters voters each.
type addrVotes struct {
	mu    sync.Mutex
	votes map[netip.Addr]map[netip.Addr]struct{}
}

// add records that peer sees us at ours.
func (v *addrVotes) add(peer netip.AddrPort, ours netip.Addr) {
	if !ours.IsValid() || ours.IsUnspecified() || ours.IsMulticast() {
		return
	}
	ours = ours.Unmap()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.votes == nil {
		v.votes = make(map[netip.Addr]map[netip.Addr]struct{})
	}
	voters := v.votes[ours]
	if voters == nil {
		if len(v.votes) >= maxVotedAddrs {
			// Forget the address with the fewest votes.
			var worst netip.Addr
			n := maxVoters + 1
			for a, vs := range v.votes {
				if len(vs) < n {
					worst, n = a, len(vs)
				}
			}
			delete(v.votes, worst)
		}
		voters = make(map[netip.Addr]struct{})
		v.votes[ours] = voters
	}
	if len(voters) < maxVoters {
		voters[peer.Addr().Unmap()] = struct{}{}
	}
}

// list returns the addresses, most votes first.
func (v *addrVotes) list() []ExternalAddr {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]ExternalAddr, 0, len(v.votes))
	for a, vs := range v.votes {
		out = append(out, ExternalAddr{Addr: a.String(), Votes: len(vs)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Votes != out[j].Votes {
			return out[i].Votes > out[j].Votes
		}
		return out[i].Addr < out[j].Addr
	})
	return out
}

// ownIPv6 caches our global IPv6 address.
type ownIPv6 struct {
	mu      sync.Mutex
	addr    netip.Addr
	checked time.Time
	lookup  func() netip.Addr
}

// get returns the address, looking it up again when the cache is old.
func (o *ownIPv6) get() netip.Addr {
	o.mu.Lock()
	defer o.mu.Unlock()
	if time.Since(o.checked) > ownIPv6Refresh {
		o.addr, o.checked = o.lookup(), time.Now()
	}
	return o.addr
}

// globalIPv6 returns a global unicast IPv6 address of this host: the
// listen address itself when it is one, else the first such address of an
// interface (unique local fc00::/7 and link-local addresses are not
// global).
func globalIPv6(listen string) netip.Addr {
	if ip, err := netip.ParseAddr(listen); err == nil {
		if isGlobal6(ip) {
			return ip
		}
		if !ip.IsUnspecified() {
			return netip.Addr{} // bound to another address: we have none to offer
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && isGlobal6(ip) {
				return ip
			}
		}
	}
	return netip.Addr{}
}

func isGlobal6(ip netip.Addr) bool {
	return ip.Is6() && !ip.Is4In6() && ip.IsGlobalUnicast() && !ip.IsPrivate()
}

// portMapWanted reports whether the port mapping should run: asked for,
// a port to map, and a listener a router could forward to (not
// loopback, where no router can reach us, nor IPv6-only: NAT-PMP and IGD
// map IPv4).
func (s *Session) portMapWanted() bool {
	if s.cfg.PortMap == nil || s.port <= 0 || s.cfg.IPVersion == IPVersion6 {
		return false
	}
	if s.cfg.Proxy != "" {
		// Peers reach us through the proxy or not at all; a port opened
		// on the router would only tell the world the address the proxy
		// hides.
		return false
	}
	if ip, err := netip.ParseAddr(s.cfg.ListenAddr); err == nil && ip.IsLoopback() {
		return false
	}
	return true
}

// startPortMap starts the router port mapping in the background.
func (s *Session) startPortMap() {
	if !s.portMapWanted() {
		if s.cfg.PortMap != nil {
			if s.cfg.Proxy != "" {
				s.log.Info("port mapping off: behind a proxy")
			} else {
				s.log.Info("port mapping off: nothing a router could forward to", "listen", s.cfg.ListenAddr, "ip_version", s.cfg.IPVersion)
			}
		}
		return
	}
	cfg := *s.cfg.PortMap
	cfg.Port = s.port
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	s.portmap = portmap.Start(cfg)
}

// Network returns the session's network state (GET /api/v1/session).
func (s *Session) Network() NetworkStatus {
	n := NetworkStatus{IPVersion: s.cfg.IPVersion, ListenAddrs: []string{}, ExternalAddrs: s.votes.list()}
	if n.IPVersion == "" {
		n.IPVersion = IPVersionBoth
	}
	if s.ln != nil {
		n.ListenAddrs = append(n.ListenAddrs, s.ln.Addr().String())
	}
	if ip := s.ipv6.get(); ip.IsValid() {
		n.IPv6 = ip.String()
	}
	if s.portmap != nil {
		st := s.portmap.Status()
		n.PortMapping = &st
	}
	return n
}

// PeerIPVersion returns 4 or 6 for a peer address ("1.2.3.4:6881",
// "[2001:db8::1]:6881"), 0 when it is not an IP address and port.
func PeerIPVersion(addr string) int {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return 0
	}
	if ap.Addr().Unmap().Is4() {
		return 4
	}
	return 6
}
