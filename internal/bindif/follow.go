package bindif

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Interface returns the interface bound to: the one named, or the one that
// holds the address given. Its error wraps ErrGone.
func (b *Binder) Interface() (*net.Interface, error) {
	if b == nil {
		return nil, errors.New("bindif: no interface bound")
	}
	if b.name != "" {
		ifi, err := net.InterfaceByName(b.name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrGone, b.name)
		}
		return ifi, nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for i := range ifs {
		addrs, err := ifs[i].Addrs()
		if err != nil {
			continue
		}
		for _, ia := range addrs {
			if p, err := netip.ParsePrefix(ia.String()); err == nil && p.Addr().Unmap() == b.addr {
				return &ifs[i], nil
			}
		}
	}
	return nil, fmt.Errorf("%w: no interface holds %s", ErrGone, b.addr)
}

// Identity names the bound interface as it is now: its index and
// addresses ("" while it is gone). It changes when the interface is
// removed and created again (a VPN reconnecting gets a new index, even
// under the same name and address) or its addresses change: sockets bound
// to the old one never carry traffic again and must be opened anew.
func (b *Binder) Identity() string {
	if b == nil {
		return ""
	}
	ifi, err := b.Interface()
	if err != nil {
		return ""
	}
	var as []string
	if addrs, err := ifi.Addrs(); err == nil {
		for _, a := range addrs {
			as = append(as, a.String())
		}
	}
	slices.Sort(as)
	return fmt.Sprintf("%d %s %s", ifi.Index, ifi.Name, strings.Join(as, ","))
}

// follower is what PacketConn and Listener share: the socket below, which
// Down closes and Up opens again, and a channel closed at every change
// (waiters then look again).
type follower[T interface{ Close() error }] struct {
	open   func() (T, error)
	mu     sync.Mutex
	cur    T
	up     bool
	closed bool
	wake   chan struct{}
}

func (f *follower[T]) init(open func() (T, error)) error {
	c, err := open()
	if err != nil {
		return err
	}
	f.open, f.cur, f.up, f.wake = open, c, true, make(chan struct{})
	return nil
}

// changed wakes the waiters; f.mu is held.
func (f *follower[T]) changed() {
	close(f.wake)
	f.wake = make(chan struct{})
}

// get returns the socket (ok false while down), the channel closed at the
// next change, and net.ErrClosed after Close.
func (f *follower[T]) get() (c T, ok bool, wake chan struct{}, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return c, false, nil, net.ErrClosed
	}
	return f.cur, f.up, f.wake, nil
}

// current reports whether c is still the socket in use.
func (f *follower[T]) current(c T) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.up && !f.closed && any(f.cur) == any(c)
}

// Down closes the socket below: until Up, reads and accepts wait and
// writes fail with ErrGone. Nothing is sent meanwhile.
func (f *follower[T]) Down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || !f.up {
		return
	}
	f.cur.Close()
	f.up = false
	f.changed()
}

// Up opens a new socket below (closing the old one, if any: it is bound to
// an interface that is no more). On failure the socket stays down.
func (f *follower[T]) Up() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return net.ErrClosed
	}
	if f.up {
		f.cur.Close()
		f.up = false
		f.changed()
	}
	c, err := f.open()
	if err != nil {
		return err
	}
	f.cur, f.up = c, true
	f.changed()
	return nil
}

// Close closes the socket for good.
func (f *follower[T]) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	var err error
	if f.up {
		err = f.cur.Close()
	}
	f.changed()
	return err
}

// PacketConn is a UDP socket that follows the bound interface: Down
// closes the socket below when the interface goes (writes then fail with
// ErrGone, reads wait), Up opens a new one on the interface when it is
// back. Its users (uTP, the DHT) keep their state across.
type PacketConn struct {
	f     follower[net.PacketConn]
	rdl   time.Time // read deadline, guarded by f.mu
	laddr net.Addr
}

// NewPacketConn opens a socket with open and follows the interface with
// it; open must bind the same port each time.
func NewPacketConn(open func() (net.PacketConn, error)) (*PacketConn, error) {
	p := &PacketConn{}
	if err := p.f.init(open); err != nil {
		return nil, err
	}
	p.laddr = p.f.cur.LocalAddr()
	return p, nil
}

// Down closes the socket below until Up.
func (p *PacketConn) Down() { p.f.Down() }

// Up opens the socket below again.
func (p *PacketConn) Up() error {
	if err := p.f.Up(); err != nil {
		return err
	}
	p.f.mu.Lock()
	p.laddr = p.f.cur.LocalAddr()
	if !p.rdl.IsZero() {
		p.f.cur.SetReadDeadline(p.rdl)
	}
	p.f.mu.Unlock()
	return nil
}

