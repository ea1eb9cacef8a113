package utp

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// memNet is an in-memory datagram network with seeded loss, duplication
// and reordering (a random delay of up to jitter per packet).
type memNet struct {
	mu      sync.Mutex
	rng     *rand.Rand
	loss    float64
	dup     float64
	reorder float64
	jitter  time.Duration
	eps     map[netip.AddrPort]*memConn
	// drop, when set, drops what it returns true for.
	drop func(from, to netip.AddrPort, b []byte) bool
	sent int
}

func newMemNet(seed uint64) *memNet {
	return &memNet{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), eps: make(map[netip.AddrPort]*memConn), jitter: 2 * time.Millisecond}
}

func (n *memNet) listen(addr string) *memConn {
	ap := netip.MustParseAddrPort(addr)
	c := &memConn{n: n, addr: ap, q: make(chan datagram, 4096), rdl: newDeadline(), closeC: make(chan struct{})}
	n.mu.Lock()
	n.eps[ap] = c
	n.mu.Unlock()
	return c
}

type memConn struct {
	n      *memNet
	addr   netip.AddrPort
	q      chan datagram
	rdl    *deadline
	once   sync.Once
	closeC chan struct{}
}

func (c *memConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.q:
		return copy(b, d.b), net.UDPAddrFromAddrPort(d.addr), nil
	case <-c.closeC:
		return 0, nil, net.ErrClosed
	case <-c.rdl.wait():
		return 0, nil, os.ErrDeadlineExceeded
	}
}

func (c *memConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closeC:
		return 0, net.ErrClosed
	default:
	}
	ap := addr.(*net.UDPAddr).AddrPort()
	n := c.n
	n.mu.Lock()
	dst := n.eps[ap]
	n.sent++
	copies := 1
	if n.rng.Float64() < n.loss || n.drop != nil && n.drop(c.addr, ap, b) {
		copies = 0
	} else if n.rng.Float64() < n.dup {
		copies = 2
	}
	var delays []time.Duration
	for range copies {
		var d time.Duration
		if n.rng.Float64() < n.reorder {
			d = time.Duration(n.rng.Int64N(int64(n.jitter)) + 1)
		}
		delays = append(delays, d)
	}
	n.mu.Unlock()
	if dst == nil {
		return len(b), nil
	}
	for _, d := range delays {
		dg := datagram{append([]byte(nil), b...), c.addr}
		if d == 0 {
			dst.deliver(dg)
		} else {
			time.AfterFunc(d, func() { dst.deliver(dg) })
		}
	}
	return len(b), nil
}

func (c *memConn) deliver(d datagram) {
	select {
	case c.q <- d:
	default:
	}
}

func (c *memConn) Close() error {
	c.once.Do(func() {
		close(c.closeC)
		c.n.mu.Lock()
		delete(c.n.eps, c.addr)
		c.n.mu.Unlock()
	})
	return nil
}

func (c *memConn) LocalAddr() net.Addr                { return net.UDPAddrFromAddrPort(c.addr) }
func (c *memConn) SetDeadline(t time.Time) error      { return c.SetReadDeadline(t) }
func (c *memConn) SetReadDeadline(t time.Time) error  { c.rdl.set(t); return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }
