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
	pc := &PacketConn{udp: u, ctrl: c, relay: bound}
	go pc.watch()
	return pc, nil
}

// watch closes the association when the proxy closes the control
// connection (the association ends with it, RFC 1928 §7).
func (pc *PacketConn) watch() {
	io.Copy(io.Discard, io.LimitReader(pc.ctrl, 1<<16))
	pc.Close()
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
	hdr, err := appendAddr(make([]byte, 3, 3+maxUDPHeader+len(b)), addr)
	if err != nil {
		return 0, err
	}
	if _, err := pc.udp.WriteToUDPAddrPort(append(hdr, b...), pc.relay); err != nil {
		return 0, err
	}
	return len(b), nil
}

// ReadFromUDPAddrPort reads the next datagram the relay forwards. Datagrams
// from anything but the relay, fragments (unsupported) and those naming
// their source by domain are dropped.
func (pc *PacketConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	buf := make([]byte, len(b)+maxUDPHeader+3)
	for {
		n, from, err := pc.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return 0, netip.AddrPort{}, err
		}
		if netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) != netip.AddrPortFrom(pc.relay.Addr().Unmap(), pc.relay.Port()) {
			continue
		}
		if n < 4 || buf[2] != 0 { // RSV, FRAG
			continue
		}
		r := bytes.NewReader(buf[3:n])
		src, name, err := readAddr(r)
		if err != nil || name != "" {
			continue
		}
		m := copy(b, buf[n-r.Len():n])
		return m, src, nil
	}
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
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return nil
	}
	pc.closed = true
	pc.mu.Unlock()
	return errors.Join(pc.ctrl.Close(), pc.udp.Close())
}

// LocalAddr returns the local socket's address.
func (pc *PacketConn) LocalAddr() net.Addr { return pc.udp.LocalAddr() }

// SetDeadline sets the local socket's deadlines.
func (pc *PacketConn) SetDeadline(t time.Time) error { return pc.udp.SetDeadline(t) }

// SetReadDeadline sets the local socket's read deadline.
func (pc *PacketConn) SetReadDeadline(t time.Time) error { return pc.udp.SetReadDeadline(t) }

// SetWriteDeadline sets the local socket's write deadline.
func (pc *PacketConn) SetWriteDeadline(t time.Time) error { return pc.udp.SetWriteDeadline(t) }

var _ net.PacketConn = (*PacketConn)(nil)
