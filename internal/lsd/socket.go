package lsd

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
func openSockets(group netip.AddrPort, listen string, log *slog.Logger) (sockets, error) {
	network := "udp4"
	if group.Addr().Is6() {
		network = "udp6"
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
