package socks5

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// maxUDPHeader is the longest SOCKS UDP request header (a 255-byte
// domain).
const maxUDPHeader = 4 + 1 + 255 + 2

// maxDatagram is the largest UDP payload; a datagram's buffers are this
// long plus its SOCKS header.
const maxDatagram = 65535

// ErrAssociationClosed means the proxy ended the UDP association: it closed
// the control connection (or it failed), and the association ends with it
// (RFC 1928 §7).
var ErrAssociationClosed = errors.New("socks5: the proxy closed the UDP association's control connection")

// bufPool holds the buffers of datagrams being framed or unframed.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 3+maxUDPHeader+maxDatagram); return &b }}

// PacketConn is a UDP association through a proxy: datagrams written to
// it go to the proxy's relay with a SOCKS header naming their target, and
// datagrams read from it are those the relay forwards back, from the
// addresses they came from. The association lasts while its control
// connection stays open; when the proxy closes it, reads and writes fail.
type PacketConn struct {
	udp   *net.UDPConn
	ctrl  net.Conn
	relay netip.AddrPort

	mu     sync.Mutex
	closed bool
	// done is closed when the association ends; cause says why.
	done  chan struct{}
	cause error
}

// ListenPacket opens a UDP association with the proxy (UDP ASSOCIATE).
// ErrUDPNotSupported means the proxy refused it.
func (p *Proxy) ListenPacket(ctx context.Context) (*PacketConn, error) {
	c, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	proxyIP := netip.IPv4Unspecified()
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		proxyIP = ap.Addr().Unmap()
	}
	network, laddr := "udp4", &net.UDPAddr{IP: net.IPv4zero}
	if proxyIP.Is6() {
		network, laddr = "udp6", &net.UDPAddr{IP: net.IPv6unspecified}
	}
	// The local end: bound to the address the control connection uses,
	// so it leaves by the same way.
	if ap, err := netip.ParseAddrPort(c.LocalAddr().String()); err == nil {
		laddr = &net.UDPAddr{IP: ap.Addr().AsSlice()}
	}
	listen := p.ListenUDP
	if listen == nil {
		listen = net.ListenUDP
	}
	u, err := listen(network, laddr)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("socks5: UDP socket: %w", err)
	}
	// Tell the proxy where our datagrams come from.
	local := u.LocalAddr().(*net.UDPAddr).AddrPort()
	bound, err := p.request(ctx, c, cmdUDP, netip.AddrPortFrom(local.Addr().Unmap(), local.Port()).String())
	if err != nil {
		c.Close()
		u.Close()
		return nil, err
	}
	if !bound.Addr().IsValid() || bound.Addr().IsUnspecified() {
		bound = netip.AddrPortFrom(proxyIP, bound.Port())
	}
	pc := &PacketConn{udp: u, ctrl: c, relay: bound, done: make(chan struct{})}
	go pc.watch()
	return pc, nil
}

// watch closes the association when the proxy closes the control
// connection (the association ends with it, RFC 1928 §7). The proxy sends
// nothing on it after its reply: a byte is a protocol error, and ends it
// too.
func (pc *PacketConn) watch() {
	var b [1]byte
	_, err := pc.ctrl.Read(b[:])
	if err == nil || errors.Is(err, io.EOF) {
		err = ErrAssociationClosed
	} else {
		err = fmt.Errorf("%w: %w", ErrAssociationClosed, err)
	}
	pc.end(err)
}

// end closes the association for cause (the first cause is kept).
func (pc *PacketConn) end(cause error) error {
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return nil
	}
	pc.closed = true
	pc.cause = cause
	close(pc.done)
	pc.mu.Unlock()
	return errors.Join(pc.ctrl.Close(), pc.udp.Close())
}

// Done is closed when the association has ended: closed, or ended by the
// proxy (Err says which).
func (pc *PacketConn) Done() <-chan struct{} { return pc.done }

// Err returns why the association ended (net.ErrClosed after Close,
// ErrAssociationClosed when the proxy ended it), nil while it lasts.
func (pc *PacketConn) Err() error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.cause
}

// Relay returns the proxy's relay address datagrams are sent to.
func (pc *PacketConn) Relay() netip.AddrPort { return pc.relay }