// ReadFrom reads the next datagram, waiting across Down and Up.
func (p *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		c, ok, wake, err := p.f.get()
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			p.f.mu.Lock()
			dl := p.rdl
			p.f.mu.Unlock()
			if err := waitOrDeadline(wake, dl); err != nil {
				return 0, nil, err
			}
			continue
		}
		n, addr, err := c.ReadFrom(b)
		if err != nil && !p.f.current(c) {
			continue // closed by Down, Up or Close: look again
		}
		return n, addr, err
	}
}

// waitOrDeadline waits for wake, or fails once the deadline dl (zero:
// none) has passed.
func waitOrDeadline(wake chan struct{}, dl time.Time) error {
	if dl.IsZero() {
		<-wake
		return nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// WriteTo sends b to addr, or fails with ErrGone while down.
func (p *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c, ok, _, err := p.f.get()
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: ErrGone}
	}
	return c.WriteTo(b, addr)
}

// Close closes the socket for good.
func (p *PacketConn) Close() error { return p.f.Close() }

// LocalAddr returns the address of the socket below (the last one).
func (p *PacketConn) LocalAddr() net.Addr {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	return p.laddr
}

// SetDeadline sets the read deadline (writes never block for long).
func (p *PacketConn) SetDeadline(t time.Time) error { return p.SetReadDeadline(t) }

// SetReadDeadline sets the read deadline, kept across Down and Up.
func (p *PacketConn) SetReadDeadline(t time.Time) error {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	p.rdl = t
	if p.f.up && !p.f.closed {
		p.f.cur.SetReadDeadline(t)
	}
	if !p.f.closed {
		p.f.changed()
	}
	return nil
}

// SetWriteDeadline sets the write deadline of the socket below.
func (p *PacketConn) SetWriteDeadline(t time.Time) error {
	c, ok, _, err := p.f.get()
	if err != nil || !ok {
		return err
	}
	return c.SetWriteDeadline(t)
}

// Listener is a stream listener that follows the bound interface like
// PacketConn: Accept waits while it is down.
type Listener struct {
	f     follower[net.Listener]
	laddr net.Addr
}

// NewListener opens a listener with open and follows the interface with
// it; open must bind the same port each time.
func NewListener(open func() (net.Listener, error)) (*Listener, error) {
	l := &Listener{}
	if err := l.f.init(open); err != nil {
		return nil, err
	}
	l.laddr = l.f.cur.Addr()
	return l, nil
}

// Down closes the listener below until Up.
func (l *Listener) Down() { l.f.Down() }

// Up opens the listener below again.
func (l *Listener) Up() error {
	if err := l.f.Up(); err != nil {
		return err
	}
	l.f.mu.Lock()
	l.laddr = l.f.cur.Addr()
	l.f.mu.Unlock()
	return nil
}

// Accept waits for the next connection, across Down and Up.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, ok, wake, err := l.f.get()
		if err != nil {
			return nil, err
		}
		if !ok {
			<-wake
			continue
		}
		nc, err := c.Accept()
		if err != nil && !l.f.current(c) {
			continue
		}
		return nc, err
	}
}

// Close closes the listener for good.
func (l *Listener) Close() error { return l.f.Close() }

// Addr returns the address of the listener below (the last one).
func (l *Listener) Addr() net.Addr {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	return l.laddr
}

// Conns holds the connections made through the binding, so that they can
// all be closed when the interface goes: with it goes every connection
// bound to it, and closing them at once lets their users reconnect when
// it is back instead of waiting minutes for a timeout.
type Conns struct {
	mu sync.Mutex
	m  map[*conn]struct{}
}

// Track returns nc, remembered until it is closed.
func (cs *Conns) Track(nc net.Conn) net.Conn {
	c := &conn{Conn: nc, set: cs}
	cs.mu.Lock()
	if cs.m == nil {
		cs.m = make(map[*conn]struct{})
	}
	cs.m[c] = struct{}{}
	cs.mu.Unlock()
	return c
}

// CloseAll closes every connection tracked and returns how many.
func (cs *Conns) CloseAll() int {
	cs.mu.Lock()
	all := make([]*conn, 0, len(cs.m))
	for c := range cs.m {
		all = append(all, c)
	}
	cs.mu.Unlock()
	for _, c := range all {
		c.Close()
	}
	return len(all)
}

// Len returns how many connections are tracked.
func (cs *Conns) Len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.m)
}

type conn struct {
	net.Conn
	set  *Conns
	once sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.m, c)
		c.set.mu.Unlock()
	})
	return c.Conn.Close()
}
