package dht

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// Peer store limits.
const (
	// PeerTTL is how long an announced peer is kept.
	PeerTTL = 30 * time.Minute
	// maxInfoHashes bounds the number of info hashes stored.
	maxInfoHashes = 4096
	// maxStoredPeers bounds the peers stored over all info hashes.
	maxStoredPeers = 50000
	// maxValuesPerReply bounds the peers returned in one get_peers answer
	// (50 IPv6 peers is 950 bytes, well inside one UDP packet).
	maxValuesPerReply = 50
)

// peerStore keeps the peers announced to us, per info hash, with expiry. It
// is safe for concurrent use.
type peerStore struct {
	mu      sync.Mutex
	perHash int
	swarms  map[[20]byte]map[netip.AddrPort]time.Time // peer -> expiry
	total   int
}

// newPeerStore returns an empty store keeping at most perHash peers per
// info hash.
func newPeerStore(perHash int) *peerStore {
	return &peerStore{perHash: perHash, swarms: make(map[[20]byte]map[netip.AddrPort]time.Time)}
}

// add stores peer for infoHash until now+PeerTTL. When the info hash is at
// its cap the peer expiring first is replaced; when the store is full
// overall the peer is dropped. It reports whether the peer is stored.
func (p *peerStore) add(infoHash [20]byte, peer netip.AddrPort, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	sw := p.swarms[infoHash]
	if sw == nil {
		if len(p.swarms) >= maxInfoHashes || p.total >= maxStoredPeers {
			return false
		}
		sw = make(map[netip.AddrPort]time.Time)
		p.swarms[infoHash] = sw
	}
	if _, ok := sw[peer]; ok {
		sw[peer] = now.Add(PeerTTL)
		return true
	}
	if len(sw) >= p.perHash {
		var oldest netip.AddrPort
		var exp time.Time
		for a, e := range sw {
			if exp.IsZero() || e.Before(exp) {
				oldest, exp = a, e
			}
		}
		delete(sw, oldest)
		p.total--
	} else if p.total >= maxStoredPeers {
		return false
	}
	sw[peer] = now.Add(PeerTTL)
	p.total++
	return true
}

// get returns up to max unexpired peers of infoHash, a random selection if
// there are more.
func (p *peerStore) get(infoHash [20]byte, max int, now time.Time) []netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []netip.AddrPort
	for a, e := range p.swarms[infoHash] {
		if now.Before(e) {
			out = append(out, a)
		}
	}
	if len(out) > max {
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		out = out[:max]
	}
	return out
}

// expire drops peers whose time has passed and empty info hashes.
func (p *peerStore) expire(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for h, sw := range p.swarms {
		for a, e := range sw {
			if !now.Before(e) {
				delete(sw, a)
				p.total--
			}
		}
		if len(sw) == 0 {
			delete(p.swarms, h)
		}
	}
}

// counts returns the number of info hashes and peers stored.
func (p *peerStore) counts() (hashes, peers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.swarms), p.total
}
