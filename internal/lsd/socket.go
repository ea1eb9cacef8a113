package lsd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"syscall"
)

// sockets are the UDP sockets of one LSD instance.
type sockets struct {
	recv *net.UDPConn // reads announces
	send *net.UDPConn // writes announces; the same as recv for a unicast group
}

// close closes both sockets once each.
func (s sockets) close() error {
	err := s.recv.Close()
	if s.send != s.recv {
		err = errors.Join(err, s.send.Close())
	}
	return err
}

// openSockets opens the sockets for group.
//
// For a multicast group the receive socket is bound to the group's port
// and joins the group on the default interface (net.ListenMulticastUDP)
// and on every other up, multicast-capable interface. Announces go out
// through a separate unbound socket, whose IP_MULTICAST_LOOP stays at its
// default (on) so other clients on this host hear us; our own announces
// come back too and are dropped by the cookie check. (Go turns loopback
// off on sockets made by net.ListenMulticastUDP, which is why sending uses
// another socket.) listen is ignored for multicast groups.
//
// For a unicast group (tests) one plain UDP socket bound to listen both
// sends and receives.
//
// With ifi (a bound interface) see openBound.
func openSockets(group netip.AddrPort, listen string, ifi *net.Interface, control func(string, string, syscall.RawConn) error, log *slog.Logger) (sockets, error) {
	network := "udp4"
	if group.Addr().Is6() {
		network = "udp6"
	}
	if ifi != nil {
		return openBound(network, group, listen, ifi, control, log)
	}
	if !group.Addr().IsMulticast() {
		laddr, err := net.ResolveUDPAddr(network, listen)
		if err != nil {
			return sockets{}, fmt.Errorf("lsd: listen address %q: %w", listen, err)
		}
		c, err := net.ListenUDP(network, laddr)
		if err != nil {
			return sockets{}, fmt.Errorf("lsd: listen on %s: %w", listen, err)
		}
		return sockets{recv: c, send: c}, nil
	}

	gaddr := net.UDPAddrFromAddrPort(group)
	recv, err := net.ListenMulticastUDP(network, nil, gaddr)
	if err != nil {
		return sockets{}, fmt.Errorf("lsd: join multicast group %s: %w", group, err)
	}
	joinOtherInterfaces(recv, group.Addr(), log)
	send, err := net.ListenUDP(network, nil)
	if err != nil {
		recv.Close()
		return sockets{}, fmt.Errorf("lsd: open send socket for %s: %w", group, err)
	}
	return sockets{recv: recv, send: send}, nil
}

// joinOtherInterfaces joins group on every up, multicast-capable,
// non-loopback interface. The default interface is already a member, so
// the kernel refuses it; that and any other failure is only logged.
func joinOtherInterfaces(conn *net.UDPConn, group netip.Addr, log *slog.Logger) {
	ifs, err := net.Interfaces()
	if err != nil {
		log.Debug("lsd: list interfaces", "err", err)
		return
	}
	for i := range ifs {
		ifi := &ifs[i]
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		if err := joinGroup(conn, ifi, group); err != nil {
			log.Debug("lsd: join group on interface", "iface", ifi.Name, "err", err)
		}
	}
}

// openBound opens the sockets of an LSD confined to ifi. For a multicast
// group the receive socket (control applied, then bound to the group's
// port) joins the group on ifi only, and where the platform allows it
// hears no group joined by other sockets on other interfaces
// (IP_MULTICAST_ALL off); the send socket has ifi as its multicast
// interface (IP_MULTICAST_IF). Any failure to confine a socket is an
// error: LSD must not talk on another interface. A unicast group (tests)
// uses one socket bound to listen, with control applied.
func openBound(network string, group netip.AddrPort, listen string, ifi *net.Interface, control func(string, string, syscall.RawConn) error, log *slog.Logger) (sockets, error) {
	lc := net.ListenConfig{Control: control}
	ctx := context.Background()
	if !group.Addr().IsMulticast() {
		pc, err := lc.ListenPacket(ctx, network, listen)
		if err != nil {
			return sockets{}, fmt.Errorf("lsd: listen on %s (interface %s): %w", listen, ifi.Name, err)
		}
		c := pc.(*net.UDPConn)
		return sockets{recv: c, send: c}, nil
	}
	// A multicast address makes the listener bind the wildcard address
	// at the group's port with SO_REUSEADDR, as net.ListenMulticastUDP.
	pc, err := lc.ListenPacket(ctx, network, group.String())
	if err != nil {
		return sockets{}, fmt.Errorf("lsd: listen for group %s on %s: %w", group, ifi.Name, err)
	}
	recv := pc.(*net.UDPConn)
	if err := joinGroup(recv, ifi, group.Addr()); err != nil {
		recv.Close()
		return sockets{}, err
	}
	if err := onlyJoinedGroups(recv, group.Addr()); err != nil {
		log.Debug("lsd: cannot turn off IP_MULTICAST_ALL", "err", err)
	}
	pc, err = lc.ListenPacket(ctx, network, ":0")
	if err != nil {
		recv.Close()
		return sockets{}, fmt.Errorf("lsd: open send socket on %s: %w", ifi.Name, err)
	}
	send := pc.(*net.UDPConn)
	if err := setMulticastInterface(send, ifi, group.Addr()); err != nil {
		recv.Close()
		send.Close()
		return sockets{}, err
	}
	return sockets{recv: recv, send: send}, nil
}