// WriteToUDPAddrPort sends b to addr through the relay.
func (pc *PacketConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return pc.writeTo(b, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()).String())
}

// WriteToHost sends b to host:port through the relay; a host name is
// resolved by the proxy.
func (pc *PacketConn) WriteToHost(b []byte, hostport string) (int, error) {
	return pc.writeTo(b, hostport)
}

func (pc *PacketConn) writeTo(b []byte, addr string) (int, error) {
	if len(b) > maxDatagram {
		return 0, fmt.Errorf("socks5: datagram of %d bytes", len(b))
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	hdr, err := appendAddr(append((*bp)[:0], 0, 0, 0), addr) // RSV, FRAG 0
	if err != nil {
		return 0, err
	}
	if _, err := pc.udp.WriteToUDPAddrPort(append(hdr, b...), pc.relay); err != nil {
		return 0, pc.ended(err)
	}
	return len(b), nil
}

// ended returns the association's end as the error of a failed read or
// write, when it has ended.
func (pc *PacketConn) ended(err error) error {
	select {
	case <-pc.done:
		if c := pc.Err(); c != nil && !errors.Is(c, net.ErrClosed) {
			return fmt.Errorf("%w (%w)", c, net.ErrClosed)
		}
	default:
	}
	return err
}

// ReadFromUDPAddrPort reads the next datagram the relay forwards. Datagrams
// from anything but the relay, fragments (unsupported), those with a bad
// header and those naming their source by domain are dropped. A datagram
// longer than b is truncated. Once the association has ended, the error
// wraps net.ErrClosed (and ErrAssociationClosed when the proxy ended it).
func (pc *PacketConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	relay := netip.AddrPortFrom(pc.relay.Addr().Unmap(), pc.relay.Port())
	for {
		n, from, err := pc.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return 0, netip.AddrPort{}, pc.ended(err)
		}
		if netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) != relay {
			continue
		}
		src, payload, ok := parseUDP(buf[:n])
		if !ok {
			continue
		}
		return copy(b, payload), src, nil
	}
}

// parseUDP splits a relayed datagram into its source and payload. It
// refuses a short datagram, a non-zero RSV, a fragment (FRAG != 0: this
// client does not reassemble), an unknown address type, a source named
// by domain (the relay must say which address a datagram came from) and
// an address running past the end.
func parseUDP(d []byte) (src netip.AddrPort, payload []byte, ok bool) {
	if len(d) < 4 || d[0] != 0 || d[1] != 0 || d[2] != 0 {
		return src, nil, false
	}
	r := bytes.NewReader(d[3:])
	src, name, err := readAddr(r)
	if err != nil || name != "" || !src.Addr().IsValid() {
		return netip.AddrPort{}, nil, false
	}
	return src, d[len(d)-r.Len():], true
}

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (pc *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("socks5: WriteTo %T", addr)
	}
	return pc.WriteToUDPAddrPort(b, ua.AddrPort())
}

// ReadFrom implements net.PacketConn.
func (pc *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := pc.ReadFromUDPAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// Close ends the association: the control connection and the socket.
func (pc *PacketConn) Close() error {
	return pc.end(net.ErrClosed)
}

// LocalAddr returns the local socket's address.
func (pc *PacketConn) LocalAddr() net.Addr { return pc.udp.LocalAddr() }

// SetReadBuffer sets the local socket's receive buffer size.
func (pc *PacketConn) SetReadBuffer(bytes int) error { return pc.udp.SetReadBuffer(bytes) }

// SetWriteBuffer sets the local socket's send buffer size.
func (pc *PacketConn) SetWriteBuffer(bytes int) error { return pc.udp.SetWriteBuffer(bytes) }

// SetDeadline sets the local socket's deadlines.
func (pc *PacketConn) SetDeadline(t time.Time) error { return pc.udp.SetDeadline(t) }

// SetReadDeadline sets the local socket's read deadline.
func (pc *PacketConn) SetReadDeadline(t time.Time) error { return pc.udp.SetReadDeadline(t) }

// SetWriteDeadline sets the local socket's write deadline.
func (pc *PacketConn) SetWriteDeadline(t time.Time) error { return pc.udp.SetWriteDeadline(t) }

var _ net.PacketConn = (*PacketConn)(nil)
