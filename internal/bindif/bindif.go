// Package bindif binds sockets to one network interface or address
// (--bind-interface), so that traffic cannot leave by another way: a
// VPN's kill switch.
//
// An interface named on Linux, as root (CAP_NET_RAW), is bound with
// SO_BINDTODEVICE: a socket sends and receives only through that device,
// whatever the routing table says, and fails (ENODEV, "no such device")
// once the device is gone; it never falls back to another interface.
// Elsewhere, or without the privilege, a named interface is bound by its
// address, looked up at each socket. An address given as such is bound
// as is: the kernel refuses the bind once no interface holds it.
//
// Check tells whether the binding can currently be used; the session
// reports its error as the network error in its status and log.
//
// A socket bound to a device stays bound to that device, even once it is
// deleted and another is created under the same name (a VPN reconnecting):
// PacketConn and Listener are sockets that follow the interface, closed
// by Down while it is gone and opened anew on it by Up when it is back
// (Identity tells a new device from the old one), so that their users
// (uTP, the DHT, the accept loop) carry on. Conns tracks the connections
// to close when the interface goes.
package bindif

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// Binder binds sockets to an interface or an address. A nil *Binder binds
// nothing.
type Binder struct {
	spec   string     // as given
	name   string     // interface name (empty when an address was given)
	addr   netip.Addr // the address given (invalid when a name was)
	device bool       // bind with SO_BINDTODEVICE
}

// ErrGone means the bound interface (or address) no longer exists.
var ErrGone = errors.New("bound network interface is gone")

// Parse returns the Binder for spec: an interface name or an IP address.
// A name must exist now; binding by device is used when the process may.
func Parse(spec string) (*Binder, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	if a, err := netip.ParseAddr(spec); err == nil {
		return &Binder{spec: spec, addr: a.Unmap()}, nil
	}
	if _, err := net.InterfaceByName(spec); err != nil {
		return nil, fmt.Errorf("--bind-interface %q: not an IP address nor an interface of this host: %w", spec, err)
	}
	return &Binder{spec: spec, name: spec, device: canBindDevice(spec)}, nil
}

// String returns the interface or address bound to, and how.
func (b *Binder) String() string {
	if b == nil {
		return ""
	}
	switch {
	case b.device:
		return b.name + " (SO_BINDTODEVICE)"
	case b.name != "":
		return b.name + " (by its address)"
	}
	return b.addr.String()
}

// Spec returns the interface or address as given.
func (b *Binder) Spec() string {
	if b == nil {
		return ""
	}
	return b.spec
}

// Device reports whether sockets are bound with SO_BINDTODEVICE.
func (b *Binder) Device() bool { return b != nil && b.device }

// Check reports whether the binding can be used now: the interface exists
// and is up, or the address is held by an interface. Its error wraps
// ErrGone.
func (b *Binder) Check() error {
	if b == nil {
		return nil
	}
	if b.name != "" {
		ifi, err := net.InterfaceByName(b.name)
		if err != nil {
			return fmt.Errorf("%w: %s: traffic stopped until it returns (--bind-interface)", ErrGone, b.name)
		}
		if ifi.Flags&net.FlagUp == 0 {
			return fmt.Errorf("%w: %s is down: traffic stopped until it is up (--bind-interface)", ErrGone, b.name)
		}
		if !b.device {
			if _, err := b.address(false); err != nil {
				if _, err6 := b.address(true); err6 != nil {
					return fmt.Errorf("%w: %s has no address: traffic stopped (--bind-interface)", ErrGone, b.name)
				}
			}
		}
		return nil
	}
	if !held(b.addr) {
		return fmt.Errorf("%w: no interface holds %s: traffic stopped until one does (--bind-interface)", ErrGone, b.addr)
	}
	return nil
}

// held reports whether an interface of this host has address a.
func held(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		if p, err := netip.ParsePrefix(ia.String()); err == nil && p.Addr().Unmap() == a {
			return true
		}
	}
	return false
}

// address returns the address to bind a socket of the family to: the one
// given, or the interface's first of that family.
func (b *Binder) address(v6 bool) (netip.Addr, error) {
	if b.name == "" {
		if b.addr.Is6() != v6 {
			return netip.Addr{}, fmt.Errorf("--bind-interface %s: cannot reach an IPv%d address from it", b.addr, map[bool]int{false: 4, true: 6}[v6])
		}
		return b.addr, nil
	}
	ifi, err := net.InterfaceByName(b.name)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: %s", ErrGone, b.name)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, ia := range addrs {
		p, err := netip.ParsePrefix(ia.String())
		if err != nil {
			continue
		}
		a := p.Addr().Unmap()
		if a.Is6() == v6 && !a.IsLinkLocalUnicast() {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("--bind-interface %s: no IPv%d address on it", b.name, map[bool]int{false: 4, true: 6}[v6])
}

// ListenHost returns the host a listener (TCP peer port, DHT's UDP) binds:
// the address given, or the interface's address of the family of host
// (IPv4 when host is empty), so the listener works again when the address
// comes back. With no Binder it returns host unchanged.
func (b *Binder) ListenHost(host string) (string, error) {
	if b == nil {
		return host, nil
	}
	v6 := false
	if a, err := netip.ParseAddr(host); err == nil {
		v6 = a.Is6() && !a.Is4In6()
	}
	a, err := b.address(v6)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

// Control is a net.Dialer / net.ListenConfig Control function: it binds
// the socket to the device, or (for dials, network "tcp4", "udp6" …) to
// the interface's address of the socket's family. It fails, and so the
// socket is never used, when the interface is gone.
func (b *Binder) Control(network, address string, c syscall.RawConn) error {
	if b == nil {
		return nil
	}
	if b.device {
		if err := bindDevice(c, b.name); err != nil {
			return fmt.Errorf("bind to interface %s: %w (%w)", b.name, err, ErrGone)
		}
		return nil
	}
	return nil
}

// Dialer returns a net.Dialer bound as Control and LocalAddr say, for
// connections to the address family of target ("host:port" with an IP
// host; IPv4 otherwise).
func (b *Binder) Dialer(network, target string) (*net.Dialer, error) {
	d := &net.Dialer{}
	if b == nil {
		return d, nil
	}
	d.Control = b.Control
	if !b.device {
		v6 := false
		if ap, err := netip.ParseAddrPort(target); err == nil {
			v6 = ap.Addr().Is6() && !ap.Addr().Is4In6()
		}
		a, err := b.address(v6)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(network, "udp") {
			d.LocalAddr = &net.UDPAddr{IP: a.AsSlice()}
		} else {
			d.LocalAddr = &net.TCPAddr{IP: a.AsSlice()}
		}
	}
	return d, nil
}

// ListenUDP opens a UDP socket bound like the dials (for tracker and proxy
// associations), on laddr's port.
func (b *Binder) ListenUDP(network string, laddr *net.UDPAddr) (*net.UDPConn, error) {
	if b == nil {
		return net.ListenUDP(network, laddr)
	}
	lc := net.ListenConfig{Control: b.Control}
	host := ""
	if !b.device {
		a, err := b.address(network == "udp6")
		if err != nil {
			return nil, err
		}
		host = a.String()
	} else if laddr != nil && laddr.IP != nil && !laddr.IP.IsUnspecified() {
		host = laddr.IP.String()
	}
	port := 0
	if laddr != nil {
		port = laddr.Port
	}
	pc, err := lc.ListenPacket(contextBackground(), network, net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}
