package utp

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// linuxDF switches a UDP socket's path-MTU discovery mode (IP_MTU_DISCOVER
// and IPV6_MTU_DISCOVER) around a send.
type linuxDF struct {
	rc     syscall.RawConn
	v4, v6 bool // the levels the socket takes
	def4   int  // the modes it had (restored after a send)
	def6   int
	mode   dfMode
}

func newDFControl(c *net.UDPConn) dfControl {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	d := &linuxDF{rc: rc}
	if err := rc.Control(func(fd uintptr) {
		if v, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER); err == nil {
			d.v4, d.def4 = true, v
		}
		if v, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER); err == nil {
			d.v6, d.def6 = true, v
		}
	}); err != nil || !d.v4 && !d.v6 {
		return nil
	}
	// Check that the probe mode can be set (a sandbox may refuse).
	if d.set(dfProbe) != nil || d.set(dfDefault) != nil {
		return nil
	}
	return d
}

// set puts the socket in mode m.
func (d *linuxDF) set(m dfMode) error {
	if m == d.mode {
		return nil
	}
	m4, m6 := d.def4, d.def6
	switch m {
	case dfProbe: // don't fragment, whatever the kernel knows of the path
		m4, m6 = unix.IP_PMTUDISC_PROBE, unix.IPV6_PMTUDISC_PROBE
	case dfFragment: // may be fragmented (by routers too, on IPv4)
		m4, m6 = unix.IP_PMTUDISC_DONT, unix.IPV6_PMTUDISC_DONT
	}
	var serr error
	err := d.rc.Control(func(fd uintptr) {
		if d.v4 {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, m4)
		}
		if d.v6 && serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, m6)
		}
	})
	if err == nil {
		err = serr
	}
	if err == nil {
		d.mode = m
	}
	return err
}

// isMsgSize reports whether err is the kernel's refusal of a datagram
// larger than the interface's MTU with don't-fragment set.
func isMsgSize(err error) bool { return errors.Is(err, unix.EMSGSIZE) }
