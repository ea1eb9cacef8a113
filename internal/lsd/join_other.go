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
