//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package lsd

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// joinGroup makes conn a member of group on ifi (in addition to the
// interface net.ListenMulticastUDP joined), so announces arriving on any
// LAN interface are heard.
func joinGroup(conn *net.UDPConn, ifi *net.Interface, group netip.Addr) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("lsd: join %s on %s: %w", group, ifi.Name, err)
	}
	var serr error
	if group.Is4() {
		mreq := &syscall.IPMreq{Multiaddr: group.As4()}
		local, ok := interfaceIPv4(ifi)
		if !ok {
			return fmt.Errorf("lsd: join %s on %s: interface has no IPv4 address", group, ifi.Name)
		}
		mreq.Interface = local.As4()
		err = rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptIPMreq(int(fd), syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP, mreq)
		})
	} else {
		mreq := &syscall.IPv6Mreq{Multiaddr: group.As16(), Interface: uint32(ifi.Index)}
		err = rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptIPv6Mreq(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_JOIN_GROUP, mreq)
		})
	}
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("lsd: join %s on %s: %w", group, ifi.Name, err)
	}
	return nil
}

// interfaceIPv4 returns the first IPv4 address of ifi.
func interfaceIPv4(ifi *net.Interface) (netip.Addr, bool) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap().Is4() {
				return ip.Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}

// setMulticastInterface makes conn send multicast through ifi only.
func setMulticastInterface(conn *net.UDPConn, ifi *net.Interface, group netip.Addr) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("lsd: multicast interface %s: %w", ifi.Name, err)
	}
	var serr error
	if group.Is4() {
		local, ok := interfaceIPv4(ifi)
		if !ok {
			return fmt.Errorf("lsd: multicast interface %s: interface has no IPv4 address", ifi.Name)
		}
		err = rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInet4Addr(int(fd), syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, local.As4())
		})
	} else {
		err = rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_IF, ifi.Index)
		})
	}
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("lsd: multicast interface %s: %w", ifi.Name, err)
	}
	return nil
}

// onlyJoinedGroups does nothing here: BSD sockets receive only the groups
// they joined.
func onlyJoinedGroups(*net.UDPConn, netip.Addr) error { return nil }
