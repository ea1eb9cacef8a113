package lsd

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// joinGroup makes conn a member of group on ifi, named by its index
// (ip_mreqn / ipv6_mreq), in addition to any interface joined before.
func joinGroup(conn *net.UDPConn, ifi *net.Interface, group netip.Addr) error {
	err := control(conn, func(fd int) error {
		if group.Is4() {
			return unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP,
				&unix.IPMreqn{Multiaddr: group.As4(), Ifindex: int32(ifi.Index)})
		}
		return unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP,
			&unix.IPv6Mreq{Multiaddr: group.As16(), Interface: uint32(ifi.Index)})
	})
	if err != nil {
		return fmt.Errorf("lsd: join %s on %s: %w", group, ifi.Name, err)
	}
	return nil
}

// setMulticastInterface makes conn send multicast through ifi only
// (IP_MULTICAST_IF with the interface index; IPV6_MULTICAST_IF).
func setMulticastInterface(conn *net.UDPConn, ifi *net.Interface, group netip.Addr) error {
	err := control(conn, func(fd int) error {
		if group.Is4() {
			return unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF,
				&unix.IPMreqn{Ifindex: int32(ifi.Index)})
		}
		return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifi.Index)
	})
	if err != nil {
		return fmt.Errorf("lsd: multicast interface %s: %w", ifi.Name, err)
	}
	return nil
}

// onlyJoinedGroups turns IP_MULTICAST_ALL off: conn then receives only
// the groups it joined itself, not those other sockets joined on other
// interfaces.
func onlyJoinedGroups(conn *net.UDPConn, group netip.Addr) error {
	return control(conn, func(fd int) error {
		if group.Is4() {
			return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
		}
		return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0)
	})
}

// control runs f on conn's descriptor.
func control(conn *net.UDPConn, f func(fd int) error) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
