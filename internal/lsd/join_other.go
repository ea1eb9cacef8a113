//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package lsd

import (
	"errors"
	"net"
	"net/netip"
)

// joinGroup is not supported on this platform: only the interface
// net.ListenMulticastUDP joined (the default one) hears announces.
func joinGroup(_ *net.UDPConn, _ *net.Interface, _ netip.Addr) error {
	return errors.ErrUnsupported
}

// setMulticastInterface is not supported on this platform, so LSD cannot
// be confined to one interface.
func setMulticastInterface(*net.UDPConn, *net.Interface, netip.Addr) error {
	return errors.ErrUnsupported
}

func onlyJoinedGroups(*net.UDPConn, netip.Addr) error { return nil }
